"""BM25 postings built from documents met a chunk at a time, without holding their terms (issue 19).

bm25s indexes a list of every document's terms, all in memory: at a million abstracts that is some 200 million
term strings as Python objects, more than this machine has. :class:`LexicalBuilder` takes the documents a chunk
at a time instead and keeps only numbers: each term gets an id in a growing vocabulary, and each chunk becomes
three small arrays (term id, count in the document, terms per document), spilled to a scratch folder when one is
given. At the end, the document frequencies and lengths are known and the chunks are read back one at a time to
fill the score matrix (a counting sort: each term's column gets its documents in row order) and, from the same
counts, every document's key terms (:meth:`LexicalIndex.key_terms`, vectorised).

What comes out is what bm25s makes (``bm25s.BM25(method="lucene")``): the same scores for every (document,
term), computed with the same operations in the same floating-point types, in the same CSC arrays, with bm25s's
``""`` placeholder for an empty document; tests build corpora both ways and compare. One thing differs: bm25s
numbers the terms in the iteration order of a Python set (which changes with the process's hash seed); here
they are numbered in sorted order, so a build is reproducible byte for byte and a term's column is its rank.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

from .lexical_index import (
    ARRAY_FILES,
    K1,
    KEY_MAX_TERMS,
    KEY_MIN_COUNT,
    PARAMS_FILE,
    VOCAB_FILE,
    B,
    LexicalIndex,
    SortedTerms,
    average_length,
)
from .tokenizer import BOILERPLATE_TERMS

#: bm25s's placeholder token for a document without terms.
PLACEHOLDER = ""
#: The dtype of ``np.float64 scalar + float32 array``: bm25s adds a document's length norm (a numpy float64) to
#: its float32 term counts, so its score arithmetic is float64 under NumPy 2's promotion and float32 before.
_NORM_DTYPE = (np.float64(1.0) + np.ones(1, dtype=np.float32)).dtype


@dataclass(frozen=True)
class _Chunk:
    """Where one chunk's postings are: in memory (``arrays``) or in the spill files (offsets)."""

    n_docs: int
    n_postings: int
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    offset: int = 0  # postings before this chunk (the spill files' offsets)
    doc_offset: int = 0


