"""Themes over time: papers per year, the theme's share of each year's papers, and whether it is growing.

"Which themes are growing" is read from the share, not the count (a corpus collected for recent years grows
everywhere): the least-squares slope of the theme's share over the last :data:`TREND_YEARS` years that have
at least :data:`MIN_YEAR_PAPERS` papers in the corpus, needing :data:`MIN_TREND_YEARS` such years and
:data:`MIN_THEME_PAPERS` of the theme's papers in them (fewer say nothing but noise). The theme is
``growing`` when that slope is at least :data:`TREND_THRESHOLD` (10%) of the theme's mean share per year,
``shrinking`` when it is at most minus that, else ``steady``; with too few dated years the trend is ``null``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from .theme import Timeline

TREND_YEARS = 10
MIN_YEAR_PAPERS = 5
MIN_TREND_YEARS = 3
MIN_THEME_PAPERS = 10
TREND_THRESHOLD = 0.10


def theme_timelines(members: Sequence[Sequence[int]], years: Sequence[int | None]) -> list[Timeline]:
    """For each theme (its member rows): ``counts`` and ``share`` by year (years as strings, ascending),
    ``undated`` papers, the ``slope`` of the share per year and the ``trend`` word."""
    corpus = Counter(year for year in years if year is not None)
    recent = sorted(year for year, count in corpus.items() if count >= MIN_YEAR_PAPERS)[-TREND_YEARS:]
    timelines = []
    for rows in members:
        counts = Counter(year for year in (years[row] for row in rows) if year is not None)
        share = {year: counts[year] / corpus[year] for year in sorted(counts)}
        in_window = sum(counts.get(year, 0) for year in recent)
        slope, trend = (
            _trend([counts.get(year, 0) / corpus[year] for year in recent], recent)
            if in_window >= MIN_THEME_PAPERS
            else (None, None)
        )
        timelines.append(Timeline(
            counts={str(year): counts[year] for year in sorted(counts)},
            share={str(year): round(value, 4) for year, value in share.items()},
            undated=sum(1 for row in rows if years[row] is None),
            slope=slope,
            trend=trend,
        ))  # fmt: skip
    return timelines


def _trend(shares: list[float], years: list[int]) -> tuple[float | None, str | None]:
    if len(years) < MIN_TREND_YEARS:
        return None, None
    x = np.asarray(years, dtype=np.float64)
    y = np.asarray(shares, dtype=np.float64)
    slope = float(np.polyfit(x - x.mean(), y, 1)[0])
    mean = float(y.mean())
    if mean <= 0:
        return round(slope, 5), "steady"
    relative = slope / mean
    trend = "growing" if relative >= TREND_THRESHOLD else "shrinking" if relative <= -TREND_THRESHOLD else "steady"
    return round(slope, 5), trend
