"""BM25 over the biomedical tokenizer's tokens: the only module that imports bm25s.

bm25s stores the BM25 score of every (token, document) pair as a sparse matrix, so scoring a query is a
sum of a few sparse rows: fast enough to score the whole corpus for every query and fuse with dense scores.
For paper-to-paper relatedness the query is the paper's most distinctive terms
(:meth:`LexicalIndex.key_terms`, the "more like this" idea), not all of its words.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
from scipy import sparse

from .errors import IndexCorruptError
from .tokenizer import BOILERPLATE_TERMS

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG


class LexicalIndex:
    """BM25 (Lucene variant) over pre-tokenised documents."""

    def __init__(self, model: bm25s.BM25, n_docs: int, doc_freq: dict[str, int]) -> None:
        self._model = model
        self.n_docs = n_docs
        self._doc_freq = doc_freq
        # bm25s keeps a CSC matrix: for token t, the documents holding it are indices[indptr[t]:indptr[t+1]].
        self._indptr = np.asarray(model.scores["indptr"])
        self._indices = np.asarray(model.scores["indices"])

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        # bm25s needs at least one token per document; "" is its own placeholder for an empty document.
        corpus = [list(tokens) if tokens else [""] for tokens in documents]
        model = bm25s.BM25(method="lucene", k1=k1, b=b)
        model.index(corpus, show_progress=False)
        doc_freq = Counter(token for tokens in documents for token in set(tokens))
        return cls(model, len(documents), dict(doc_freq))

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query (repeated query tokens count repeatedly)."""
        known = [token for token in query_tokens if token in self._doc_freq]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def contains(self, token: str, row: int) -> bool:
        """Whether document ``row`` holds ``token`` (a binary search in the token's column of the index)."""
        token_id = self._model.vocab_dict.get(token) if token in self._doc_freq else None
        if token_id is None:
            return False
        start, end = self._indptr[token_id], self._indptr[token_id + 1]
        position = start + np.searchsorted(self._indices[start:end], row)
        return bool(position < end and self._indices[position] == row)

    def holders(self, token: str, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` hold ``token`` (one vectorised binary search for all of them)."""
        token_id = self._model.vocab_dict.get(token) if token in self._doc_freq else None
        if token_id is None:
            return np.zeros(len(rows), dtype=bool)
        column = self._indices[self._indptr[token_id] : self._indptr[token_id + 1]]
        positions = np.minimum(np.searchsorted(column, rows), max(len(column) - 1, 0))
        return column[positions] == rows if len(column) else np.zeros(len(rows), dtype=bool)

    def score_matrix(self) -> sparse.csc_matrix:
        """BM25 score of every (document, term) pair: documents × vocabulary, as bm25s stores it."""
        data = np.asarray(self._model.scores["data"], dtype=np.float32)
        return sparse.csc_matrix((data, self._indices, self._indptr), shape=(self.n_docs, len(self._indptr) - 1))

    def vocabulary(self) -> list[str]:
        """Index terms by column number of :meth:`score_matrix`."""
        terms = [""] * (len(self._indptr) - 1)
        for token, token_id in self._model.vocab_dict.items():
            if token_id < len(terms):  # bm25s appends a placeholder id for "" beyond the matrix
                terms[token_id] = token
        return terms

    def query_matrix(self, queries: Sequence[Sequence[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Queries as rows over the vocabulary (repeated terms count repeatedly), and each query's bound."""
        vocab = self._model.vocab_dict
        rows, cols, counts = [], [], []
        for row, tokens in enumerate(queries):
            for token, count in Counter(t for t in tokens if t in self._doc_freq).items():
                rows.append(row)
                cols.append(vocab[token])
                counts.append(count)
        matrix = sparse.csr_matrix(
            (np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(queries), len(self._indptr) - 1)
        )
        bounds = np.array([self.upper_bound(tokens) for tokens in queries], dtype=np.float64)
        return matrix, bounds

    def document_frequency(self, token: str) -> int:
        """How many documents use the token."""
        return self._doc_freq.get(token, 0)

    def idf(self, token: str) -> float:
        frequency = self._doc_freq.get(token, 0)
        return math.log(1 + (self.n_docs - frequency + 0.5) / (frequency + 0.5))

    def upper_bound(self, query_tokens: Sequence[str]) -> float:
        """The highest BM25 score any document could reach for this query.

        In the Lucene variant each term contributes ``idf * tf / (tf + k1 * norm)``, below ``idf``; the
        bound is the sum of the query terms' IDFs (repeated terms counted repeatedly).
        """
        return float(sum(self.idf(token) for token in query_tokens if token in self._doc_freq))

    def is_common(self, token: str, share: float = 0.5, min_docs: int = 10) -> bool:
        """Used by more than ``share`` of the documents: no evidence of relatedness ("cells", "cancer")."""
        return self.n_docs >= min_docs and self._doc_freq.get(token, 0) > share * self.n_docs

    def key_terms(
        self, tokens: Sequence[str], *, max_terms: int = 25, min_count: int = 2, max_repeat: int = 1
    ) -> list[str]:
        """The document's most distinctive terms by tf·idf ("more like this"), boilerplate left out.

        Terms seen once are dropped when the document has enough repeated terms: in an abstract, what the
        paper is about is said more than once. Each term is repeated up to ``max_repeat`` times by its count.
        """
        counts = Counter(tokens)  # count first, then drop boilerplate: once per distinct term, not per use
        for token in [token for token in counts if not BOILERPLATE_TERMS.isdisjoint(token.split())]:
            del counts[token]
        frequent = {token: count for token, count in counts.items() if count >= min_count}
        pool = frequent if len(frequent) >= 5 else counts
        ranked = sorted(pool, key=lambda token: (-pool[token] * self.idf(token), token))[:max_terms]
        return [token for token in ranked for _ in range(min(pool[token], max_repeat))]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(str(folder))
        (folder / "doc_freq.tsv").write_text(
            "".join(f"{token}\t{count}\n" for token, count in sorted(self._doc_freq.items())), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        try:
            model = bm25s.BM25.load(str(folder), load_corpus=False)
            doc_freq = {}
            for line in (folder / "doc_freq.tsv").read_text(encoding="utf-8").splitlines():
                token, _, count = line.rpartition("\t")
                doc_freq[token] = int(count)
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"cannot read lexical index {folder}: {error}") from None
        return cls(model, n_docs, doc_freq)
