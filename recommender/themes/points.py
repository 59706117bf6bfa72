"""The theme map as the web page draws it: one point per paper shown, as columns, bounded at any corpus size.

Columns rather than one object per paper keep 20,000 papers to a compact answer (journals are given once in
``journals`` and referred to by position). A corpus of more than :data:`MAX_POINTS` papers is not sent whole
(a million points would be about 100 MB of JSON and more than a canvas can show): a sample is, each theme
(and the papers in no theme) in proportion to its size but never fewer than :data:`MIN_PER_THEME` points, its
most representative papers always in it (the theme list names them). Papers are chosen by a hash of their id,
so a paper shown stays shown when the map is extended with new papers. ``total`` and ``unthemed`` count every
paper on the map, ``sampled`` says whether the points are a sample.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from ..paper_table import NO_YEAR
from ..snapshot import Snapshot
from .fitted import FittedThemes

#: Points sent at most (plus up to MIN_PER_THEME or REPRESENTATIVES per small theme): ~2.5 MB of JSON.
MAX_POINTS = 25_000
#: Least points of a theme in a sample (all of a smaller theme's), so a small theme stays visible.
MIN_PER_THEME = 50
#: A theme's most representative papers, always among the points (the theme list shows them).
REPRESENTATIVES = 5


def theme_points(theme_map: FittedThemes, snapshot: Snapshot, max_points: int | None = None) -> dict[str, Any]:
    """The 2-D theme map as columns: id, x, y, theme (-1 for papers in no theme), year, journal, title, with
    the themes (label, terms, size, representatives, seed, timeline); a sample beyond ``max_points`` papers
    (default :data:`MAX_POINTS`). Work over every paper is array maths: a million take seconds, not minutes."""
    max_points = MAX_POINTS if max_points is None else max_points
    row_of = snapshot.row_of
    placed = [paper_id for paper_id in theme_map.coordinates if paper_id in row_of]
    rows = np.fromiter((row_of[paper_id] for paper_id in placed), dtype=np.int64, count=len(placed))
    theme_by_row = np.full(len(row_of), -1, dtype=np.int32)  # rows are 0 .. len(row_of) - 1
    for theme in theme_map.themes:
        members = [row_of[paper_id] for paper_id in theme.papers if paper_id in row_of]
        theme_by_row[np.asarray(members, dtype=np.int64)] = theme.id
    themes_of = theme_by_row[rows]
    shown = np.arange(len(placed))
    if len(placed) > max_points:
        shown = _sample(placed, themes_of, _representatives(theme_map, placed), max_points)
    columns = snapshot.columns
    journals: dict[str, int] = {}
    out: dict[str, list[Any]] = {name: [] for name in ("id", "x", "y", "theme", "year", "journal", "title")}
    for position in shown.tolist():
        paper_id, row = placed[position], int(rows[position])
        x, y = theme_map.coordinates[paper_id]
        year, journal = int(columns.years[row]), int(columns.journals[row])
        out["id"].append(paper_id)
        out["x"].append(round(float(x), 4))
        out["y"].append(round(float(y), 4))
        out["theme"].append(int(themes_of[position]))
        out["year"].append(None if year == NO_YEAR else year)
        name = columns.journal_names[journal] if journal >= 0 else ""
        out["journal"].append(journals.setdefault(name, len(journals)) if name else -1)
        out["title"].append(snapshot.papers[row].display_title)  # the only record read: for shown points
    themes = [
        {"id": theme.id, "label": theme.label, "terms": theme.terms, "size": theme.size,
         "representatives": theme.papers[:REPRESENTATIVES], "seed": theme.seed,
         "timeline": None if theme.timeline is None else theme.timeline.to_dict()}
        for theme in theme_map.themes
    ]  # fmt: skip
    return {
        "build_id": theme_map.build_id,
        "k": theme_map.k,
        "themes": themes,
        "journals": list(journals),
        "total": len(placed),
        "unthemed": int(np.count_nonzero(themes_of < 0)),
        "sampled": len(shown) < len(placed),
        **out,
    }


def _representatives(theme_map: FittedThemes, placed: list[str]) -> np.ndarray:
    """Which of the ``placed`` papers are a theme's most representative (always shown)."""
    named = {paper_id for theme in theme_map.themes for paper_id in theme.papers[:REPRESENTATIVES]}
    return np.fromiter((paper_id in named for paper_id in placed), dtype=bool, count=len(placed))


def _sample(placed: list[str], themes_of: np.ndarray, named: np.ndarray, max_points: int) -> np.ndarray:
    """Positions of about ``max_points`` of the ``placed`` papers, ascending (map order): each theme's share
    (see the module docstring), its ``named`` papers first, then the lowest id hashes."""
    rank = np.fromiter((zlib.crc32(paper_id.encode("utf-8")) for paper_id in placed), dtype=np.int64)
    rank[named] = -1
    chosen: list[np.ndarray] = []
    for group in np.unique(themes_of).tolist():
        members = np.flatnonzero(themes_of == group)
        quota = min(
            len(members), max(int(named[members].sum()), MIN_PER_THEME, max_points * len(members) // len(placed))
        )
        if quota < len(members):
            members = members[np.argpartition(rank[members], quota - 1)[:quota]]
        chosen.append(members)
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
