"""BM25 over the biomedical tokenizer's tokens, in bm25s's format (its Lucene variant).

The BM25 score of every (token, document) pair is computed once, at build time, as a sparse matrix (CSC
arrays), so scoring a query is a sum of a few columns: fast enough to score the whole corpus for every query
and fuse with dense scores. The matrix is what bm25s makes, computed by :mod:`recommender.lexical_build` a
chunk of documents at a time (bm25s holds every document's terms in memory; it remains the tests' reference).
A built index is read and queried from those arrays with numpy alone, as bm25s itself sums them: bm25s (and
scipy) load in about half a second, which a fresh CLI process should not pay.
For paper-to-paper relatedness the query is the paper's most distinctive terms
(:meth:`LexicalIndex.key_terms`, the "more like this" idea), not all of its words.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import IndexCorruptError
from .mapped import map_array, map_lines
from .tokenizer import BOILERPLATE_TERMS

if TYPE_CHECKING:
    from scipy import sparse

#: The files of a built index, as bm25s names them (``bm25s.BM25.save``).
ARRAY_FILES = {"data": "data.csc.index.npy", "indices": "indices.csc.index.npy", "indptr": "indptr.csc.index.npy"}
VOCAB_FILE = "vocab.index.json"
PARAMS_FILE = "params.index.json"
#: The vocabulary again, sorted, for lookups through a memory map (:class:`SortedTerms`): the terms one per
#: line in UTF-8 byte order, and their columns in the same order.
_SORTED_TERMS = "vocab.sorted.txt"
_SORTED_COLUMNS = "vocab.sorted.npy"
#: Term lookups remembered by a loaded index (:class:`SortedTerms`).
LOOKUP_CACHE = 1 << 16
#: BM25 parameters (bm25s's defaults, Lucene's too).
K1 = 1.2
B = 0.75
#: :meth:`LexicalIndex.key_terms`: terms kept, and the count from which a term is "repeated".
KEY_MAX_TERMS = 25
KEY_MIN_COUNT = 2


class LexicalIndex:
    """BM25 (Lucene variant) over pre-tokenised documents."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        vocab: Mapping[str, int],
        n_docs: int,
    ) -> None:
        self.n_docs = n_docs
        self._vocab = vocab
        # A CSC matrix: for token t, the documents holding it are indices[indptr[t]:indptr[t+1]], with their
        # BM25 scores in data[indptr[t]:indptr[t+1]].
        self._data = np.asarray(arrays["data"], dtype=np.float32)
        self._indptr = np.asarray(arrays["indptr"])
        self._indices = np.asarray(arrays["indices"])
        # A token's document frequency is the length of its column: every document holding it has a positive
        # BM25 score for it (the Lucene IDF is positive), so none is left out of the column.
        self._columns = len(self._indptr) - 1
        # A related query looks up a few hundred terms (scores, bound, explanations, each hit's terms), the
        # same ones again and again across queries: each term's column and its bounds are kept.
        self._entry = lru_cache(maxsize=LOOKUP_CACHE)(self._find_entry)

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], *, k1: float = K1, b: float = B) -> LexicalIndex:
        """The index of ``documents`` in memory, as bm25s would make it (:mod:`recommender.lexical_build`; a
        version's build streams its papers through the same builder)."""
        from .lexical_build import LexicalBuilder

        builder = LexicalBuilder(k1=k1, b=b)
        builder.add(documents)
        return builder.finish()

    def scores(self, query_tokens: Sequence[str], scale: Callable[[str], float] | None = None) -> np.ndarray:
        """BM25 score of every document for the query (repeated query tokens count repeatedly): the sum of the
        query tokens' columns, one token after another, as bm25s's own numpy scorer adds them. ``scale`` gives
        a factor per token (another IDF for the same term counts: :mod:`recommender.segments`)."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        for token in query_tokens:
            if (entry := self._entry(token)) is not None:
                _, start, end = entry
                column = self._data[start:end]
                scores[self._indices[start:end]] += column if scale is None else column * np.float32(scale(token))
        return scores

    def contains(self, token: str, row: int) -> bool:
        """Whether document ``row`` holds ``token`` (a binary search in the token's column of the index)."""
        entry = self._entry(token)
        if entry is None:
            return False
        _, start, end = entry
        position = start + np.searchsorted(self._indices[start:end], row)
        return bool(position < end and self._indices[position] == row)

    def holders(self, token: str, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` hold ``token`` (one vectorised binary search for all of them)."""
        entry = self._entry(token)
        if entry is None:
            return np.zeros(len(rows), dtype=bool)
        column = self._indices[entry[1] : entry[2]]
        positions = np.minimum(np.searchsorted(column, rows), max(len(column) - 1, 0))
        return column[positions] == rows if len(column) else np.zeros(len(rows), dtype=bool)

    def score_matrix(self) -> sparse.csc_matrix:
        """BM25 score of every (document, term) pair: documents × vocabulary, as bm25s stores it."""
        from scipy import sparse

        return sparse.csc_matrix((self._data, self._indices, self._indptr), shape=(self.n_docs, len(self._indptr) - 1))

    def vocabulary(self) -> list[str]:
        """Index terms by column number of :meth:`score_matrix`."""
        terms = [""] * (len(self._indptr) - 1)
        for token, token_id in self._vocab.items():
            if token_id < len(terms):  # bm25s appends a placeholder id for "" beyond the matrix
                terms[token_id] = token
        return terms

    def query_matrix(self, queries: Sequence[Sequence[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Queries as rows over the vocabulary (repeated terms count repeatedly), and each query's bound."""
        from scipy import sparse

        vocab = self._vocab
        rows, cols, counts = [], [], []
        for row, tokens in enumerate(queries):
            for token, count in Counter(t for t in tokens if self._column(t) is not None).items():
                rows.append(row)
                cols.append(vocab[token])
                counts.append(count)
        matrix = sparse.csr_matrix(
            (np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(queries), len(self._indptr) - 1)
        )
        bounds = np.array([self.upper_bound(tokens) for tokens in queries], dtype=np.float64)
        return matrix, bounds

    def _column(self, token: str) -> int | None:
        """The token's column in the index, or None for a token no document holds."""
        entry = self._entry(token)
        return None if entry is None else entry[0]

    def _find_entry(self, token: str) -> tuple[int, int, int] | None:
        """The token's column and the bounds of its postings, or None for a token no document holds ("" is
        the placeholder bm25s puts in empty documents, sometimes with a column, sometimes with an id beyond
        the matrix)."""
        token_id = self._vocab.get(token) if token else None
        if token_id is None or token_id >= self._columns:
            return None
        start, end = int(self._indptr[token_id]), int(self._indptr[token_id + 1])
        return None if start == end else (token_id, start, end)

    def document_frequency(self, token: str) -> int:
        """How many documents use the token."""
        entry = self._entry(token)
        return 0 if entry is None else entry[2] - entry[1]

    def idf(self, token: str) -> float:
        frequency = self.document_frequency(token)
        return math.log(1 + (self.n_docs - frequency + 0.5) / (frequency + 0.5))

    def upper_bound(self, query_tokens: Sequence[str]) -> float:
        """The highest BM25 score any document could reach for this query.

        In the Lucene variant each term contributes ``idf * tf / (tf + k1 * norm)``, below ``idf``; the
        bound is the sum of the query terms' IDFs (repeated terms counted repeatedly).
        """
        return float(sum(self.idf(token) for token in query_tokens if self._entry(token) is not None))

    def is_common(self, token: str, share: float = 0.5, min_docs: int = 10) -> bool:
        """Used by more than ``share`` of the documents: no evidence of relatedness ("cells", "cancer")."""
        return self.n_docs >= min_docs and self.document_frequency(token) > share * self.n_docs

    def key_terms(
        self,
        tokens: Sequence[str],
        *,
        max_terms: int = KEY_MAX_TERMS,
        min_count: int = KEY_MIN_COUNT,
        max_repeat: int = 1,
    ) -> list[str]:
        """The document's most distinctive terms by tf·idf ("more like this"), boilerplate left out.

        Terms seen once are dropped when the document has enough repeated terms: in an abstract, what the
        paper is about is said more than once. Each term is repeated up to ``max_repeat`` times by its count.
        A build computes the same for every paper at once, vectorised (:mod:`recommender.lexical_build`).
        """
        counts = Counter(tokens)  # count first, then drop boilerplate: once per distinct term, not per use
        for token in [token for token in counts if not BOILERPLATE_TERMS.isdisjoint(token.split())]:
            del counts[token]
        frequent = {token: count for token, count in counts.items() if count >= min_count}
        pool = frequent if len(frequent) >= 5 else counts
        ranked = sorted(pool, key=lambda token: (-pool[token] * self.idf(token), token))[:max_terms]
        return [token for token in ranked for _ in range(min(pool[token], max_repeat))]

    @staticmethod
    def parameters(documents: Sequence[Sequence[str]]) -> dict[str, float]:
        """What scoring more documents against this corpus needs: k1, b and the average length (bm25s counts an
        empty document as one placeholder token). A build streaming its papers gets the same from
        :meth:`recommender.lexical_build.LexicalBuilder.parameters`."""
        return average_length([len(tokens) for tokens in documents])

    def save(self, folder: Path) -> None:
        """The arrays and vocabulary as bm25s names its files, and the sorted vocabulary. (A version's build
        writes the same files as it goes: :meth:`recommender.lexical_build.LexicalBuilder.finish`.) Document
        frequencies are the columns' lengths; versions written before that also hold ``doc_freq.tsv``, which is
        no longer read."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, filename in ARRAY_FILES.items():
            np.save(folder / filename, getattr(self, f"_{name}"))
        (folder / VOCAB_FILE).write_text(json.dumps(dict(self._vocab.items()), ensure_ascii=False), encoding="utf-8")
        SortedTerms.write(folder, self._vocab)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        """A saved index, read with numpy and json (no bm25s: see the module's docstring)."""
        try:
            arrays = {name: map_array(folder / filename) for name, filename in ARRAY_FILES.items()}
            vocab: Mapping[str, int]
            if (folder / _SORTED_TERMS).is_file():
                vocab = SortedTerms.read(folder)
            else:  # an index written before the sorted vocabulary: bm25s's JSON, read whole
                vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
                if not isinstance(vocab, dict):
                    raise ValueError(f"{VOCAB_FILE} is not a JSON object")
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"cannot read lexical index {folder}: {error}") from None
        if len(arrays["indptr"]) < 1 or len(arrays["data"]) != len(arrays["indices"]):
            raise IndexCorruptError(f"lexical index {folder} has arrays of mismatched lengths")
        return cls(arrays, vocab, n_docs)


def average_length(lengths: Sequence[int]) -> dict[str, float]:
    """:meth:`LexicalIndex.parameters` of documents of ``lengths`` terms."""
    counted = [max(length, 1) for length in lengths]
    return {"avgdl": round(sum(counted) / len(counted), 6) if counted else 1.0, "k1": K1, "b": B}


class SortedTerms(Mapping[str, int]):
    """Term → column, looked up in a memory-mapped sorted file instead of a dict.

    Why: a million abstracts hold millions of distinct terms (words, symbols, phrases); as a dict they cost
    hundreds of MB and seconds of JSON parsing at every start, while a query looks up a few dozen. A lookup
    finds the run of terms that share the term's first 8 bytes by a binary search over those prefixes as
    integers (numpy), then bisects the few terms in the run (microseconds); iterating every term (themes,
    stacking a delta) reads the whole file, as the dict's JSON was read before."""

    def __init__(self, buffer: Any, bounds: np.ndarray, keys: np.ndarray) -> None:
        if keys.shape != (2, len(bounds) - 1):
            raise ValueError(f"{_SORTED_TERMS} and {_SORTED_COLUMNS} differ in length")
        self._buffer, self._bounds = buffer, bounds
        self._prefixes, self._columns = keys[0], keys[1]
        # Queries reuse terms (Zipf): recent answers, misses included, skip the search.
        self._find = lru_cache(maxsize=LOOKUP_CACHE)(self._search)

    @staticmethod
    def _prefix(term: bytes) -> int:
        """The first 8 bytes as a big-endian integer: integers sort as the byte strings they start."""
        return int.from_bytes(term[:8].ljust(8, b"\0"), "big")

    @classmethod
    def write(cls, folder: Path, vocab: Mapping[str, int]) -> None:
        ordered = sorted((term.encode(), column) for term, column in vocab.items() if term)
        if any(b"\n" in term for term, _ in ordered):
            raise ValueError("an index term holds a line break")
        (folder / _SORTED_TERMS).write_bytes(b"".join(term + b"\n" for term, _ in ordered))
        keys = np.array(
            [[cls._prefix(term) for term, _ in ordered], [column for _, column in ordered]], dtype=np.uint64
        ).reshape(2, len(ordered))
        np.save(folder / _SORTED_COLUMNS, keys)

    @classmethod
    def write_sorted(cls, folder: Path, terms: Sequence[str]) -> None:
        """:meth:`write` for a vocabulary whose columns are its terms' ranks (``terms`` sorted, as a build
        numbers them), a term at a time: no second copy of millions of terms."""
        start = 1 if terms and terms[0] == "" else 0  # "" (bm25s's placeholder) sorts first and is not looked up
        prefixes = np.zeros(len(terms) - start, dtype=np.uint64)
        with (folder / _SORTED_TERMS).open("wb") as handle:
            for position, term in enumerate(terms[start:]):
                encoded = term.encode()
                if b"\n" in encoded:
                    raise ValueError("an index term holds a line break")
                handle.write(encoded + b"\n")
                prefixes[position] = cls._prefix(encoded)
        columns = np.arange(start, len(terms), dtype=np.uint64)
        np.save(folder / _SORTED_COLUMNS, np.stack((prefixes, columns)).reshape(2, len(columns)))

    @classmethod
    def read(cls, folder: Path) -> SortedTerms:
        buffer, bounds = map_lines(folder / _SORTED_TERMS)
        return cls(buffer, bounds, map_array(folder / _SORTED_COLUMNS))

    def _term(self, position: int) -> bytes:
        return bytes(self._buffer[int(self._bounds[position]) : int(self._bounds[position + 1]) - 1])

    def __getitem__(self, term: str) -> int:
        column = self._find(term)
        if column is None:
            raise KeyError(term)
        return column

    def _search(self, term: str) -> int | None:
        key = term.encode()
        prefix = np.uint64(self._prefix(key))
        low = int(np.searchsorted(self._prefixes, prefix, "left"))
        high = int(np.searchsorted(self._prefixes, prefix, "right"))
        while low < high:
            middle = (low + high) // 2
            if self._term(middle) < key:
                low = middle + 1
            else:
                high = middle
        if low < len(self) and self._term(low) == key:
            return int(self._columns[low])
        return None

    def __len__(self) -> int:
        return len(self._columns)

    def __iter__(self) -> Iterator[str]:
        return (self._term(position).decode() for position in range(len(self)))

    def items(self) -> Iterator[tuple[str, int]]:  # type: ignore[override]  # one pass, not a lookup per term
        columns = self._columns.tolist()
        return ((self._term(position).decode(), int(columns[position])) for position in range(len(self)))
