"""Ranking papers for a query: dense neighbours, BM25 matches, or both fused (the default).

Works on a :class:`~recommender.snapshot.Snapshot` and a query given as an embedding plus tokens, so it is
plain array maths: the candidate pool is the union of the dense top-N (FAISS) and the lexical top-N (BM25);
each candidate gets both scores, and :func:`~recommender.fusion.fuse` ranks them. Fusing over a shared pool
lets a paper that only one signal finds still compete, and keeps k results when excluded rows are removed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .fusion import METHODS, fuse
from .paper_table import NO_YEAR
from .settings import PAPER_WEIGHT_CLINICAL, PAPER_WEIGHT_MOLECULAR
from .snapshot import Snapshot
from .snippets import Forms, Reading, Snippet, Spellings
from .strength import CALIBRATIONS, level
from .symbols import molecular_position
from .themes.labels import can_explain, reads_as_name, shown_as_written
from .tokenizer import BOILERPLATE_TERMS, display, index_terms, stem

if TYPE_CHECKING:
    from scipy import sparse

MODES = ("hybrid", "dense", "lexical")
#: How strongly negative examples count against a paper, relative to the positives (Rocchio's gamma/beta).
NEGATIVE_WEIGHT = 0.5
#: How many times a key phrase (bigram) counts in a paper query, relative to a single word.
PHRASE_WEIGHT = 2
#: Paper-to-paper lexical share at the clinical and at the molecular end of :mod:`recommender.symbols` is
#: PAPER_WEIGHT_CLINICAL to PAPER_WEIGHT_MOLECULAR (in settings, so the CLI's help reads them without numpy): a
#: general sentence model reads clinical text well and gene symbols badly (``scripts/bench_fusion.py``).
PAPER_SHARE_MOLECULAR = 0.07
#: Pseudo-relevance feedback for paper queries (Rocchio on the dense side): the query vector plus
#: ``FEEDBACK_WEIGHT`` times the mean of its ``feedback`` best first-pass hits, from corpora of at least
#: ``FEEDBACK_MIN_PAPERS`` papers (in a handful of papers the best hits are not evidence of anything).
FEEDBACK_WEIGHT = 1.0
FEEDBACK_MIN_PAPERS = 50
#: The themes' related-papers graph fuses by theoretical min-max at this lexical share (no feedback): the
#: paper-query settings above cost PubMedQA's topic themes 0.019 NMI (``scripts/bench_themes.py``).
GRAPH_WEIGHT = 0.5
#: Lexical share for queries made of example papers (fused by theoretical min-max, no feedback).
EXAMPLES_WEIGHT = 0.5
#: Strength is calibrated on corpora of thousands of papers; in a handful of papers its parts (cosines against
#: random pairs, BM25's IDFs) mean nothing, so it is given from this many papers on.
STRENGTH_MIN_PAPERS = 50
#: A free-text query of more index terms than this is a pasted abstract and is ranked like a paper.
ABSTRACT_TERMS = 60
#: Words too generic in biomedicine to explain why two papers are related (they still count in ranking).
UNEXPLAINING = frozenset(stem(word) for word in ("cell", "cells", "play", "plays", "promote", "promotes", "promoted"))
_UNEXPLAINING_TERMS = BOILERPLATE_TERMS | UNEXPLAINING


@dataclass(frozen=True)
class RetrievalConfig:
    """How to rank, by the query's form: a short text (a question, a claim, a few keywords) or a paper (a
    stored paper, example papers, or a pasted abstract).

    Text queries fuse by ``fusion`` at lexical share ``text_weight``. Paper queries fuse by ``paper_fusion``
    (z-scores over the candidate pool) at lexical share ``paper_weight``, which by default follows the corpus
    (``None``: from :data:`PAPER_WEIGHT_CLINICAL` to :data:`PAPER_WEIGHT_MOLECULAR` by its symbol share), and
    add dense pseudo-relevance feedback from their ``feedback`` best first-pass hits. All chosen by
    measurement with the bundled model (``scripts/bench_fusion.py``): text on SciFact; papers on PubMedQA
    (shared MeSH descriptors), Ohsumed (same disease category), Hallmarks of Cancer (shared hallmarks) and the
    four seed documents, where the hybrid must beat dense-only on every one.
    """

    mode: str = "hybrid"
    fusion: str = "zscore"
    text_weight: float = 0.4
    paper_fusion: str = "zscore"
    paper_weight: float | None = None
    feedback: int = 5
    text_feedback: int = 0
    feedback_weight: float = FEEDBACK_WEIGHT
    candidates: int = 100

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}; choose one of {', '.join(MODES)}")
        for method in (self.fusion, self.paper_fusion):
            if method not in METHODS:
                raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
        for weight in (self.text_weight, self.paper_weight):
            if weight is not None and not 0.0 <= weight <= 1.0:
                raise ValueError("fusion weights must be between 0 and 1")
        if self.candidates < 1:
            raise ValueError("the candidate pool must hold at least one paper")
        if not (0 <= self.feedback <= 50 and 0 <= self.text_feedback <= 50):
            raise ValueError("feedback must be between 0 and 50 papers")


@dataclass(frozen=True)
class Filters:
    """Which papers may be returned: a year range, journals, themes, an exclude list and a least strength.
    Fields left at their defaults filter nothing, so ``Filters()`` and ``None`` mean the same.

    Applied inside the search (the dense and lexical candidate pools are drawn from allowed papers only),
    so ``k`` results come back even when most of the corpus is filtered out.
    """

    year_min: int | None = None
    year_max: int | None = None
    journals: tuple[str, ...] = ()
    themes: tuple[int, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Drop hits weaker than this named strength (``strong`` or ``related``; :mod:`recommender.strength`).
    min_strength: str | None = None

    @property
    def active(self) -> bool:
        return any((self.year_min is not None, self.year_max is not None, self.journals, self.themes))

    def mask(self, snapshot: Snapshot, theme_of_row: np.ndarray | None = None) -> np.ndarray | None:
        """Boolean mask over the snapshot's rows (``None`` when nothing is filtered; exclusions aside)."""
        if not self.active:
            return None
        keep = np.ones(snapshot.size, dtype=bool)
        columns = snapshot.columns  # arrays: the records themselves stay on disk
        if self.year_min is not None or self.year_max is not None:
            keep &= columns.years != NO_YEAR
            if self.year_min is not None:
                keep &= columns.years >= self.year_min
            if self.year_max is not None:
                keep &= columns.years <= self.year_max
        if self.journals:
            keep &= columns.journal_mask(self.journals)
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
    #: Calibrated probability of relevance and its name (:mod:`recommender.strength`); ``None`` unless both
    #: parts of the score were measured (hybrid mode) in an index of :data:`STRENGTH_MIN_PAPERS` or more.
    strength: float | None = None
    level: str | None = None
    #: The hit's sentence that carries the shared terms, with their spans marked.
    snippet: Snippet | None = None


