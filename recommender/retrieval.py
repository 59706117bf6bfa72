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
from scipy import sparse

from .fusion import METHODS, fuse
from .snapshot import Snapshot
from .themes.labels import explains, shown_as_written
from .tokenizer import BOILERPLATE_TERMS, display, index_terms, spellings, stem

MODES = ("hybrid", "dense", "lexical")
#: How strongly negative examples count against a paper, relative to the positives (Rocchio's gamma/beta).
NEGATIVE_WEIGHT = 0.5
#: How many times a key phrase (bigram) counts in a paper query, relative to a single word.
PHRASE_WEIGHT = 2
#: Words too generic in biomedicine to explain why two papers are related (they still count in ranking).
UNEXPLAINING = frozenset(stem(word) for word in ("cell", "cells", "play", "plays", "promote", "promotes", "promoted"))
_UNEXPLAINING_TERMS = BOILERPLATE_TERMS | UNEXPLAINING


@dataclass(frozen=True)
class RetrievalConfig:
    """How to rank.

    The weights are the lexical share of the fused score, separately for free-text queries and for
    paper-to-paper queries, chosen by measurement with the bundled model (``scripts/bench_fusion.py``):
    text on SciFact; papers on PubMedQA (shared MeSH descriptors), Ohsumed (same disease category, where the
    hybrid must not fall below dense-only) and the four seed documents (each must find its partner).
    """

    mode: str = "hybrid"
    fusion: str = "tmm"
    text_weight: float = 0.5
    paper_weight: float = 0.5
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


