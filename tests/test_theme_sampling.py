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
    themed = [paper_id for theme in themes.themes for paper_id in theme.papers]
    assert themes.sample == 30 and themes.papers == len(ids)
    assert sorted(themed + themes.unassigned) == sorted(ids)  # every paper once
    assert sum(theme.size for theme in themes.themes) == len(themed)
    assert all(len(theme.titles) == theme.size for theme in themes.themes)
    points = service.theme_points()
    assert sorted(points["id"]) == sorted(ids)  # every paper is on the map
    again = service.themes(refit=True)
    assert again.theme_of() == themes.theme_of()  # the sample is a deterministic choice


def test_a_corpus_within_the_sample_is_fitted_whole(service):
    assert service.themes(refit=True).sample is None


def test_a_map_beyond_its_point_budget_is_a_bounded_sample_of_every_theme(service, monkeypatch):
    from recommender.themes import points as points_module

    whole = service.theme_points()
    assert not whole["sampled"] and whole["total"] == len(whole["id"])
    assert service.theme_points() is whole  # kept: the page asks again after each visit
    monkeypatch.setattr(points_module, "MIN_PER_THEME", 3)
    fitted, snapshot = service.themes(), service._current_snapshot()
    sample = points_module.theme_points(fitted, snapshot, max_points=20)
    assert sample["sampled"] and sample["total"] == whole["total"] and sample["unthemed"] == whole["unthemed"]
    n = len(sample["id"])
    assert n < whole["total"] and n <= 20 + points_module.REPRESENTATIVES * (len(fitted.themes) + 1)
    assert all(len(sample[column]) == n for column in ("x", "y", "theme", "year", "journal", "title"))
    shown = set(sample["id"])
    for theme in fitted.themes:  # every theme is drawn, with the papers its list names
        assert set(theme.papers[: points_module.REPRESENTATIVES]) <= shown
        assert sum(1 for t in sample["theme"] if t == theme.id) >= min(theme.size, 3)
    assert [p for p in whole["id"] if p in shown] == sample["id"]  # map order kept
    assert points_module.theme_points(fitted, snapshot, max_points=20)["id"] == sample["id"]  # the same sample
    for column in ("x", "y", "theme", "year", "title"):  # a sampled point is the whole map's point
        row = {p: v for p, v in zip(whole["id"], whole[column], strict=True)}
        assert all(row[p] == v for p, v in zip(sample["id"], sample[column], strict=True))