class Retriever:
    """Query a snapshot by paper (row) or by text (embedding + tokens)."""

    def __init__(self, snapshot: Snapshot, config: RetrievalConfig | None = None) -> None:
        self.snapshot = snapshot
        self.config = config or RetrievalConfig()

    def paper_weight(self) -> float:
        """The lexical share for paper queries: as configured, or from the corpus's symbol share."""
        if self.config.paper_weight is not None:
            return self.config.paper_weight
        position = molecular_position(self.snapshot.symbol_share, PAPER_SHARE_MOLECULAR)
        return PAPER_WEIGHT_CLINICAL + position * (PAPER_WEIGHT_MOLECULAR - PAPER_WEIGHT_CLINICAL)

    @staticmethod
    def reads_as_paper(text: str) -> bool:
        """A pasted abstract is ranked like a paper; a question or a claim like text."""
        return len(index_terms(text)) > ABSTRACT_TERMS

    def paper_query_tokens(self, row: int) -> list[str]:
        """A paper as a lexical query: its distinctive, repeated terms ("more like this"), each key phrase
        counted twice — a shared two-word phrase ("anoikis resistance") says more about a shared topic than
        its words scattered through another abstract."""
        terms = self.snapshot.key_terms[row]  # computed at build time
        return [term for term in terms for _ in range(PHRASE_WEIGHT if " " in term else 1)]

    def text_query_tokens(self, text: str) -> list[str]:
        """Free text as a lexical query (see :meth:`text_query`)."""
        return self.text_query(text)[0]

    def text_query(self, text: str) -> tuple[list[str], bool]:
        """Free text as a lexical query, and whether it reads as a paper: a pasted abstract (more than
        :data:`ABSTRACT_TERMS` index terms) is reduced to its key terms and ranked like a paper."""
        tokens = index_terms(text)
        if len(tokens) > ABSTRACT_TERMS:
            return self.snapshot.lexical.key_terms(tokens), True
        # Each term once: a word a claim happens to repeat is not twice the evidence (SciFact, chosen on the
        # training claims: nDCG@10 0.7288 -> 0.7306 there, 0.7476 -> 0.7497 on the test claims).
        return list(dict.fromkeys(tokens)), False

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
        examples: bool = False,
    ) -> list[Ranked]:
        """The top ``k`` papers for a query, best first, never an ``exclude`` row, only ``allowed`` rows.

        ``negative_tokens`` (from negative examples) subtract their BM25 score at half weight. A paper query
        (``paper_query``) is fused by the paper settings and, in a corpus of :data:`FEEDBACK_MIN_PAPERS` or
        more, ranked twice: the second time with the dense query moved towards its best first-pass hits
        (hybrid mode only: ``dense`` and ``lexical`` are the plain single-signal baselines). A query from
        ``examples`` (already a mean of papers, with negatives subtracted) is fused by theoretical min-max at
        :data:`EXAMPLES_WEIGHT` without feedback: per-pool z-scores would blur what the negatives take away.
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
            candidates.update(top[masked[top] > 0].tolist())
        query = None if vector is None else np.asarray(vector, dtype=np.float32).ravel()
        if config.mode != "lexical" and query is not None:
            candidates.update(self._dense_candidates(query, pool, permitted, exclude, allowed))
        rows = np.array(sorted(candidates), dtype=np.int64)
        if rows.size == 0:
            return []
        dense = np.asarray(snapshot.embeddings[rows] @ query) if query is not None else np.zeros(len(rows))
        lexical = lexical_all[rows] if lexical_all is not None else np.zeros(len(rows))
        bound = snapshot.lexical.upper_bound(tokens) if config.mode == "hybrid" else None
        scores = self._fused(dense, lexical, bound, paper_query, examples)
        feedback = 0 if examples else config.feedback if paper_query else config.text_feedback
        if feedback and query is not None and config.mode == "hybrid" and self._feedback_applies(n_permitted):
            best = rows[np.lexsort((rows, -scores))[:feedback]]
            mean = np.asarray(snapshot.embeddings[best], dtype=np.float32).mean(axis=0)
            moved = query + config.feedback_weight * mean
            moved /= max(float(np.linalg.norm(moved)), 1e-12)
            # Rescored within the same candidate pool: a second FAISS search costs as much as the first and
            # found nothing the pool missed in the benchmarks.
            scores = self._fused(np.asarray(snapshot.embeddings[rows] @ moved), lexical, bound, paper_query)
        order = np.lexsort((rows, -np.asarray(scores)))[:k]
        query_terms = set(tokens)
        forms = Spellings(query_text)
        measured = (
            config.mode == "hybrid" and query is not None and bound is not None and snapshot.size >= STRENGTH_MIN_PAPERS
        )
        held = self._held(query_terms, rows[order])
        ranked = []
        for position, i in enumerate(order):
            strength = self.strength(float(dense[i]), float(lexical[i]), bound, paper_query) if measured else None
            shared = [term for term, holds in held.items() if holds[position]]
            terms, reading = self.explain(shared, int(rows[i]), forms)
            ranked.append(
                Ranked(
                    row=int(rows[i]),
                    score=float(scores[i]),
                    dense=float(dense[i]),
                    lexical=float(lexical[i]),
                    shared_terms=list(terms.values()),
                    strength=None if strength is None else round(strength, 3),
                    level=None if strength is None else level(strength),
                    snippet=reading.snippet(list(terms)) if reading is not None else None,
                )
            )
        return ranked

    def strength(self, dense: float, lexical: float, bound: float | None, paper_query: bool) -> float:
        """The calibrated probability that a hit with these score parts is relevant (:mod:`.strength`)."""
        mean, spread = self.snapshot.similarity_baseline
        share = lexical / bound if bound else 0.0
        calibration = CALIBRATIONS["paper" if paper_query else "text"]
        return calibration.probability((dense - mean) / spread, share)

    def _dense_candidates(
        self,
        query: np.ndarray,
        pool: int,
        permitted: np.ndarray,
        exclude: Collection[int],
        allowed: np.ndarray | None,
    ) -> list[int]:
        """The dense top-``pool`` permitted rows (FAISS; searched among allowed rows when filtered)."""
        rows_allowed = None if allowed is None else np.flatnonzero(permitted)
        _, rows = self.snapshot.vectors.search(
            query, pool + (len(exclude) if rows_allowed is None else 0), allowed=rows_allowed
        )
        found = rows[0][rows[0] >= 0]
        return found[permitted[found]].tolist()

    def _feedback_applies(self, n_permitted: int) -> bool:
        return min(self.snapshot.size, n_permitted) >= FEEDBACK_MIN_PAPERS

    def _fused(
        self, dense: np.ndarray, lexical: np.ndarray, bound: float | None, paper_query: bool, examples: bool = False
    ) -> np.ndarray:
        """The candidates' scores in the configured mode; fused by the settings of the query's form."""
        config = self.config
        if config.mode == "dense":
            return dense
        if config.mode == "lexical":
            return lexical
        if examples:
            return fuse(dense, lexical, method="tmm", weight=EXAMPLES_WEIGHT, lexical_bound=bound)
        if paper_query:
            return fuse(dense, lexical, method=config.paper_fusion, weight=self.paper_weight(), lexical_bound=bound)
        return fuse(dense, lexical, method=config.fusion, weight=config.text_weight, lexical_bound=bound)

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

    def _held(self, query_terms: set[str], rows: np.ndarray) -> dict[str, np.ndarray]:
        """For each query term that could explain something, which of the ``rows`` hold it."""
        lexical = self.snapshot.lexical
        return {
            term: lexical.holders(term, rows)
            for term in sorted(query_terms)
            if not _UNEXPLAINING_TERMS.intersection(term.split())
        }

    def explain(
        self, shared: list[str], row: int, query_forms: Mapping[str, str], limit: int = 8
    ) -> tuple[dict[str, str], Reading | None]:
        """The ``shared`` terms (query terms the hit holds) that explain the hit, in the hit's own spelling
        (the query's where the hit's sentences do not show it), and the hit's text as read for them."""
        lexical = self.snapshot.lexical
        # The label rule's share test first (cheap): a term most papers use never explains, so it is not read.
        shared = [term for term in shared if can_explain(lexical.document_frequency(term), lexical.n_docs)]
        if not shared:
            return {}, None
        reading = Reading(self.snapshot.papers[row].text, {word for term in shared for word in term.split()})
        return self._explaining(shared, Forms(reading.forms, query_forms), limit), reading

    def _explaining(self, shared: list[str], forms: Mapping[str, str], limit: int) -> dict[str, str]:
        """Shared terms, rarest first: index term → as the paper writes it (``IL-6``, ``STAT3``, "anoikis
        resistance"), in consistent case (words lower-case, symbols as written).

        The theme label rule applied to the hit (:func:`recommender.themes.labels.explains`): a term that more
        than a third of the other papers use (already left out by :meth:`explain`), boilerplate, generic
        biology, or a verb ("expressed", "follow") explains nothing.
        """
        lexical = self.snapshot.lexical
        # Rarest first; a word already inside a shared phrase is not repeated on its own.
        ranked = sorted(shared, key=lambda term: (-lexical.idf(term), term))
        phrases = {word for term in ranked if " " in term for word in term.split()}
        ranked = [term for term in ranked if " " in term or term not in phrases]
        shown = {term: shown_as_written(display(term, forms)) for term in ranked}
        kept: dict[str, str] = {}
        for term in ranked:
            if shown[term] not in kept.values() and reads_as_name(shown[term]):
                kept[term] = shown[term]
            if len(kept) == limit:
                break
        return kept