@dataclass(frozen=True)
class Filters:
    """Which papers may be returned: a year range, journals, themes and an exclude list.

    Applied inside the search (the dense and lexical candidate pools are drawn from allowed papers only),
    so ``k`` results come back even when most of the corpus is filtered out.
    """

    year_min: int | None = None
    year_max: int | None = None
    journals: tuple[str, ...] = ()
    themes: tuple[int, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return any((self.year_min is not None, self.year_max is not None, self.journals, self.themes))

    def mask(self, snapshot: Snapshot, theme_of_row: np.ndarray | None = None) -> np.ndarray | None:
        """Boolean mask over the snapshot's rows (``None`` when nothing is filtered; exclusions aside)."""
        if not self.active:
            return None
        keep = np.ones(snapshot.size, dtype=bool)
        if self.year_min is not None or self.year_max is not None:
            years = np.array([paper.year or 0 for paper in snapshot.papers])
            keep &= years > 0
            if self.year_min is not None:
                keep &= years >= self.year_min
            if self.year_max is not None:
                keep &= years <= self.year_max
        if self.journals:
            wanted = {journal.casefold() for journal in self.journals}
            keep &= np.array([(paper.journal or "").casefold() in wanted for paper in snapshot.papers])
        if self.themes:
            if theme_of_row is None:
                raise ValueError("a theme filter needs theme assignments")
            keep &= np.isin(theme_of_row, list(self.themes))
        return keep


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
        """A paper as a lexical query: its distinctive, repeated terms ("more like this"), each key phrase
        counted twice — a shared two-word phrase ("anoikis resistance") says more about a shared topic than
        its words scattered through another abstract."""
        terms = self.snapshot.key_terms[row]  # computed at build time
        return [term for term in terms for _ in range(PHRASE_WEIGHT if " " in term else 1)]

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
        allowed: np.ndarray | None = None,
        negative_tokens: Sequence[str] = (),
        query_text: str = "",
    ) -> list[Ranked]:
        """The top ``k`` papers for a query, best first, never an ``exclude`` row, only ``allowed`` rows.

        ``negative_tokens`` (from negative examples) subtract their BM25 score at half weight.
        """
        config, snapshot = self.config, self.snapshot
        if snapshot.size == 0 or k < 1:
            return []
        permitted = np.ones(snapshot.size, dtype=bool) if allowed is None else allowed.copy()
        permitted[list(exclude)] = False
        n_permitted = int(permitted.sum())
        if n_permitted == 0:
            return []
        pool = min(n_permitted, max(config.candidates, k))
        candidates: set[int] = set()
        lexical_all = None
        if config.mode != "dense":
            lexical_all = snapshot.lexical.scores(tokens)
            if negative_tokens:
                lexical_all = lexical_all - NEGATIVE_WEIGHT * snapshot.lexical.scores(negative_tokens)
            masked = np.where(permitted, lexical_all, -np.inf)
            top = np.argpartition(-masked, pool - 1)[:pool] if pool < snapshot.size else np.arange(snapshot.size)
            candidates.update(int(row) for row in top if masked[row] > 0)
        if config.mode != "lexical" and vector is not None:
            rows_allowed = None if allowed is None else np.flatnonzero(permitted)
            _, rows = snapshot.vectors.search(
                vector, pool + (len(exclude) if rows_allowed is None else 0), allowed=rows_allowed
            )
            candidates.update(int(row) for row in rows[0] if row >= 0 and permitted[row])
        rows = np.array(sorted(candidates), dtype=np.int64)
        if rows.size == 0:
            return []
        query = None if vector is None else np.asarray(vector, dtype=np.float32).ravel()
        dense = np.asarray(snapshot.embeddings[rows] @ query) if query is not None else np.zeros(len(rows))
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
        forms = spellings(query_text) if query_text else {}
        return [
            Ranked(
                row=int(rows[i]),
                score=float(scores[i]),
                dense=float(dense[i]),
                lexical=float(lexical[i]),
                shared_terms=self.shared_terms(query_terms, int(rows[i]), forms),
            )
            for i in order
        ]

    def examples_query(
        self, positive: Sequence[int], negative: Sequence[int]
    ) -> tuple[np.ndarray, list[str], list[str]]:
        """A query from example papers (Rocchio): the mean of the positives minus half the mean of the
        negatives as the vector; the positives' shared key terms as the lexical query; the negatives' own
        key terms (those no positive has) as terms to penalise."""
        embeddings = self.snapshot.embeddings
        vector = np.asarray(embeddings[list(positive)], dtype=np.float32).mean(axis=0)
        if negative:
            vector = vector - NEGATIVE_WEIGHT * np.asarray(embeddings[list(negative)], dtype=np.float32).mean(axis=0)
        norm = float(np.linalg.norm(vector))
        vector = vector / norm if norm > 0 else vector
        lexical = self.snapshot.lexical
        positive_terms = [term for row in positive for term in self.paper_query_tokens(row)]
        tokens = lexical.key_terms(positive_terms, max_terms=25 * min(len(positive), 4), min_count=1)
        negative_terms = [term for row in negative for term in self.paper_query_tokens(row)]
        penalised = [term for term in dict.fromkeys(negative_terms) if term not in set(positive_terms)]
        return vector, tokens, penalised

    def shared_terms(
        self, query_terms: set[str], row: int, forms: dict[str, str] | None = None, limit: int = 8
    ) -> list[str]:
        """Query terms the paper also uses, rarest first, as the query writes them (``IL-6``, ``STAT3``), in
        consistent case (words lower-case, symbols as written).

        The theme label rule applied to the hit (:func:`recommender.themes.labels.explains`): a term that more
        than a third of the other papers use, boilerplate, generic biology, or a verb ("expressed", "follow")
        explains nothing. Membership comes from the BM25 index itself (no re-tokenising of the paper); only
        terms the query text does not spell are looked up in the paper's own text.
        """
        lexical = self.snapshot.lexical
        shared = [
            term
            for term in query_terms
            if not _UNEXPLAINING_TERMS.intersection(term.split()) and lexical.contains(term, row)
        ]
        # Rarest first; a word already inside a shared phrase is not repeated on its own.
        ranked = sorted(shared, key=lambda term: (-lexical.idf(term), term))
        phrases = {word for term in ranked if " " in term for word in term.split()}
        ranked = [term for term in ranked if " " in term or term not in phrases]
        forms = forms or {}
        if any(word not in forms for term in ranked for word in term.split()):
            forms = {**spellings(self.snapshot.papers[row].text), **forms}
        shown = {term: shown_as_written(display(term, forms)) for term in ranked}
        kept = [
            shown[term] for term in ranked if explains(shown[term], lexical.document_frequency(term), lexical.n_docs)
        ]
        return list(dict.fromkeys(kept))[:limit]


