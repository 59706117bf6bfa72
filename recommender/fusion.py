"""Combining dense (embedding) and lexical (BM25) scores of the same candidates into one ranking.

Pure numpy on score arrays. The two signals live on different scales (cosines bunched in 0.3-0.7; BM25
unbounded), so each is first normalised over the candidate set:

- ``zscore``: standardise each signal (mean 0, sd 1) then take the weighted sum. A signal that separates
  the candidates clearly counts for more than one that barely does (distribution-based score fusion).
- ``minmax``: rescale each to [0, 1] then take the weighted sum (convex combination).
- ``rrf``: reciprocal rank fusion, ``sum w / (60 + rank)``; ignores score values entirely.
- ``tmm``: theoretical min-max (Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval",
  2023): each score divided by the best score it could possibly reach (cosine: 1; BM25: the query's upper
  bound, the sum of its terms' IDFs), then the weighted sum. Unlike the per-query methods above it does not
  depend on which other candidates happen to be in the pool, so it behaves the same on 4 papers and on 4
  million.

``weight`` is the lexical share (0 = dense only, 1 = lexical only).
"""

from __future__ import annotations

import numpy as np

from .settings import FUSION_METHODS as METHODS

RRF_K = 60


def _zscore(scores: np.ndarray) -> np.ndarray:
    spread = float(scores.std())
    if spread < 1e-12:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / spread


def _minmax(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.zeros_like(scores)
    return (scores - low) / (high - low)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score, best first (ties broken by position)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    *,
    method: str = "tmm",
    weight: float = 0.5,
    lexical_bound: float | None = None,
) -> np.ndarray:
    """One fused score per candidate (higher is better). ``tmm`` needs ``lexical_bound``."""
    if method not in METHODS:
        raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError("fusion weight must be between 0 and 1")
    dense = np.asarray(dense, dtype=np.float64)
    lexical = np.asarray(lexical, dtype=np.float64)
    if dense.size == 0:
        return dense
    if method == "rrf":
        return (1 - weight) / (RRF_K + _ranks(dense)) + weight / (RRF_K + _ranks(lexical))
    if method == "tmm":
        if lexical_bound is None:
            raise ValueError("tmm fusion needs the lexical score bound of the query")
        lexical_part = lexical / lexical_bound if lexical_bound > 0 else np.zeros_like(lexical)
        return (1 - weight) * np.clip(dense, 0.0, 1.0) + weight * np.clip(lexical_part, 0.0, 1.0)
    normalise = _zscore if method == "zscore" else _minmax
    return (1 - weight) * normalise(dense) + weight * normalise(lexical)
