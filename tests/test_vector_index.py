"""The vector index: each kind builds, searches, filters and round-trips; recall is measured at build time.

Small clustered data (3,000 vectors in 40 clusters), so that neighbours are meaningful and approximate search
has something to find; uniform random vectors would make recall figures meaningless.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.errors import IndexCorruptError, InvalidInputError
from recommender.index_params import KINDS, choose_kind
from recommender.vector_index import MISSING_SCORE, VectorIndex

N, D = 3_000, 32


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 random centres (the same centres for every seed, so queries have neighbours)."""
    centres = np.random.default_rng(0).standard_normal((40, d))
    rng = np.random.default_rng(seed)
    vectors = centres[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, d))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered(N, D, seed=1)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    """Held-out queries from the same distribution (not in the index)."""
    return clustered(50, D, seed=2)


@pytest.fixture(scope="module")
def built(vectors: np.ndarray) -> dict[str, VectorIndex]:
    return {kind: VectorIndex.build(vectors, kind=kind) for kind in KINDS}


def exact(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth, strict=True)]))


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_builds_and_searches(built: dict[str, VectorIndex], vectors, queries, kind: str) -> None:
    index = built[kind]
    assert (index.kind, index.size, index.dimension) == (kind, N, D)
    json.dumps({"index_params": index.params, "recall_at_10": index.recall_at_10})  # the manifest stores them
    scores, rows = index.search(queries, 10)
    assert scores.shape == rows.shape == (len(queries), 10)
    assert (rows >= 0).all() and (np.diff(scores, axis=1) <= 1e-6).all()
    floor = {"flat": 1.0, "hnsw": 0.9, "ivf": 0.9, "ivfpq": 0.2}[kind]  # plain PQ codes are lossy
    assert recall(rows, exact(vectors, queries, 10)) >= floor


def test_rows_stay_positional(built: dict[str, VectorIndex], vectors) -> None:
    """HNSW adds held-out rows last and reorders afterwards; IVF stores row ids: row i is still vector i."""
    for kind in ("flat", "hnsw", "ivf"):
        _, rows = built[kind].search(vectors[:200], 1)
        assert (rows[:, 0] == np.arange(200)).mean() >= 0.98, kind


def test_recall_is_measured_for_approximate_kinds(built: dict[str, VectorIndex]) -> None:
    assert built["flat"].recall_at_10 is None
    assert built["hnsw"].recall_at_10 >= 0.9
    assert built["ivf"].recall_at_10 >= 0.9
    assert 0.0 < built["ivfpq"].recall_at_10 <= 1.0
    assert built["hnsw"].params["efSearch"] >= 16  # tuned and recorded
    assert 1 <= built["ivf"].params["nprobe"] <= built["ivf"].params["nlist"]


def test_given_search_parameter_is_kept(vectors) -> None:
    index = VectorIndex.build(vectors, kind="hnsw", params={"M": 8, "efConstruction": 20, "efSearch": 12})
    assert index.params["M"] == 8 and index.params["efSearch"] == 12
    assert index.recall_at_10 is not None


def test_auto_picks_flat_below_the_threshold_and_hnsw_above(vectors) -> None:
    assert choose_kind(99_999) == "flat" and choose_kind(10_000_000) == "hnsw"
    assert VectorIndex.build(vectors).kind == "flat"
    assert VectorIndex.build(vectors, auto_flat_max=1_000).kind == "hnsw"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("share", [0.01, 0.3])