def neighbour_graph(
    snapshot: Snapshot,
    config: RetrievalConfig,
    k: int = 15,
    *,
    rows: Sequence[int] | None = None,
    chunk: int = 1000,
) -> sparse.csr_matrix:
    """Every paper's ``k`` most related papers at once, as a sparse graph (weights = fused scores > 0).

    The batch form of paper-to-paper :meth:`Retriever.rank`: dense candidates from one FAISS search per
    chunk, BM25 scores of all papers' key-term queries as one sparse product per chunk, the same fusion.
    It is what themes cluster, so themes agree with "related papers". With ``rows``, only those papers are
    linked (among themselves), and the graph is indexed by position in ``rows``.
    """
    members = np.arange(snapshot.size) if rows is None else np.asarray(rows, dtype=np.int64)
    n = len(members)
    position = {int(row): i for i, row in enumerate(members)}
    k = min(k, n - 1)
    if k < 1:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    mask = None
    if rows is not None:
        mask = np.zeros(snapshot.size, dtype=bool)
        mask[members] = True
    pool = min(n, max(config.candidates // 2, 2 * k))
    scores_t = snapshot.lexical.score_matrix().T.tocsr() if config.mode != "dense" else None
    retriever = Retriever(snapshot, config)
    out_rows, out_cols, values = [], [], []
    for start in range(0, n, chunk):
        block = members[start : start + chunk]
        vectors = np.asarray(snapshot.embeddings[block], dtype=np.float32)
        # Exact dense neighbours by one matrix product per chunk (BLAS uses every core; FAISS is kept on one
        # thread for single queries, which would make this batch 2x slower).
        similarities = vectors @ np.asarray(snapshot.embeddings[members], dtype=np.float32).T
        top = np.argpartition(-similarities, min(pool, n - 1), axis=1)[:, : pool + 1]
        dense_rows = members[top]
        lexical_block, bounds, lexical_top = None, None, None
        if scores_t is not None:
            queries, bounds = snapshot.lexical.query_matrix([retriever.paper_query_tokens(int(row)) for row in block])
            lexical_block = (queries @ scores_t).toarray()
            if mask is not None:
                lexical_block[:, ~mask] = 0.0
            # Each row's best lexical candidates, for the whole chunk in one call.
            lexical_top = np.argpartition(-lexical_block, min(pool, snapshot.size - 1), axis=1)[:, :pool]
        for i, row in enumerate(block.tolist()):
            candidates = set(dense_rows[i][dense_rows[i] >= 0].tolist()) if config.mode != "lexical" else set()
            if lexical_block is not None and lexical_top is not None:
                top = lexical_top[i]
                candidates.update(top[lexical_block[i][top] > 0].tolist())
            candidates.discard(row)
            if not candidates:
                continue
            chosen = np.fromiter(candidates, dtype=np.int64)
            dense = np.asarray(snapshot.embeddings[chosen] @ vectors[i])
            lexical = lexical_block[i][chosen] if lexical_block is not None else np.zeros(len(chosen))
            if config.mode == "dense":
                fused = dense
            elif config.mode == "lexical":
                fused = lexical / bounds[i] if bounds[i] > 0 else lexical
            else:
                fused = fuse(dense, lexical, method=config.fusion, weight=config.paper_weight, lexical_bound=bounds[i])
            best = np.argsort(-fused, kind="stable")[:k]
            out_rows.extend([position[row]] * len(best))
            out_cols.extend(position[int(c)] for c in chosen[best])
            values.extend(np.maximum(fused[best], 1e-6).tolist())
    return sparse.csr_matrix((np.asarray(values, dtype=np.float32), (out_rows, out_cols)), shape=(n, n))
