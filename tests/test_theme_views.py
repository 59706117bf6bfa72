"""The two views and the per-corpus weight: pure array maths."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.symbols import symbol_share
from recommender.themes.views import (
    GRAPH_WEIGHT_CLINICAL,
    GRAPH_WEIGHT_MOLECULAR,
    concatenated,
    dense_weight,
    fused_affinity,
    knn_affinity,
    lexical_view,
)
from recommender.tokenizer import index_terms


def test_symbol_share_counts_words_with_a_digit():
    assert symbol_share(["IL-6 activates STAT3 in CD8 cells"]) == pytest.approx(3 / 6)
    assert symbol_share(["Patients with asthma were treated"]) == 0.0
    assert symbol_share([]) == 0.0


def test_weight_leans_on_words_for_symbol_rich_corpora():
    assert dense_weight(0.005) == GRAPH_WEIGHT_CLINICAL
    assert dense_weight(0.08) == GRAPH_WEIGHT_MOLECULAR
    middle = dense_weight(0.02)
    assert GRAPH_WEIGHT_MOLECULAR < middle < GRAPH_WEIGHT_CLINICAL
    assert dense_weight(0.015) > dense_weight(0.025)  # monotone


def test_knn_affinity_is_symmetric_and_skips_unrelated_rows():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph = knn_affinity(vectors, 1)
    assert (graph != graph.T).nnz == 0
    assert graph[0, 1] > 0 and graph[2, 3] > 0 and graph[0, 2] == 0
    assert graph[4].nnz == 0  # its nearest row has a negative cosine: no neighbour at all


def test_lexical_view_needs_shared_terms():
    texts = ["anoikis resistance in gastric cancer", "anoikis resistance and SERPINE1", "IL-6 and STAT3 in CAFs",
             "CAFs secrete IL-6"]  # fmt: skip
    view = lexical_view([index_terms(t) for t in texts])
    assert view is not None and view.vectors.shape[0] == 4
    assert np.allclose(np.linalg.norm(view.vectors, axis=1), 1, atol=1e-5)
    similarity = view.vectors @ view.vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[2, 3] > similarity[1, 3]
    assert lexical_view([index_terms(t) for t in texts[:3]]) is None  # too few papers
    assert lexical_view([["a1"], ["b2"], ["c3"], ["d4"]]) is None  # nothing shared


def test_fused_space_mixes_the_cosines_by_weight():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 8)).astype(np.float32)
    lexical = rng.normal(size=(4, 5)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    lexical /= np.linalg.norm(lexical, axis=1, keepdims=True)
    fused = concatenated(dense, lexical, 0.3)
    assert np.allclose(fused @ fused.T, 0.3 * dense @ dense.T + 0.7 * lexical @ lexical.T, atol=1e-5)
    graph = knn_affinity(dense, 2)
    assert fused_affinity(graph, None, 0.3) is graph