class LexicalBuilder:
    """Documents' terms in, BM25 (Lucene variant, bm25s's arrays) and key terms out (see the module docstring).

    ``spill``: a folder for the chunks' postings (created, and removed by :meth:`finish`); without one they stay
    in memory (small corpora, tests)."""

    def __init__(self, *, k1: float = K1, b: float = B, spill: Path | None = None) -> None:
        self.k1, self.b = k1, b
        self._ids: dict[str, int] = {}  # term → id in order of first appearance (renumbered sorted at the end)
        self._df = np.zeros(0, dtype=np.int64)
        self._lengths: list[np.ndarray] = []  # terms per document as given (0: empty, the placeholder stands in)
        self._chunks: list[_Chunk] = []
        self._postings = 0
        self._docs = 0
        self._spill = spill
        if spill is not None:
            spill.mkdir(parents=True, exist_ok=True)

    @property
    def n_docs(self) -> int:
        return self._docs

    def add(self, documents: Sequence[Sequence[str]]) -> None:
        """The next documents (rows continue from the previous chunk)."""
        if not documents:
            return
        ids = self._ids
        sizes = np.fromiter((len(tokens) for tokens in documents), dtype=np.int64, count=len(documents))
        tokens = (token for terms in documents for token in (terms or (PLACEHOLDER,)))
        flat = np.fromiter((ids.setdefault(token, len(ids)) for token in tokens), dtype=np.int64)
        rows = np.repeat(np.arange(len(documents), dtype=np.int64), np.maximum(sizes, 1))
        keys, counts = np.unique((rows << 32) | flat, return_counts=True)  # by row, then term id: (term, tf) pairs
        terms = (keys & 0xFFFFFFFF).astype(np.int32)
        per_doc = np.bincount(keys >> 32, minlength=len(documents)).astype(np.int32)
        tf = counts.astype(np.uint32)
        if len(ids) > len(self._df):
            self._df = np.concatenate((self._df, np.zeros(len(ids) - len(self._df), dtype=np.int64)))
        self._df += np.bincount(terms, minlength=len(ids))
        self._lengths.append(sizes)
        arrays = (terms, tf, per_doc)
        chunk = _Chunk(len(documents), len(terms), None if self._spill else arrays, self._postings, self._docs)
        if self._spill is not None:
            for name, array in zip(("terms", "tf", "per_doc"), arrays, strict=True):
                with (self._spill / name).open("ab") as handle:
                    handle.write(np.ascontiguousarray(array.astype(_SPILL_DTYPES[name])).tobytes())
        self._chunks.append(chunk)
        self._postings += len(terms)
        self._docs += len(documents)

    def parameters(self) -> dict[str, float]:
        """:meth:`LexicalIndex.parameters` of the documents added so far."""
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        return average_length(lengths.tolist())

    def finish(
        self,
        folder: Path | None = None,
        *,
        key_terms: IO[str] | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> LexicalIndex:
        """The index of every document added: written into ``folder`` as :meth:`LexicalIndex.save` writes it
        (the arrays filled in place, memory-mapped) and loaded from there, or held in memory without a folder.
        Each document's key terms go to ``key_terms`` as a JSON line, in row order. ``on_chunk(n)`` reports
        documents done."""
        try:
            return self._finish(folder, key_terms, on_chunk)
        finally:
            if self._spill is not None:
                shutil.rmtree(self._spill, ignore_errors=True)

    def _finish(
        self, folder: Path | None, key_terms: IO[str] | None, on_chunk: Callable[[int], None] | None
    ) -> LexicalIndex:
        n_docs = self._docs
        if n_docs == 0:
            raise ValueError("a lexical index needs at least one document")
        vocabulary = sorted(self._ids)
        old_of_new = np.fromiter((self._ids[term] for term in vocabulary), dtype=np.int64, count=len(vocabulary))
        self._ids = {}  # the sorted list holds the terms from here on
        renumber = np.empty(len(vocabulary), dtype=np.int64)
        renumber[old_of_new] = np.arange(len(vocabulary), dtype=np.int64)
        df = self._df[old_of_new]
        given = np.concatenate(self._lengths)
        lengths = np.maximum(given, 1)  # bm25s counts the placeholder of an empty document
        average = lengths.mean()  # as bm25s computes it: a numpy float64
        idf = _idf(df, n_docs)
        scores_idf = idf.astype(np.float32)  # bm25s keeps the IDFs as float32
        key_idf = idf.copy()
        if vocabulary and vocabulary[0] == PLACEHOLDER:  # LexicalIndex.idf counts no document for ""
            key_idf[0] = math.log(1 + (n_docs + 0.5) / 0.5)
        boilerplate = np.fromiter(
            (not BOILERPLATE_TERMS.isdisjoint(term.split()) for term in vocabulary), dtype=bool, count=len(vocabulary)
        )
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        data, indices = self._score_arrays(folder, self._postings)
        heads = indptr[:-1].copy()  # the next free place in each term's column
        norms = self.k1 * ((1 - self.b) + self.b * lengths / average)  # bm25s's length norm, per document
        for chunk in self._chunks:
            terms_old, tf, per_doc = self._read(chunk)
            terms = renumber[terms_old]
            rows = np.repeat(np.arange(chunk.n_docs, dtype=np.int64), per_doc)
            counts = tf.astype(np.float32)
            norm = norms[chunk.doc_offset + rows].astype(_NORM_DTYPE)
            scores = (scores_idf[terms] * (counts / (norm + counts))).astype(np.float32)
            order = np.argsort(terms, kind="stable")  # by term, rows ascending within each
            ordered = terms[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            run = np.diff(np.r_[starts, len(ordered)])
            places = heads[ordered] + (np.arange(len(ordered)) - np.repeat(starts, run))
            heads[ordered[starts]] += run
            data[places] = scores[order]
            indices[places] = (rows[order] + chunk.doc_offset).astype(np.int32)
            if key_terms is not None:
                empty = given[chunk.doc_offset : chunk.doc_offset + chunk.n_docs] == 0
                _write_key_terms(key_terms, vocabulary, terms, tf, rows, empty, key_idf, boilerplate)
            if on_chunk is not None:
                on_chunk(chunk.n_docs)
        self._chunks = []
        vocab = dict(zip(vocabulary, range(len(vocabulary)), strict=True)) if folder is None else None
        if folder is None:
            assert vocab is not None
            vocab.setdefault(PLACEHOLDER, len(vocabulary))  # bm25s names its placeholder even when unused
            return LexicalIndex({"data": data, "indices": indices, "indptr": indptr}, vocab, n_docs)
        for array in (data, indices):
            array.flush()  # type: ignore[attr-defined]
        del data, indices
        np.save(folder / ARRAY_FILES["indptr"], indptr)
        _write_vocab(folder, vocabulary)
        _write_params(folder, self.k1, self.b, n_docs)
        SortedTerms.write_sorted(folder, vocabulary)
        return LexicalIndex.load(folder, n_docs=n_docs)

    @staticmethod
    def _score_arrays(folder: Path | None, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The score matrix's data (float32) and row numbers (int32), as bm25s types them: in memory, or the
        ``.npy`` files of ``folder`` mapped and filled in place (no second copy to save)."""
        if folder is None:
            return np.empty(size, dtype=np.float32), np.empty(size, dtype=np.int32)
        folder.mkdir(parents=True, exist_ok=True)
        open_memmap = np.lib.format.open_memmap
        return (
            open_memmap(folder / ARRAY_FILES["data"], mode="w+", dtype=np.float32, shape=(size,)),
            open_memmap(folder / ARRAY_FILES["indices"], mode="w+", dtype=np.int32, shape=(size,)),
        )

    def _read(self, chunk: _Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if chunk.arrays is not None:
            return chunk.arrays
        assert self._spill is not None
        read = []
        for name, count, offset in (
            ("terms", chunk.n_postings, chunk.offset),
            ("tf", chunk.n_postings, chunk.offset),
            ("per_doc", chunk.n_docs, chunk.doc_offset),
        ):
            dtype = _SPILL_DTYPES[name]
            read.append(np.fromfile(self._spill / name, dtype=dtype, count=count, offset=offset * dtype.itemsize))
        return read[0], read[1], read[2]


#: The spill files' element types (term counts in a document are at most 2^32 - 1).
_SPILL_DTYPES = {"terms": np.dtype(np.int32), "tf": np.dtype(np.uint32), "per_doc": np.dtype(np.int32)}


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """The Lucene IDF of every term, with Python's ``math.log`` as bm25s and :meth:`LexicalIndex.idf` compute
    it (once per distinct document frequency: a few thousand logs for millions of terms)."""
    distinct, inverse = np.unique(df, return_inverse=True)
    values = [math.log(1 + (n_docs - int(f) + 0.5) / (int(f) + 0.5)) for f in distinct.tolist()]
    return np.asarray(values, dtype=np.float64)[inverse].reshape(-1)


def _write_key_terms(
    handle: IO[str],
    vocabulary: Sequence[str],
    terms: np.ndarray,
    tf: np.ndarray,
    rows: np.ndarray,
    empty: np.ndarray,
    idf: np.ndarray,
    boilerplate: np.ndarray,
) -> None:
    """:meth:`LexicalIndex.key_terms` of a chunk's documents (default arguments) from their (term, count) pairs:
    boilerplate dropped, terms seen once dropped when a document has at least 5 repeated ones, ranked by
    ``-count * idf`` then by the term (its number, the vocabulary being sorted), the first 25 kept."""
    n_docs = len(empty)
    counts = tf.astype(np.int64)
    kept = ~boilerplate[terms] & ~empty[rows]  # an empty document has no terms, only bm25s's placeholder
    repeated = kept & (counts >= KEY_MIN_COUNT)
    enough = np.bincount(rows[repeated], minlength=n_docs) >= 5
    pool = np.flatnonzero(kept & (repeated | ~enough[rows]))
    score = -counts[pool].astype(np.float64) * idf[terms[pool]]
    order = pool[np.lexsort((terms[pool], score, rows[pool]))]
    ranked_rows = rows[order]
    starts = np.searchsorted(ranked_rows, np.arange(n_docs))
    chosen = order[np.arange(len(order)) - starts[ranked_rows] < KEY_MAX_TERMS]
    per_doc = np.bincount(rows[chosen], minlength=n_docs).tolist()
    chosen_terms = terms[chosen].tolist()
    position = 0
    for size in per_doc:
        picked = [vocabulary[term] for term in chosen_terms[position : position + size]]
        handle.write(json.dumps(picked, ensure_ascii=False) + "\n")
        position += size


def _write_vocab(folder: Path, vocabulary: Sequence[str]) -> None:
    """bm25s's ``vocab.index.json`` (``json.dumps(vocab, ensure_ascii=False)``), written a term at a time, its
    placeholder last when no document needed it."""
    with (folder / VOCAB_FILE).open("w", encoding="utf-8") as handle:
        handle.write("{")
        for column, term in enumerate(vocabulary):
            handle.write(f"{', ' if column else ''}{json.dumps(term, ensure_ascii=False)}: {column}")
        if not vocabulary or vocabulary[0] != PLACEHOLDER:
            handle.write(f"{', ' if vocabulary else ''}{json.dumps(PLACEHOLDER)}: {len(vocabulary)}")
        handle.write("}")


def _write_params(folder: Path, k1: float, b: float, n_docs: int) -> None:
    """bm25s's ``params.index.json``, so a version can still be opened with ``bm25s.BM25.load``."""
    params: dict[str, Any] = {
        "k1": k1,
        "b": b,
        "delta": 0.5,
        "method": "lucene",
        "idf_method": "lucene",
        "dtype": "float32",
        "int_dtype": "int32",
        "num_docs": n_docs,
        "version": _bm25s_version(),
        "backend": "numpy",
    }
    with (folder / PARAMS_FILE).open("w") as handle:
        json.dump(params, handle, indent=4)


def _bm25s_version() -> str:
    try:
        return metadata.version("bm25s")
    except metadata.PackageNotFoundError:
        return "0.0.0"