def test_filtered_search_returns_only_allowed_rows(
    built: dict[str, VectorIndex], vectors, queries, kind: str, share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small filter (exact path) and a large one (selector path, forced here) both fill k from allowed rows."""
    index = built[kind]
    allowed = np.sort(np.random.default_rng(3).choice(N, size=int(N * share), replace=False))
    monkeypatch.setattr("recommender.vector_index.EXACT_FILTER_MAX", 100)
    _, rows = index.search(queries, 10, allowed=allowed)
    assert rows.shape == (len(queries), 10)
    assert np.isin(rows, allowed).all()
    truth = allowed[exact(vectors[allowed], queries, 10)]
    assert recall(rows, truth) >= (0.2 if kind == "ivfpq" else 0.9)


def test_filter_smaller_than_k_pads_with_missing(built: dict[str, VectorIndex], queries) -> None:
    for kind in KINDS:
        scores, rows = built[kind].search(queries[:3], 10, allowed=np.array([5, 17, 2_999]))
        assert (rows[:, :3] >= 0).all() and set(rows[0, :3]) == {5, 17, 2_999}, kind
        assert (rows[:, 3:] == -1).all() and (scores[:, 3:] == MISSING_SCORE).all(), kind
        assert (built[kind].search(queries[:3], 10, allowed=np.array([], dtype=np.int64))[1] == -1).all()


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(built: dict[str, VectorIndex], queries, tmp_path: Path, kind: str) -> None:
    index = built[kind]
    path = tmp_path / "vectors.faiss"
    index.save(path)
    loaded = VectorIndex.load(path, params=index.params, recall_at_10=index.recall_at_10)
    assert (loaded.kind, loaded.params, loaded.recall_at_10) == (index.kind, index.params, index.recall_at_10)
    for allowed in (None, np.arange(0, N, 3)):
        expected, got = index.search(queries, 10, allowed=allowed), loaded.search(queries, 10, allowed=allowed)
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)


def test_load_without_manifest_params_recovers_search_params(built: dict[str, VectorIndex], tmp_path: Path) -> None:
    """FAISS stores efSearch and nprobe itself, so even an old manifest without params searches the same."""
    for kind in ("hnsw", "ivf"):
        built[kind].save(tmp_path / f"{kind}.faiss")
        loaded = VectorIndex.load(tmp_path / f"{kind}.faiss")
        name = "efSearch" if kind == "hnsw" else "nprobe"
        assert loaded.kind == kind and loaded.params[name] == built[kind].params[name]


def test_manifest_params_override_search_params_and_must_match_structure(
    built: dict[str, VectorIndex], tmp_path: Path
) -> None:
    path = tmp_path / "hnsw.faiss"
    built["hnsw"].save(path)
    assert VectorIndex.load(path, params={**built["hnsw"].params, "efSearch": 200}).params["efSearch"] == 200
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(path, params={**built["hnsw"].params, "M": 5})


def test_ivfpq_rerank_uses_the_stored_vectors(vectors, queries, tmp_path: Path) -> None:
    index = VectorIndex.build(vectors, kind="ivfpq", params={"rerank": 10})
    assert index.recall_at_10 >= 0.9
    assert recall(index.search(queries, 10)[1], exact(vectors, queries, 10)) >= 0.9
    index.save(tmp_path / "pq.faiss")
    with pytest.raises(InvalidInputError):
        VectorIndex.load(tmp_path / "pq.faiss", params=index.params)
    loaded = VectorIndex.load(tmp_path / "pq.faiss", params=index.params, vectors=vectors)
    np.testing.assert_array_equal(loaded.search(queries, 10)[1], index.search(queries, 10)[1])


def test_unknown_kind_or_parameter_is_refused(vectors) -> None:
    with pytest.raises(InvalidInputError):
        VectorIndex.build(vectors, kind="annoy")
    with pytest.raises(InvalidInputError):
        VectorIndex.build(vectors, kind="hnsw", params={"ef_search": 64})


def test_corrupt_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "vectors.faiss"
    path.write_bytes(b"not a faiss index at all")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(path)


def test_truncated_file_is_reported(built: dict[str, VectorIndex], tmp_path: Path) -> None:
    path = tmp_path / "vectors.faiss"
    built["hnsw"].save(path)
    path.write_bytes(path.read_bytes()[:5_000])
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(path)


def test_tiny_corpus(queries) -> None:
    """Fewer vectors than k: every kind answers with what there is and pads the rest."""
    few = clustered(5, D, seed=4)
    for kind in ("flat", "hnsw"):
        index = VectorIndex.build(few, kind=kind)
        _, rows = index.search(queries[:2], 10)
        assert rows.shape == (2, 5) and set(rows[0]) == set(range(5))
