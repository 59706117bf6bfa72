"""A theme map's parts are dataclasses whose JSON is exactly what kept maps and clients have always read."""

from __future__ import annotations

import json

import pytest

from recommender.errors import IndexCorruptError
from recommender.themes.fitted import FILENAME, FittedThemes
from recommender.themes.theme import Changes, Merge, Theme, ThemeChange, Timeline

#: A kept map (format 2) as earlier releases wrote it, key for key and in their order.
KEPT = {
    "build_id": "b2", "model": "bundled:all-MiniLM-L6-v2", "method": "spectral", "requested_k": 2, "k": 2,
    "papers": 3, "silhouette": 0.41,
    "themes": [
        {"id": 0, "label": "anoikis resistance", "terms": ["anoikis resistance", "anoikis"], "size": 2,
         "papers": ["a1", "n1"], "titles": ["Anoikis", "Anoikis again"], "confidence": [0.9, None], "seed": None,
         "label_rule": "strict",
         "timeline": {"counts": {"2020": 1}, "share": {"2020": 0.5}, "undated": 1, "slope": None, "trend": None}},
        {"id": 1, "label": "IL-6", "terms": ["IL-6"], "size": 1, "papers": ["c1"], "titles": ["CAF IL-6"],
         "confidence": [1.0], "seed": "IL-6", "label_rule": None,
         "timeline": {"counts": {"2019": 1, "2020": 1}, "share": {"2019": 1.0, "2020": 0.5}, "undated": 0,
                      "slope": 0.012, "trend": "growing"}},
    ],
    "unassigned": ["x1"], "unassigned_reasons": {"x1": "no neighbours"},
    "hierarchy": [{"left": 0, "right": 1, "distance": 0.8123, "size": 2}],
    "similarity": [[1.0, 0.2], [0.2, 1.0]], "centroids": [[0.6, 0.8], [1.0, 0.0]],
    "coordinates": {"a1": [0.1, 0.2], "n1": [0.11, 0.2], "c1": [0.9, 0.8], "x1": [0.5, 0.5]},
    "incremental": ["n1"], "seed_themes": ["IL-6"], "view_weight": 1.0, "symbol_share": 0.0105,
    "changes": {"papers_compared": 2, "ari": 1.0,
                "themes": [{"id": 0, "previous_id": 0, "shared_papers": 1, "jaccard": 0.5},
                           {"id": 1, "previous_id": None, "shared_papers": 0, "jaccard": 0.0}],
                "ended": [], "compared_with": "b1"},
    "sample": None, "format": 2,
}  # fmt: skip


def test_a_kept_map_is_read_into_dataclasses_and_written_back_byte_for_byte(tmp_path):
    text = json.dumps(KEPT, ensure_ascii=False)
    (tmp_path / FILENAME).write_text(text, encoding="utf-8")
    loaded = FittedThemes.load(tmp_path)
    assert loaded is not None
    assert all(isinstance(theme, Theme) and isinstance(theme.timeline, Timeline) for theme in loaded.themes)
    assert loaded.hierarchy == [Merge(left=0, right=1, distance=0.8123, size=2)]
    assert isinstance(loaded.changes, Changes) and loaded.changes.themes[1] == ThemeChange(1, None, 0, 0.0)
    assert loaded.themes[1].seed == "IL-6" and loaded.themes[0].confidence == [0.9, None]
    loaded.save(tmp_path)
    assert (tmp_path / FILENAME).read_text(encoding="utf-8") == text
    answer = loaded.to_dict()  # the API's and --json answer: the same, without centres, coordinates and format
    assert list(answer) == [key for key in KEPT if key not in ("centroids", "coordinates", "format")]
    assert answer["themes"] == KEPT["themes"] and answer["changes"] == KEPT["changes"]


def test_a_theme_s_json_keys_keep_their_order():
    theme = FittedThemes.from_dict(KEPT).themes[0]
    assert list(theme.to_dict()) == list(KEPT["themes"][0])
    assert Theme.from_dict(theme.to_dict()) == theme


@pytest.mark.parametrize(
    "theme",
    [
        {"id": "one", "label": "x", "size": 1, "papers": ["a"]},
        {"id": 1, "label": 3, "size": 1, "papers": ["a"]},
        {"id": 1, "label": "x", "size": 1, "papers": [1]},
        {"id": 1, "label": "x", "size": True, "papers": ["a"]},
        {"id": 1, "label": "x", "size": 1, "papers": ["a"], "confidence": ["high"]},
        {"id": 1, "label": "x", "size": 1, "papers": ["a"], "timeline": {"counts": {"2020": "1"}, "undated": 0}},
        "not a theme",
    ],
)
def test_a_theme_of_another_shape_is_refused(theme):
    with pytest.raises(ValueError):
        FittedThemes.from_dict({**KEPT, "themes": [theme]})


def test_a_damaged_kept_map_is_reported_as_corrupt(tmp_path):
    damaged = {**KEPT, "hierarchy": [{"left": 0, "right": "1", "distance": 0.5, "size": 2}]}
    (tmp_path / FILENAME).write_text(json.dumps(damaged), encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        FittedThemes.load(tmp_path)
    (tmp_path / FILENAME).write_text(json.dumps({**KEPT, "format": 1}), encoding="utf-8")
    assert FittedThemes.load(tmp_path) is None  # an older format is fitted again, not read


def test_extend_keeps_the_themes_typed():
    kept = FittedThemes.from_dict(KEPT)
    titles = {"a1": "Anoikis", "n1": "Anoikis again", "c1": "CAF IL-6", "x1": "Loose", "z9": "New"}
    vectors = [[0.6, 0.8]] * 4 + [[1.0, 0.0]]
    extended = kept.extend("b3", list(titles), titles, dict.fromkeys(titles, 2021), _Rows(vectors))
    assert extended.themes[1].papers == ["c1", "z9"] and extended.themes[1].confidence == [1.0, None]
    assert extended.themes[1].size == 2 and extended.themes[1].titles == ["CAF IL-6", "New"]
    assert extended.themes[1].timeline == Timeline({"2021": 2}, {"2021": 0.4}, 0, None, None)
    assert kept.themes[1].papers == ["c1"]  # the kept map is not changed


class _Rows:
    def __init__(self, rows: list[list[float]]) -> None:
        self.rows = rows

    def __getitem__(self, positions: list[int]) -> list[list[float]]:
        return [self.rows[i] for i in positions]
