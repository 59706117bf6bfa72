"""Nearest-neighbour search over embeddings: the only module that imports FAISS.

Vectors are L2-normalised, so inner product is cosine similarity. Row ``i`` of the index is paper ``i`` of
the snapshot it belongs to; that positional mapping is what keeps ids stable between the index, the stored
embeddings and the papers file.

Index kinds, chosen by corpus size (``kind="auto"``):

- ``flat`` (``IndexFlatIP``): exact. Below :data:`AUTO_FLAT_MAX` vectors a single query scans the whole
  corpus in a few milliseconds, so approximation would buy nothing and cost recall and build time.
- ``hnsw`` (``IndexHNSWFlat``): graph search, the default above the threshold; sub-millisecond queries at a
  million vectors for about 1.2x the memory of the raw vectors.
- ``ivf`` (``IndexIVFFlat``): inverted lists; cheaper to build than HNSW, slower to query at equal recall.
- ``ivfpq`` (``IndexIVFPQ``): product-quantised codes, ~15x smaller than the raw vectors in memory (48-byte
  codes and 8-byte ids per 384-d vector, plus lists); for corpora whose raw vectors do not fit in memory. Its
  codes alone cap recall@10 near 0.55-0.7; with ``rerank`` it re-scores its candidates exactly against the
  stored embeddings (memory-mapped, outside the index), which brings recall back above 0.95.

Every approximate index measures its recall@10 against exact search when it is built, on a sample of corpus rows
held out of the index until measured, and unless the search parameter (``efSearch`` / ``nprobe``) is given,
raises it until a recall target is met. The parameters that
were actually used, search parameters included, are in :attr:`VectorIndex.params` for the manifest. The choice
of kind, the default parameters and the recall arithmetic need no FAISS: they are in :mod:`recommender.index_params`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from .errors import IndexCorruptError, InvalidInputError
from .index_params import (
    AUTO_FLAT_MAX,
    PLATEAU_GAIN,
    RECALL_K,
    SEARCH_HEADROOM,
    SEARCH_PARAM,
    check_params,
    choose_kind,
    default_params,
    held_out_rows,
    plateaued,
    recall_of,
    results_without,
    rows_of,
    search_param_steps,
)

#: Filtered searches over at most this many allowed rows are answered exactly (FAISS scans the rows with a bitmap
#: test and computes only the allowed ones). Measured on the 1M-vector HNSW index of scripts/bench_ann.py, one
#: thread: 5k allowed rows exact 6 ms vs graph search with a selector 8 ms at recall 0.92; 10k: 11 ms vs 5 ms at
#: 0.95; 20k: 19 ms vs 3 ms at 0.98. Sparse filters starve graph search, dense ones make exact search slow.
EXACT_FILTER_MAX = 10_000
#: Filtered approximate search of a large allowed set multiplies efSearch / nprobe by sqrt(1 / allowed share), at
#: most this much: with 10% allowed, 1x loses ~9% recall@10 and 4x ~1% (HNSW, 200k vectors), while 1/share costs
#: 2.5x more time for the last 1%.
FILTER_BOOST_MAX = 16
#: Vectors added per call while building, so that a progress bar can advance.
ADD_CHUNK = 20_000
#: Training points per IVF list (FAISS warns below 39; k-means cost grows with the sample).
TRAIN_PER_LIST = 40
#: The score FAISS reports for a missing neighbour (row -1), kept for the exact paths computed here.
MISSING_SCORE = float(np.finfo(np.float32).min)

Result = tuple[np.ndarray, np.ndarray]


class VectorIndex:
    """An inner-product index of one kind (see the module docstring), with the parameters it was built with.

    ``vectors``, when attached (the snapshot's stored embeddings, typically memory-mapped), lets an ``ivfpq``
    index re-rank its candidates with exact scores; the other kinds hold the full vectors themselves.
    """

    def __init__(
        self,
        index: faiss.Index,
        kind: str,
        params: dict[str, Any],
        *,
        recall_at_10: float | None = None,
        vectors: np.ndarray | None = None,
    ) -> None:
        self._index = index
        self.kind = kind
        self.params = params
        self.recall_at_10 = recall_at_10
        self._vectors = vectors
        _apply_search_params(index, kind, params)

    # ----------------------------------------------------------------------------------------------- build

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        kind: str = "auto",
        params: dict[str, Any] | None = None,
        progress: bool = False,
        seed: int = 0,
        auto_flat_max: int = AUTO_FLAT_MAX,
        on_added: Callable[[int], None] | None = None,
    ) -> VectorIndex:
        """Build an index of ``kind`` over L2-normalised ``vectors`` (row i = paper i).

        ``params`` overrides the defaults of the kind (see :func:`default_params`); unknown names are an error,
        so that a typo does not silently build a different index. For approximate kinds the recall@10 against
        exact search is measured on a sample of the corpus, and the search parameter is tuned if not given.
        ``on_added(n)`` reports vectors as they are added, for a caller that draws its own progress (then no
        bar of this function's is drawn); ``progress`` draws one here (scripts).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise InvalidInputError(f"vectors must be a 2-d array, got shape {vectors.shape}")
        n, d = vectors.shape
        kind = choose_kind(n, auto_flat_max) if kind == "auto" else kind
        given = dict(params or {})
        resolved = default_params(kind, n, d)
        check_params(kind, given)
        resolved.update({name: value for name, value in given.items() if value is not None})
        index = _BUILDERS[kind](vectors, resolved, seed)
        with tqdm(total=n, desc=f"building {kind} index", unit="vec", disable=not progress or bool(on_added)) as bar:
            report = _reporter(bar, on_added)
            if kind == "flat":
                _add_rows(index, kind, vectors, np.arange(n), report)
                return cls(index, kind, resolved)
            held_out, rest = held_out_rows(n, seed)
            _add_rows(index, kind, vectors, rest, report)
            attached = vectors if resolved.get("rerank") else None
            built = cls(index, kind, resolved, vectors=attached)
            tune = given.get(SEARCH_PARAM[kind]) is None
            built.recall_at_10 = built._measure_recall(vectors, held_out, rest, tune=tune)
            _add_rows(index, kind, vectors, held_out, report)
        if kind == "hnsw":  # HNSW numbers entries in insertion order: move the held-out rows back in place
            position = np.empty(n, dtype=np.int64)
            position[np.concatenate([rest, held_out])] = np.arange(n)
            index.permute_entries(position)
        return built

    def _measure_recall(self, vectors: np.ndarray, held_out: np.ndarray, rest: np.ndarray, *, tune: bool) -> float:
        """Recall@10 against exact search, for held-out corpus vectors searched in an index of the others.

        Called while the index holds every row except ``held_out``, so the queries are what a new paper or a
        text query is: not in the graph or lists themselves (a query that is already a node of an HNSW graph
        finds its neighbours through its own links, and its recall is optimistic). When tuning, the smallest
        search parameter that reaches the target on one half of the sample is kept and the recall is reported
        on the other half, so the figure is not the one the parameter was fitted to.
        """
        k = min(RECALL_K, len(rest))
        if k < 1 or len(held_out) == 0:
            return 1.0
        queries = vectors[held_out]
        _, exact = faiss.knn(queries, vectors, min(len(vectors), k + len(held_out)), metric=faiss.METRIC_INNER_PRODUCT)
        exact = results_without(exact, held_out, k)
        ids = rest if self.kind == "hnsw" else None  # HNSW positions -> rows (IVF lists store row numbers)
        report = np.arange(len(held_out)) >= (len(held_out) // 2 if tune else 0)
        if tune:
            self._tune(queries[~report], exact[~report], k, ids)
        return recall_of(rows_of(self._search_all(queries[report], k)[1], ids), exact[report])

    def _tune(self, queries: np.ndarray, exact: np.ndarray, k: int, ids: np.ndarray | None) -> None:
        """Set efSearch / nprobe to :data:`SEARCH_HEADROOM` x the smallest value whose recall reaches the target."""
        name = SEARCH_PARAM[self.kind]
        tried: list[tuple[int, float]] = []
        for value in search_param_steps(self.kind, self.params):
            self._set_search_param(name, value)
            tried.append((value, recall_of(rows_of(self._search_all(queries, k)[1], ids), exact)))
            if tried[-1][1] >= self.params["recall_target"] or plateaued([recall for _, recall in tried]):
                break
        if tried[-1][1] >= self.params["recall_target"]:
            self._set_search_param(
                name, min(tried[-1][0] * SEARCH_HEADROOM, search_param_steps(self.kind, self.params)[-1])
            )
        else:  # out of reach (PQ codes cap recall): the cheapest value near the best, more effort buys nothing
            best = max(recall for _, recall in tried)
            self._set_search_param(name, next(value for value, recall in tried if recall >= best - PLATEAU_GAIN))

    def _set_search_param(self, name: str, value: int) -> None:
        self.params[name] = value
        _apply_search_params(self._index, self.kind, self.params)

    def set_search_params(self, *, vectors: np.ndarray | None = None, **values: int) -> None:
        """Change efSearch / nprobe / rerank without rebuilding (and attach ``vectors`` for re-ranking).

        The build-time recall no longer describes the index afterwards, so :attr:`recall_at_10` becomes None.
        """
        allowed = {"hnsw": {"efSearch"}, "ivf": {"nprobe"}, "ivfpq": {"nprobe", "rerank"}}.get(self.kind, set())
        unknown = set(values) - allowed
        if unknown:
            raise InvalidInputError(f"{self.kind} index has no search parameter(s) {', '.join(sorted(unknown))}")
        if vectors is not None:
            self._vectors = vectors
        if values.get("rerank") and self._vectors is None:
            raise InvalidInputError("re-ranking needs the full vectors: pass vectors=")
        self.params.update(values)
        _apply_search_params(self._index, self.kind, self.params)
        self.recall_at_10 = None

    # ---------------------------------------------------------------------------------------------- search

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)``, each of shape ``(len(queries), k)``; missing neighbours have row -1.

        ``allowed`` (row numbers) restricts the search itself to those rows, so a filter that keeps 1% of
        the corpus still yields ``k`` neighbours instead of the few that survive among the global top k. Up to
        :data:`EXACT_FILTER_MAX` allowed rows are searched exactly (whatever the kind); larger sets go through
        the approximate index with a FAISS selector, efSearch / nprobe raised by sqrt(1 / allowed share).
        """
        k = max(1, min(k, self.size))
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if allowed is None:
            return self._search_all(queries, k)
        mask = _allowed_mask(allowed, self.size)
        count = int(np.count_nonzero(mask))
        if count == 0:
            return _missing(len(queries), k)
        if self.kind == "flat" or count <= EXACT_FILTER_MAX:
            return self._search_exact_subset(queries, k, mask)
        scores, rows = self._search_selected(queries, k, mask, count)
        short = (rows[:, : min(k, count)] < 0).any(axis=1)
        if short.any():  # the filtered approximate search ran dry for these queries: answer them exactly
            scores[short], rows[short] = self._search_exact_subset(queries[short], k, mask)
        return scores, rows

    def _search_all(self, queries: np.ndarray, k: int, params: faiss.SearchParameters | None = None) -> Result:
        """Search (with FAISS ``params``, e.g. a selector), re-ranked exactly if ``ivfpq`` with ``rerank``."""
        rerank = int(self.params.get("rerank") or 0)
        if rerank <= 1 or self._vectors is None:
            return self._index.search(queries, k, params=params)
        _, candidates = self._index.search(queries, min(self.size, k * rerank), params=params)
        return _rerank(queries, candidates, self._vectors, k)

    def _search_exact_subset(self, queries: np.ndarray, k: int, mask: np.ndarray) -> Result:
        """Exact top ``k`` among the rows set in ``mask``, without copying them out of the index.

        Flat and HNSW storage are searched exhaustively with a bitmap selector (FAISS computes the distance
        only for members); IVF indexes probe every list. For ``ivfpq`` that ranks compressed codes, so attached
        vectors are used instead when present.
        """
        if self.kind == "ivfpq" and self._vectors is not None:
            return _exact_rows(queries, k, np.flatnonzero(mask), self._vectors)
        selector, _keep = _bitmap_selector(mask)
        if self.kind == "flat":
            return self._index.search(queries, k, params=_selecting(selector))
        if self.kind == "hnsw":
            storage = faiss.downcast_index(_as_hnsw(self._index).storage)
            return storage.search(queries, k, params=_selecting(selector))
        nlist = int(faiss.extract_index_ivf(self._index).nlist)
        return self._index.search(queries, k, params=_selecting_ivf(selector, nprobe=nlist))

    def _search_selected(self, queries: np.ndarray, k: int, mask: np.ndarray, count: int) -> Result:
        """Approximate search restricted to a large allowed set, search effort raised by sqrt(1 / share)."""
        selector, _keep = _bitmap_selector(mask)
        boost = min(FILTER_BOOST_MAX, math.ceil(math.sqrt(self.size / count)))
        if self.kind == "hnsw":
            ef = max(int(self.params["efSearch"]) * boost, k)
            # faiss 1.15.1's type stubs omit SearchParametersHNSW, which its SWIG module defines.
            hnsw_params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)  # type: ignore[attr-defined]
            return self._index.search(queries, k, params=hnsw_params)
        nprobe = min(int(faiss.extract_index_ivf(self._index).nlist), int(self.params["nprobe"]) * boost)
        return self._search_all(queries, k, _selecting_ivf(selector, nprobe=nprobe))

    # ------------------------------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write the FAISS index. Record :meth:`describe` in the manifest: ``load`` needs it to restore
        ``rerank`` and the recall figure, which FAISS does not store (it does store efSearch and nprobe)."""
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        params: dict[str, Any] | None = None,
        recall_at_10: float | None = None,
        vectors: np.ndarray | None = None,
    ) -> VectorIndex:
        """Read an index written by :meth:`save`; the kind and structural parameters come from the file.

        ``params`` (the manifest's ``index_params``) sets the search parameters (efSearch, nprobe, rerank);
        structural ones that disagree with the file mean the file is not the one the manifest describes.
        ``vectors`` (the stored embeddings) is required for an ``ivfpq`` index built with ``rerank``.
        """
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            raise IndexCorruptError(f"cannot read vector index {path}: {error}") from None
        kind, found = _describe_faiss(index, path)
        for name, value in (params or {}).items():
            if name in found and name not in ("efSearch", "nprobe") and found[name] != value:
                raise IndexCorruptError(f"vector index {path} has {name}={found[name]}, the manifest says {value}")
        merged = {**found, **(params or {})}
        if kind == "ivfpq" and merged.get("rerank") and vectors is None:
            raise InvalidInputError("this ivfpq index re-ranks its candidates: load it with the stored vectors")
        return cls(index, kind, merged, recall_at_10=recall_at_10, vectors=vectors)


def set_threads(threads: int) -> None:
    if threads > 0:
        faiss.omp_set_num_threads(threads)


# ------------------------------------------------------------------------------------------------- builders


def _build_flat(vectors: np.ndarray, params: dict[str, Any], seed: int) -> faiss.Index:
    return faiss.IndexFlatIP(vectors.shape[1])


def _build_hnsw(vectors: np.ndarray, params: dict[str, Any], seed: int) -> faiss.Index:
    index = faiss.IndexHNSWFlat(vectors.shape[1], int(params["M"]), faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = int(params["efConstruction"])
    return index


def _build_ivf(vectors: np.ndarray, params: dict[str, Any], seed: int) -> faiss.Index:
    d = vectors.shape[1]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, int(params["nlist"]), faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.train(_training_sample(vectors, int(params["nlist"]), seed))
    return index


def _build_ivfpq(vectors: np.ndarray, params: dict[str, Any], seed: int) -> faiss.Index:
    d = vectors.shape[1]
    nlist, m, nbits = int(params["nlist"]), int(params["m"]), int(params["nbits"])
    if d % m:
        raise InvalidInputError(f"ivfpq: m={m} must divide the dimension {d}")
    index = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.pq.cp.seed = seed
    index.train(_training_sample(vectors, max(nlist, 2**nbits), seed))
    return index


#: Create (and for IVF, train) an empty index of each kind.
_BUILDERS: dict[str, Callable[[np.ndarray, dict[str, Any], int], faiss.Index]] = {
    "flat": _build_flat,
    "hnsw": _build_hnsw,
    "ivf": _build_ivf,
    "ivfpq": _build_ivfpq,
}


def _reporter(bar: tqdm, on_added: Callable[[int], None] | None) -> Callable[[int], None]:
    """One callback for "n more vectors added": the caller's, else this module's bar."""
    return on_added if on_added is not None else bar.update


def _add_rows(
    index: faiss.Index, kind: str, vectors: np.ndarray, rows: np.ndarray, report: Callable[[int], None]
) -> None:
    """Add ``rows`` of ``vectors`` in chunks (so that a progress bar advances: HNSW on a million takes minutes).

    IVF lists store each vector's id, so rows are added under their row numbers and may come in any order;
    flat and HNSW number entries by insertion (the caller restores row order for HNSW).
    """
    for start in range(0, len(rows), ADD_CHUNK):
        chunk = rows[start : start + ADD_CHUNK]
        block = vectors[chunk[0] : chunk[-1] + 1] if chunk[-1] - chunk[0] + 1 == len(chunk) else vectors[chunk]
        if kind in ("ivf", "ivfpq"):
            index.add_with_ids(block, chunk.astype(np.int64))
        else:
            index.add(block)
        report(len(chunk))


def _training_sample(vectors: np.ndarray, centroids: int, seed: int) -> np.ndarray:
    """A random sample big enough for k-means with ``centroids`` centres, small enough to train quickly."""
    size = min(len(vectors), max(centroids * TRAIN_PER_LIST, 10_000))
    if size == len(vectors):
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
    return vectors[rows]


# ---------------------------------------------------------------------------------------------- helpers


def _apply_search_params(index: faiss.Index, kind: str, params: dict[str, Any]) -> None:
    """Set efSearch / nprobe on the FAISS object; ``None`` (not tuned yet) leaves the FAISS value."""
    if kind == "hnsw" and params.get("efSearch") is not None:
        _as_hnsw(index).hnsw.efSearch = int(params["efSearch"])
    if kind in ("ivf", "ivfpq") and params.get("nprobe") is not None:
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])


