"""Themes of a large corpus: fitted on an evenly spaced sample, every other paper assigned to its nearest theme."""

from __future__ import annotations

import pytest
from helpers import CORPUS, built_service, filler_papers

from recommender.themes import fitting


@pytest.fixture()
def service(index_dir, tmp_path):
    return built_service(index_dir, tmp_path, papers=CORPUS + filler_papers(60))


def test_a_corpus_beyond_the_sample_is_themed_whole(service, monkeypatch):
    monkeypatch.setattr(fitting, "THEME_SAMPLE", 30)
    themes = service.themes(refit=True)
    ids = [paper.id for paper in service.store.papers()]
    themed = [paper_id for theme in themes.themes for paper_id in theme["papers"]]
    assert themes.sample == 30 and themes.papers == len(ids)
    assert sorted(themed + themes.unassigned) == sorted(ids)  # every paper once
    assert sum(theme["size"] for theme in themes.themes) == len(themed)
    assert all(len(theme["titles"]) == theme["size"] for theme in themes.themes)
    points = service.theme_points()
    assert sorted(points["id"]) == sorted(ids)  # every paper is on the map
    again = service.themes(refit=True)
    assert again.theme_of() == themes.theme_of()  # the sample is a deterministic choice


def test_a_corpus_within_the_sample_is_fitted_whole(service):
    assert service.themes(refit=True).sample is None
