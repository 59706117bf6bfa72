"""Themes over time: counts, shares of each year's papers, and the trend rule."""

from __future__ import annotations

from recommender.themes.timeline import theme_timelines


def test_counts_shares_and_trends():
    years = [2018] * 10 + [2019] * 10 + [2020] * 10 + [2021] * 10
    growing = [0, 10, 11, 20, 21, 22, 30, 31, 32, 33]  # 1, 2, 3, 4 papers a year
    shrinking = [1, 2, 3, 4, 12, 13, 14, 23, 24, 34]  # 4, 3, 2, 1
    steady = [5, 6, 7, 15, 16, 17, 25, 26, 27, 35, 36, 37]  # 3 a year
    few = [8, 18, 28]  # one a year: too few papers to call a trend
    first, second, third, fourth = theme_timelines([growing, shrinking, steady, few], years)
    assert first.counts == {"2018": 1, "2019": 2, "2020": 3, "2021": 4}
    assert first.share["2021"] == 0.4
    assert (first.trend, second.trend, third.trend, fourth.trend) == (
        "growing",
        "shrinking",
        "steady",
        None,
    )
    assert first.slope > 0 > second.slope


def test_too_few_dated_years_give_no_trend_and_undated_papers_are_counted():
    years = [2020, 2020, None, None]
    (timeline,) = theme_timelines([[0, 1, 2, 3]], years)
    assert timeline.undated == 2 and timeline.trend is None and timeline.counts == {"2020": 2}