def neighbour_graph(
    snapshot: Snapshot,
    config: RetrievalConfig,
    k: int = 15,
    *,
    rows: Sequence[int] | None = None,
    chunk: int = 1000,
) -> sparse.csr_matrix:
    """Every paper's ``k`` most related papers at once, as a sparse graph (weights = fused scores > 0).

    The batch form of paper-to-paper :meth:`Retriever.rank`: dense candidates from one matrix product per
    chunk, BM25 scores of all papers' key-term queries as one sparse product per chunk, fused by theoretical
    min-max at :data:`GRAPH_WEIGHT` (or the configured paper weight) without feedback. It is what themes
    cluster. With ``rows``, only those papers are
    linked (among themselves), and the graph is indexed by position in ``rows``.
    """
    from scipy import sparse  # themes only: a query never builds the graph (and scipy costs a CLI 0.3 s)

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
    out_rows: list[int] = []
    out_cols: list[int] = []
    values: list[float] = []
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
            if config.mode == "dense" or bounds is None:
                fused = dense
            elif config.mode == "lexical":
                fused = lexical / bounds[i] if bounds[i] > 0 else lexical
            else:
                weight = GRAPH_WEIGHT if config.paper_weight is None else config.paper_weight
                fused = fuse(dense, lexical, method="tmm", weight=weight, lexical_bound=float(bounds[i]))
            best = np.argsort(-fused, kind="stable")[:k]
            out_rows.extend([position[row]] * len(best))
            out_cols.extend(position[int(c)] for c in chosen[best])
            values.extend(np.maximum(fused[best], 1e-6).tolist())
    return sparse.csr_matrix((np.asarray(values, dtype=np.float32), (out_rows, out_cols)), shape=(n, n))