def _describe_faiss(index: faiss.Index, path: Path) -> tuple[str, dict[str, Any]]:
    """Kind and parameters of a FAISS index read from disk (what FAISS itself stores)."""
    index = faiss.downcast_index(index)
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexCorruptError(f"vector index {path} does not use inner product")
    if isinstance(index, faiss.IndexFlat):
        return "flat", {}
    if isinstance(index, faiss.IndexHNSWFlat):
        hnsw = index.hnsw
        m = hnsw.nb_neighbors(1)  # type: ignore[attr-defined]  # in FAISS, not in its 1.15.1 type stubs
        return "hnsw", {"M": m, "efConstruction": hnsw.efConstruction, "efSearch": hnsw.efSearch}
    if isinstance(index, faiss.IndexIVFFlat):
        return "ivf", {"nlist": index.nlist, "nprobe": index.nprobe}
    if isinstance(index, faiss.IndexIVFPQ):
        return "ivfpq", {"nlist": index.nlist, "m": index.pq.M, "nbits": index.pq.nbits, "nprobe": index.nprobe}
    raise IndexCorruptError(f"vector index {path} is of an unsupported type {type(index).__name__}")


def _allowed_mask(allowed: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the allowed rows (out-of-range rows ignored; duplicates harmless, no sorting needed)."""
    rows = np.asarray(allowed, dtype=np.int64).ravel()
    mask = np.zeros(n, dtype=bool)
    mask[rows[(rows >= 0) & (rows < n)]] = True
    return mask


def _bitmap_selector(mask: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray]:
    """A FAISS selector over the rows set in ``mask``, and the bitmap it points into (keep it alive meanwhile)."""
    bitmap = np.packbits(mask, bitorder="little")
    # FAISS's Python wrapper takes the array alone (and keeps a reference to it); faiss 1.15.1's type stubs list
    # only the C++ (n, pointer) form, which fails when given an array.
    return faiss.IDSelectorBitmap(bitmap), bitmap  # type: ignore[call-arg, arg-type]


def _as_hnsw(index: faiss.Index) -> faiss.IndexHNSW:
    """An index of kind ``hnsw`` as its class (what the builders and ``faiss.read_index`` give)."""
    assert isinstance(index, faiss.IndexHNSW), type(index)
    return index


def _selecting(selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Search parameters restricting a search to ``selector``'s rows (what ``SearchParameters(sel=...)``
    does: FAISS's wrapper keeps a reference to the selector when it is assigned)."""
    params = faiss.SearchParameters()
    params.sel = selector
    return params


def _selecting_ivf(selector: faiss.IDSelector, *, nprobe: int) -> faiss.SearchParametersIVF:
    """IVF search parameters: ``selector``'s rows, ``nprobe`` lists probed."""
    params = faiss.SearchParametersIVF()
    params.sel = selector
    params.nprobe = nprobe
    return params


def _exact_rows(queries: np.ndarray, k: int, rows: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top ``k`` of ``queries`` among ``rows`` of ``vectors`` (same rows for every query)."""
    subset = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    scores, positions = faiss.knn(queries, subset, min(k, len(rows)), metric=faiss.METRIC_INNER_PRODUCT)
    return _pad(scores, rows[positions], k)


def _rerank(queries: np.ndarray, candidates: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-score each query's candidate rows with the exact vectors and keep the best ``k``."""
    scores_out, rows_out = _missing(len(queries), k)
    for i, row_list in enumerate(candidates):
        rows = row_list[row_list >= 0]
        if len(rows) == 0:
            continue
        order = np.sort(rows)  # sorted reads are kinder to a memory-mapped file
        scores = np.asarray(vectors[order], dtype=np.float32) @ queries[i]
        best = np.argsort(-scores, kind="stable")[:k]
        scores_out[i, : len(best)], rows_out[i, : len(best)] = scores[best], order[best]
    return scores_out, rows_out


def _missing(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), MISSING_SCORE, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _pad(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    out_scores, out_rows = _missing(len(scores), k)
    out_scores[:, : scores.shape[1]], out_rows[:, : rows.shape[1]] = scores, rows
    return out_scores, out_rows
