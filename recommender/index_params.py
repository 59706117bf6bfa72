"""What a vector index is built and searched with: its kind, its parameters, and the recall that tunes them.

:mod:`recommender.vector_index` holds the FAISS objects (and is the only module importing FAISS); this
module holds the decisions that need none of it, in plain Python and numpy: which kind of index a corpus
of a given size gets, the default build parameters of each kind, which parameters a caller may give, the
values the search parameter (``efSearch`` / ``nprobe``) is tuned over, and how recall@10 against exact
search is measured on corpus rows held out of the index while it is built.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InvalidInputError

KINDS = ("flat", "hnsw", "ivf", "ivfpq")
#: ``auto`` uses exact search up to this many vectors. Flat single-query latency is linear in the corpus size;
#: measured by scripts/bench_ann.py (384-d, one core): 2.6 ms at 50k, 5.6 ms at 100k, 10.8 ms at 200k, ~55 ms
#: at 1M. At 100k exact search still answers in ~6 ms, leaving room for concurrent requests on two cores; below
#: it HNSW would cost tens of seconds of build time and 1-3% of recall to save a few milliseconds.
AUTO_FLAT_MAX = 100_000
#: Recall@10 the search parameter is tuned to reach on held-out corpus vectors, when it is not given.
RECALL_TARGET = 0.98
#: The tuned efSearch / nprobe is then multiplied by this. Held-out corpus vectors can be easier queries than
#: text or papers unlike the corpus: in scripts/bench_ann.py at 1M vectors, efSearch tuned to 0.98 on held-out
#: corpus vectors (48) gave only 0.946 on held-out real abstracts, 2x that (96) 0.973, for ~1.7x the latency of
#: an already sub-millisecond search.
SEARCH_HEADROOM = 2
#: Corpus rows held out of the index while it is built, then used as queries to measure its recall (at most a
#: tenth of the corpus; half tune the search parameter, half report). They are added once measured.
RECALL_SAMPLE = 1_000
RECALL_K = 10
#: Tuning stops raising the search parameter once three steps together gained less recall than this (an IVF-PQ
#: index without re-ranking levels off below the target: probing more lists does not fix quantisation error).
PLATEAU_GAIN = 0.005

_EF_STEPS = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
_NPROBE_STEPS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
#: The search parameter of each approximate kind (what tuning raises).
SEARCH_PARAM = {"hnsw": "efSearch", "ivf": "nprobe", "ivfpq": "nprobe"}
_ALLOWED_PARAMS: dict[str, set[str]] = {
    "flat": set(),
    "hnsw": {"M", "efConstruction", "efSearch", "recall_target"},
    "ivf": {"nlist", "nprobe", "recall_target"},
    "ivfpq": {"nlist", "m", "nbits", "nprobe", "rerank", "recall_target"},
}


def choose_kind(n: int, auto_flat_max: int = AUTO_FLAT_MAX) -> str:
    """``flat`` up to ``auto_flat_max`` vectors, ``hnsw`` above (see :data:`AUTO_FLAT_MAX`)."""
    return "flat" if n <= auto_flat_max else "hnsw"


def default_params(kind: str, n: int, d: int) -> dict[str, Any]:
    """Build parameters of ``kind`` for ``n`` vectors of dimension ``d``; search parameters are tuned later.

    HNSW: M=32 (64 links per vector on the base layer, ~20% over the raw vectors at 384-d) and
    efConstruction=64, a build-time/graph-quality compromise: ~5 minutes for a million vectors on two cores,
    recall@10 0.97 at efSearch 96 there (scripts/bench_ann.py).
    IVF: ~4*sqrt(n) lists (the usual rule), but at least 39 training points per list. IVF-PQ: one byte
    per 8 dimensions (48 bytes for 384-d, 32x smaller than float32), fewer bits for tiny training sets.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"unknown vector index kind {kind!r}; expected auto or one of {', '.join(KINDS)}")
    nlist = max(1, min(round(4 * math.sqrt(n)), n // 39))
    if kind == "flat":
        return {}
    if kind == "hnsw":
        return {"M": 32, "efConstruction": 64, "efSearch": None, "recall_target": RECALL_TARGET}
    if kind == "ivf":
        return {"nlist": nlist, "nprobe": None, "recall_target": RECALL_TARGET}
    m = max(divisor for divisor in range(1, max(1, d // 8) + 1) if d % divisor == 0)
    nbits = min(8, max(4, int(math.log2(max(n, 39) / 39))))  # 2**nbits centroids, >= 39 training points each
    return {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": None, "rerank": 0, "recall_target": RECALL_TARGET}


def check_params(kind: str, params: dict[str, Any]) -> None:
    unknown = set(params) - _ALLOWED_PARAMS[kind]
    if unknown:
        expected = ", ".join(sorted(_ALLOWED_PARAMS[kind])) or "none"
        raise InvalidInputError(f"unknown {kind} index parameter(s) {', '.join(sorted(unknown))}; expected {expected}")


def search_param_steps(kind: str, params: dict[str, Any]) -> list[int]:
    """Candidate values of the search parameter, smallest first (the last is the most exhaustive)."""
    if kind == "hnsw":
        return list(_EF_STEPS)
    nlist = int(params["nlist"])
    return [value for value in _NPROBE_STEPS if value < nlist] + [nlist]


def held_out_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random sample of rows (at most :data:`RECALL_SAMPLE`, at most a tenth of the corpus) and the rest."""
    size = min(RECALL_SAMPLE, n // 10)
    held_out = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False)).astype(np.int64)
    keep = np.ones(n, dtype=bool)
    keep[held_out] = False
    return held_out, np.flatnonzero(keep).astype(np.int64)


def results_without(found: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` results of each query that are not among ``rows``."""
    kept = np.full((len(found), k), -1, dtype=np.int64)
    for i, result in enumerate(found):
        others = result[(result >= 0) & ~np.isin(result, rows)][:k]
        kept[i, : len(others)] = others
    return kept


def rows_of(found: np.ndarray, ids: np.ndarray | None) -> np.ndarray:
    """Map index positions to row numbers through ``ids`` (keeping -1 for missing)."""
    if ids is None:
        return found
    return np.where(found >= 0, ids[np.maximum(found, 0)], -1)


def plateaued(recalls: list[float]) -> bool:
    return len(recalls) > 3 and recalls[-1] - recalls[-4] < PLATEAU_GAIN


def recall_of(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each query's exact neighbours (ignoring -1 padding) that the approximate search found."""
    shares = []
    for got, truth in zip(found, exact, strict=True):
        truth = truth[truth >= 0]
        if len(truth):
            shares.append(len(np.intersect1d(got[got >= 0], truth)) / len(truth))
    return round(float(np.mean(shares)), 4) if shares else 1.0
