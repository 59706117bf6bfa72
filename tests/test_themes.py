"""ThemeModel on arrays: the estimator contract, automatic k, labels, confidence, outliers, warm starts."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.themes import NOISE, ThemeModel


def blobs(sizes: list[int], dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[: len(sizes)] * 5
    points = np.vstack(
        [centre + rng.normal(scale=0.3, size=(size, dim)) for centre, size in zip(centres, sizes, strict=True)]
    )
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)


TEXTS = {
    0: "Anoikis resistance lets detached cancer cells survive; anoikis resistance drives metastasis.",
    1: "Cancer-associated fibroblasts secrete IL-6 and activate STAT3 signalling in cancer cells.",
    2: "Hypoxia stabilises HIF-1alpha and switches cancer cells to glycolysis.",
    3: "Telomerase keeps telomeres long and lets tumour cells divide without limit.",
}


def test_fit_returns_self_and_learns_underscored_attributes():
    vectors, truth = blobs([5, 5, 5])
    model = ThemeModel(n_themes=3)
    assert model.fit(vectors, [TEXTS[t] for t in truth]) is model
    assert model.n_themes_ == 3 and len(model.labels_) == 15 and len(model.themes_) == 3
    assert ThemeModel(n_themes=3).n_themes == 3 and not hasattr(ThemeModel(), "labels_")


def test_clusters_recover_separated_groups_and_are_reproducible():
    vectors, truth = blobs([6, 4, 5])
    texts = [TEXTS[t] for t in truth]
    first = ThemeModel(n_themes=3, random_state=7).fit(vectors, texts).labels_
    second = ThemeModel(n_themes=3, random_state=7).fit(vectors, texts).labels_
    assert np.array_equal(first, second)
    assert {frozenset(np.flatnonzero(first == c)) for c in range(3)} == {
        frozenset(np.flatnonzero(truth == c)) for c in range(3)
    }
    assert np.bincount(first).tolist() == [6, 5, 4]  # themes numbered by size


def test_automatic_k_finds_the_number_of_groups():
    vectors, truth = blobs([6, 6, 6, 6])
    model = ThemeModel().fit(vectors, [TEXTS[t] for t in truth])
    assert model.n_themes_ == 4 and model.silhouette_ > 0.5


def test_automatic_k_never_makes_one_paper_themes():
    vectors, truth = blobs([2, 2])
    model = ThemeModel().fit(vectors, [TEXTS[t] for t in truth])
    assert model.n_themes_ == 2
    assert ThemeModel().fit(vectors[:3], ["a b c"] * 3).n_themes_ == 1


def test_labels_name_each_group_by_its_distinctive_terms():
    vectors, truth = blobs([3, 3, 3])
    model = ThemeModel(n_themes=3).fit(vectors, [TEXTS[t] for t in truth])
    labels = {int(truth[theme.rows[0]]): theme.label.lower() for theme in model.themes_}
    assert "anoikis resistance" in labels[0]
    assert "il-6" in labels[1] or "stat3" in labels[1] or "fibroblasts" in labels[1]
    assert "hif-1alpha" in labels[2] or "hypoxia" in labels[2] or "glycolysis" in labels[2]
    assert all("cancer" not in theme.terms[:2] for theme in model.themes_)  # shared by every group


def test_representative_papers_come_first():
    vectors, truth = blobs([5, 5])
    model = ThemeModel(n_themes=2).fit(vectors, [TEXTS[t] for t in truth])
    for theme in model.themes_:
        centre = vectors[theme.rows].mean(axis=0)
        closeness = vectors[theme.rows] @ centre
        assert list(closeness) == sorted(closeness, reverse=True)


@pytest.mark.parametrize("method", ["spectral", "kmeans", "agglomerative", "hdbscan"])
def test_every_method_recovers_separated_groups(method):
    vectors, truth = blobs([8, 8, 8])
    model = ThemeModel(n_themes=3, method=method).fit(vectors, [TEXTS[t] for t in truth])
    found = {frozenset(np.flatnonzero(model.labels_ == c)) for c in range(model.n_themes_)}
    expected = {frozenset(np.flatnonzero(truth == c)) for c in range(3)}
    if method == "hdbscan":  # may leave outliers unassigned, never mixes groups
        assert all(any(group <= theme for theme in expected) for group in found)
    else:
        assert found == expected


def test_hdbscan_reports_outliers_instead_of_forcing_them():
    vectors, truth = blobs([30, 30])
    rng = np.random.default_rng(3)
    outliers = rng.normal(size=(3, vectors.shape[1])).astype(np.float32)
    outliers /= np.linalg.norm(outliers, axis=1, keepdims=True)
    data = np.vstack([vectors, outliers])
    texts = [TEXTS[t] for t in truth] + ["Zebrafish fins regrow.", "Bridges corrode in seawater.", "Monks mixed ink."]
    model = ThemeModel(n_themes=2, method="hdbscan", view_weight=1.0).fit(data, texts)
    assert (model.labels_ == NOISE).sum() == len(model.unassigned_)
    for row in (60, 61, 62):  # outliers: left out with a reason, or taken in with less confidence than members
        if model.labels_[row] == NOISE:
            assert model.unassigned_reasons_[row]
        else:
            assert model.confidence_[row] < np.median(model.confidence_[:60])


def test_structure_outputs():
    vectors, truth = blobs([5, 5, 5])
    model = ThemeModel(n_themes=3).fit(vectors, [TEXTS[t] for t in truth])
    assert model.similarity_.shape == (3, 3) and np.allclose(np.diag(model.similarity_), 1, atol=1e-5)
    assert len(model.hierarchy_) == 2 and model.hierarchy_[-1].size == 3
    assert model.coordinates_.shape == (15, 2)
    assert model.centroids_.shape == (3, vectors.shape[1])


def test_bad_inputs():
    vectors, _ = blobs([2, 2])
    with pytest.raises(ValueError):
        ThemeModel(n_themes=5).fit(vectors, ["x"] * 4)
    with pytest.raises(ValueError):
        ThemeModel().fit(vectors, ["x"] * 3)
    with pytest.raises(ValueError):
        ThemeModel().fit(np.zeros((0, 4)), [])
