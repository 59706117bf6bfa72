"""Ranking papers for a query: dense neighbours, BM25 matches, or both fused (the default).

Works on a :class:`~recommender.snapshot.Snapshot` and a query given as an embedding plus tokens, so it is
plain array maths: the candidate pool is the union of the dense top-N (FAISS) and the lexical top-N (BM25);
each candidate gets both scores, and :func:`~recommender.fusion.fuse` ranks them. Fusing over a shared pool
lets a paper that only one signal finds still compete, and keeps k results when excluded rows are removed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from .fusion import METHODS, fuse
from .snapshot import Snapshot
from .tokenizer import BOILERPLATE, index_terms, surface_tokens

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class RetrievalConfig:
    """How to rank.

    The weights are the lexical share of the fused score, separately for free-text queries and for
    paper-to-paper queries: a paper used as a query is reduced to its key terms, whose BM25 bound is looser
    than a short query's, so the lexical side needs more weight to count as much. Defaults were chosen by
    measurement (``scripts/bench_fusion.py``): text on SciFact, papers on PubMedQA (shared MeSH descriptors),
    Ohsumed (same disease category) and the four seed documents.
    """

    mode: str = "hybrid"
    fusion: str = "tmm"
    text_weight: float = 0.5
    paper_weight: float = 0.7
    candidates: int = 100

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.fusion not in METHODS:
            raise ValueError(f"unknown fusion method {self.fusion!r}; choose one of {', '.join(METHODS)}")
        for weight in (self.text_weight, self.paper_weight):
            if not 0.0 <= weight <= 1.0:
                raise ValueError("fusion weights must be between 0 and 1")
        if self.candidates < 1:
            raise ValueError("the candidate pool must hold at least one paper")


@dataclass
class Ranked:
    """One ranked paper: its row in the snapshot, the final score and the two parts it came from."""

    row: int
    score: float
    dense: float
    lexical: float
    shared_terms: list[str] = field(default_factory=list)


class Retriever:
    """Query a snapshot by paper (row) or by text (embedding + tokens)."""

    def __init__(self, snapshot: Snapshot, config: RetrievalConfig | None = None) -> None:
        self.snapshot = snapshot
        self.config = config or RetrievalConfig()

    def paper_query_tokens(self, row: int) -> list[str]:
        """A paper as a lexical query: its distinctive, repeated terms ("more like this")."""
        return self.snapshot.lexical.key_terms(index_terms(self.snapshot.papers[row].text))

    def text_query_tokens(self, text: str) -> list[str]:
        """Free text as a lexical query; a pasted abstract is reduced to its key terms like a paper."""
        tokens = index_terms(text)
        return self.snapshot.lexical.key_terms(tokens) if len(tokens) > 60 else tokens

    def rank(
        self,
        vector: np.ndarray | None,
        tokens: Sequence[str],
        k: int,
        *,
        exclude: Collection[int] = (),
        paper_query: bool = False,
    ) -> list[Ranked]:
        """The top ``k`` papers for a query, best first, never including an ``exclude`` row."""
        config, snapshot = self.config, self.snapshot
        if snapshot.size == 0 or k < 1:
            return []
        pool = min(snapshot.size, max(config.candidates, k + len(exclude)))
        lexical_all = snapshot.lexical.scores(tokens) if config.mode != "dense" else None
        candidates: set[int] = set()
        if config.mode != "lexical" and vector is not None:
            _, rows = snapshot.vectors.search(vector, pool)
            candidates.update(int(row) for row in rows[0] if row >= 0)
        if lexical_all is not None:
            top = np.argpartition(-lexical_all, pool - 1)[:pool] if pool < snapshot.size else np.arange(snapshot.size)
            candidates.update(int(row) for row in top if lexical_all[row] > 0)
        rows = np.array(sorted(candidates - set(exclude)), dtype=np.int64)
        if rows.size == 0:
            return []
        dense = (
            np.asarray(snapshot.embeddings[rows] @ np.asarray(vector, dtype=np.float32).ravel())
            if vector is not None
            else np.zeros(len(rows))
        )
        lexical = lexical_all[rows] if lexical_all is not None else np.zeros(len(rows))
        if config.mode == "dense":
            scores = dense
        elif config.mode == "lexical":
            scores = lexical
        else:
            weight = config.paper_weight if paper_query else config.text_weight
            bound = snapshot.lexical.upper_bound(tokens)
            scores = fuse(dense, lexical, method=config.fusion, weight=weight, lexical_bound=bound)
        order = np.lexsort((rows, -np.asarray(scores)))[:k]
        query_terms = set(tokens)
        return [
            Ranked(
                row=int(rows[i]),
                score=float(scores[i]),
                dense=float(dense[i]),
                lexical=float(lexical[i]),
                shared_terms=self.shared_terms(query_terms, int(rows[i])),
            )
            for i in order
        ]

    def shared_terms(self, query_terms: set[str], row: int, limit: int = 8) -> list[str]:
        """Query terms the paper also uses, rarest first, in the paper's own spelling (``IL-6``, ``STAT3``)."""
        text = self.snapshot.papers[row].text
        lexical = self.snapshot.lexical
        shared = {
            term
            for term in query_terms.intersection(index_terms(text))
            if not BOILERPLATE.intersection(term.split()) and not lexical.is_common(term)
        }
        # Rarest first; a word already inside a shared phrase is not repeated on its own.
        ranked = sorted(shared, key=lambda term: (-lexical.idf(term), term))
        phrases = {word for term in ranked if " " in term for word in term.split()}
        ranked = [term for term in ranked if " " in term or term not in phrases][:limit]
        spelling: dict[str, str] = {}
        for surface in surface_tokens(text):
            spelling.setdefault(surface.lower(), surface)
        return [" ".join(spelling.get(word, word) for word in term.split()) for term in ranked]
