"""After a refit: new themes take the ids of the old themes they continue."""

from __future__ import annotations

from recommender.themes.matching import match


def test_matched_themes_keep_their_ids():
    old = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2}
    new = {"a": 1, "b": 1, "c": 0, "d": 0, "e": 2, "f": 2}
    renumber, report = match(old, new, [0, 1, 2])
    assert renumber == {1: 0, 0: 1, 2: 2}
    assert report.ari == 1.0 and report.papers_compared == 5 and report.ended == []
    theme = next(item for item in report.themes if item.id == 2)
    assert theme.previous_id == 2 and theme.shared_papers == 1 and theme.jaccard == 0.5


def test_new_and_ended_themes_are_reported():
    old = {"a": 0, "b": 0, "c": 1, "d": 1}
    new = {"a": 0, "b": 0, "c": 0, "d": 0, "x": 1}
    renumber, report = match(old, new, [0, 1])
    assert sorted(renumber.values()) == [0, 1]
    assert report.ended == [1] and any(item.previous_id is None for item in report.themes)


def test_named_themes_keep_their_ids():
    old = {"a": 0, "b": 1, "c": 2}
    new = {"a": 0, "b": 2, "c": 1}
    renumber, _ = match(old, new, [0, 1, 2], fixed=1)
    assert renumber[0] == 0 and renumber == {0: 0, 1: 2, 2: 1}
