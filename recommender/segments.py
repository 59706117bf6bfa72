"""Additions and deletions without a rebuild: a small delta segment published beside a base version.

A full build writes every file of a version, which at a million papers takes minutes. So small changes are
published as a *delta version* instead (the Lucene / Qdrant pattern with one level of segments): its folder
holds only the papers added or changed since its base version (their records, vectors and BM25 terms), the
ids of base papers it hides (deleted, or replaced by a newer text), and a manifest naming the base. Readers
load the base once and put the delta beside it; a new delta version rewrites only the delta (bounded by the
merge threshold, see :mod:`recommender.indexing`), never the base. When the delta grows past the threshold the
next update is a full build: the merge, which folds everything into a new base.

Readers see one corpus: :class:`StackedRows`, :class:`StackedVectors` and :class:`StackedLexical` present
the live base rows followed by the delta's rows, row-aligned as a plain version is, so retrieval, themes
and cards do not know whether a version is one segment or two. Scores stay comparable across the two:

* dense: the same model's vectors; the delta is searched exactly (it is small) and merged by score;
* BM25: one set of corpus statistics. Document frequencies and the document count are the base's plus the
  delta's (hidden base papers still count until the merge, as in Lucene), and every score uses that IDF: the
  base's precomputed scores are rescaled per query term by ``idf_global / idf_base`` and the delta's are
  computed with the same formula as bm25s's Lucene variant, with the base's average document length.

Plain numpy and scipy here; FAISS stays behind :class:`recommender.vector_index.VectorIndex`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .lexical_index import K1, B, LexicalIndex
from .vector_index import VectorIndex

if TYPE_CHECKING:
    from scipy import sparse

#: Hidden base rows up to which a dense search over the base asks for more neighbours instead of a filtered
#: search (a few hundred extra neighbours cost less than a selector over a million rows).
OVERFETCH_MAX = 1000


@dataclass(frozen=True)
class Bm25Parameters:
    """What a BM25 score depends on beside the term counts: the base's average length, k1 and b (bm25s's)."""

    avgdl: float
    k1: float = K1
    b: float = B


class DeltaLexical:
    """Term counts of the delta's documents, scored at query time with the corpus's statistics."""

    def __init__(self, terms: Sequence[Sequence[str]]) -> None:
        self.n_docs = len(terms)
        self.lengths = np.array([max(len(tokens), 1) for tokens in terms], dtype=np.float32)  # as bm25s counts
        # Postings as CSR arrays built with numpy (a dict of arrays per token would cost a Python object per
        # term of every delta paper at each load): token id → rows holding it and its count in each.
        ids: dict[str, int] = {}
        flat = np.fromiter((ids.setdefault(t, len(ids)) for tokens in terms for t in tokens), dtype=np.int64)
        docs = np.repeat(np.arange(self.n_docs, dtype=np.int64), [len(tokens) for tokens in terms])
        pairs, counts = np.unique(flat * max(self.n_docs, 1) + docs, return_counts=True)
        token_ids, self._rows = pairs // max(self.n_docs, 1), pairs % max(self.n_docs, 1)
        self._counts = counts.astype(np.float32)
        self._indptr = np.searchsorted(token_ids, np.arange(len(ids) + 1))
        self._ids = ids

    def tokens(self) -> list[str]:
        return list(self._ids)

    def document_frequency(self, token: str) -> int:
        token_id = self._ids.get(token)
        return 0 if token_id is None else int(self._indptr[token_id + 1] - self._indptr[token_id])

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows holding ``token`` and its count in each."""
        token_id = self._ids.get(token)
        if token_id is None:
            return None
        start, end = self._indptr[token_id], self._indptr[token_id + 1]
        return self._rows[start:end], self._counts[start:end]

    def contributions(self, token: str, idf: float, params: Bm25Parameters) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding ``token`` and their BM25 score for it (bm25s's Lucene formula, without (k1 + 1))."""
        posting = self.postings(token)
        if posting is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows, counts = posting
        norm = params.k1 * (1 - params.b + params.b * self.lengths[rows] / params.avgdl)
        return rows, (idf * counts / (counts + norm)).astype(np.float32)


class StackedLexical(LexicalIndex):
    """BM25 over the live base rows followed by the delta's rows, with one set of statistics."""

    def __init__(self, base: LexicalIndex, live: np.ndarray, delta: DeltaLexical, params: Bm25Parameters) -> None:
        self.base = base
        self.live = live
        self.delta = delta
        self.params = params
        #: Corpus statistics: hidden base documents count until the merge (they are still in the postings).
        self.n_docs = base.n_docs + delta.n_docs
        self._rows = len(live) + delta.n_docs

    def document_frequency(self, token: str) -> int:
        return self.base.document_frequency(token) + self.delta.document_frequency(token)

    def _scale(self, token: str) -> float:
        """How a base score for ``token`` becomes a score under the corpus's IDF."""
        base_idf = self.base.idf(token)
        return self.idf(token) / base_idf if base_idf > 0 else 1.0

    def scores(self, query_tokens: Sequence[str], scale: Callable[[str], float] | None = None) -> np.ndarray:
        out = np.zeros(self._rows, dtype=np.float32)
        out[: len(self.live)] = self.base.scores(query_tokens, scale=self._scale)[self.live]
        offset = len(self.live)
        for token in query_tokens:
            rows, values = self.delta.contributions(token, self.idf(token), self.params)
            out[offset + rows] += values
        return out

    def contains(self, token: str, row: int) -> bool:
        return bool(self.holders(token, np.array([row], dtype=np.int64))[0])

    def holders(self, token: str, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=bool)
        in_base = rows < len(self.live)
        if in_base.any():
            out[in_base] = self.base.holders(token, self.live[rows[in_base]])
        posting = self.delta.postings(token)
        if posting is not None and (~in_base).any():
            out[~in_base] = np.isin(rows[~in_base] - len(self.live), posting[0])
        return out

    def upper_bound(self, query_tokens: Sequence[str]) -> float:
        return float(sum(self.idf(token) for token in query_tokens if self.document_frequency(token) > 0))

    @cached_property
    def _stacked_columns(self) -> tuple[dict[str, int], int]:
        """Token → column of :meth:`score_matrix` (the base's columns, then the delta's new tokens), and width."""
        base_terms = self.base.vocabulary()
        columns = {token: column for column, token in enumerate(base_terms) if token}
        width = len(base_terms)
        for token in self.delta.tokens():
            if token not in columns:
                columns[token] = width
                width += 1
        return columns, width

    def vocabulary(self) -> list[str]:
        columns, width = self._stacked_columns
        terms = [""] * width
        for token, column in columns.items():
            terms[column] = token
        return terms

    def score_matrix(self) -> sparse.csc_matrix:
        """Documents × vocabulary, every score under the corpus's IDF (what themes' related-papers graph reads)."""
        from scipy import sparse

        columns, width = self._stacked_columns
        base = self.base.score_matrix().tocsr()[self.live]
        base_terms = self.base.vocabulary()
        scale = np.ones(base.shape[1], dtype=np.float32)
        for column, token in enumerate(base_terms):
            if token:
                scale[column] = self._scale(token)
        base = (base @ sparse.diags(scale)).tocsr()
        base.resize((base.shape[0], width))
        rows, cols, values = [], [], []
        for token in self.delta.tokens():
            found, scores = self.delta.contributions(token, self.idf(token), self.params)
            rows.append(found)
            cols.append(np.full(len(found), columns[token], dtype=np.int64))
            values.append(scores)
        delta = sparse.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0, np.float32),
                (np.concatenate(rows) if rows else np.zeros(0, np.int64), np.concatenate(cols) if cols else []),
            ),
            shape=(self.delta.n_docs, width),
        )
        return sparse.vstack([base, delta]).tocsc()

    def query_matrix(self, queries: Sequence[Sequence[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
        from scipy import sparse

        columns, width = self._stacked_columns
        rows, cols, counts = [], [], []
        for row, tokens in enumerate(queries):
            for token, count in Counter(t for t in tokens if t in columns).items():
                rows.append(row)
                cols.append(columns[token])
                counts.append(count)
        matrix = sparse.csr_matrix((np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(queries), width))
        bounds = np.array([self.upper_bound(tokens) for tokens in queries], dtype=np.float64)
        return matrix, bounds

    def save(self, folder: Any) -> None:  # pragma: no cover - a delta is written by recommender.indexing
        raise TypeError("a stacked index is not saved: its delta is written as terms, its base is kept")


class StackedRows:
    """The live base vectors followed by the delta's, indexed like one array (rows, row lists, slices)."""

    def __init__(self, base: np.ndarray, live: np.ndarray, delta: np.ndarray) -> None:
        self.base = base
        self.live = live
        self.delta = np.asarray(delta, dtype=np.float32)
        self.shape = (len(live) + len(self.delta), int(base.shape[1]))
        self.ndim = 2
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            row = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"row {key} out of range")
            return self._one(row)
        if isinstance(key, slice):
            key = np.arange(self.shape[0])[key]
        rows = np.asarray(key, dtype=np.int64).ravel()
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError("row out of range")
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        in_base = rows < len(self.live)
        if in_base.any():
            out[in_base] = self.base[self.live[rows[in_base]]]
        if (~in_base).any():
            out[~in_base] = self.delta[rows[~in_base] - len(self.live)]
        return out

    def _one(self, row: int) -> np.ndarray:
        if row < len(self.live):
            return np.asarray(self.base[self.live[row]], dtype=np.float32)
        return self.delta[row - len(self.live)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[np.arange(self.shape[0])]
        return whole if dtype is None else whole.astype(dtype)


class StackedVectors:
    """Nearest neighbours over the live base rows and the delta's rows: the base's FAISS index, the delta
    searched exactly, merged by score."""

    def __init__(self, base: VectorIndex, live: np.ndarray, delta: np.ndarray) -> None:
        self.base = base
        self.live = live
        self.delta = np.asarray(delta, dtype=np.float32)
        #: Base row → stacked row, -1 for hidden rows.
        self._position = np.full(base.size, -1, dtype=np.int64)
        self._position[live] = np.arange(len(live))
        self._hidden = base.size - len(live)
        self.kind = base.kind
        self.params = base.params
        self.recall_at_10 = base.recall_at_10

    @property
    def size(self) -> int:
        return len(self.live) + len(self.delta)

    @property
    def dimension(self) -> int:
        return self.base.dimension

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)`` of shape ``(len(queries), k)`` in stacked rows, as :meth:`VectorIndex.search`."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, self.size))
        base_scores, base_rows = self._search_base(queries, k, allowed)
        delta_allowed = None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            delta_allowed = allowed[allowed >= len(self.live)] - len(self.live)
        delta_rows = np.arange(len(self.delta)) if delta_allowed is None else delta_allowed
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for i, query in enumerate(queries):
            candidate_scores = [base_scores[i][base_rows[i] >= 0]]
            candidate_rows = [base_rows[i][base_rows[i] >= 0]]
            if len(delta_rows):
                candidate_scores.append(self.delta[delta_rows] @ query)
                candidate_rows.append(delta_rows + len(self.live))
            all_scores = np.concatenate(candidate_scores)
            all_rows = np.concatenate(candidate_rows)
            best = np.lexsort((all_rows, -all_scores))[:k]
            scores[i, : len(best)] = all_scores[best]
            rows[i, : len(best)] = all_rows[best]
        return scores, rows

    def _search_base(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The base's best live rows, as stacked rows (-1 where there are fewer than ``k``)."""
        if not len(self.live):
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            base_allowed = self.live[allowed[allowed < len(self.live)]]
            if not len(base_allowed):
                return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
            scores, found = self.base.search(queries, k, allowed=base_allowed)
        elif self._hidden == 0:
            scores, found = self.base.search(queries, k)
        elif self._hidden <= OVERFETCH_MAX:
            scores, found = self.base.search(queries, k + self._hidden)
        else:
            scores, found = self.base.search(queries, k, allowed=self.live)
        rows = np.where(found >= 0, self._position[np.maximum(found, 0)], -1)
        return scores, rows
