"""Recommend by examples, and filters applied inside the search (fake embedder, synthetic corpus)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TOPIC, jsonl, write

from recommender.errors import InvalidInputError, NotFoundError
from recommender.retrieval import Filters


@pytest.fixture()
def big(make_service, tmp_path):
    """500 generated papers, 5 of them (1%) from journal 'Rare J' in 2001."""
    rng = np.random.default_rng(0)
    words = "anoikis hypoxia fibroblast stat3 glycolysis exhaustion lactate integrin kinase receptor".split()
    records = []
    for i in range(500):
        text = " ".join(rng.choice(words, size=30))
        rare = i % 100 == 7
        records.append(
            {
                "id": f"p{i}",
                "title": f"Paper {i}",
                "abstract": text,
                "journal": "Rare J" if rare else "Common J",
                "year": 2001 if rare else 2015 + i % 8,
            }
        )
    service = make_service("big")
    service.ingest([write(tmp_path / "big.jsonl", jsonl(records))])
    service.build()
    return service


def test_recommend_follows_positive_examples(built):
    hits = built.recommend(["a1", "a2"], [], 3)
    assert {"a1", "a2"}.isdisjoint(hit.id for hit in hits)
    assert hits[0].id == "a3"


def test_negative_examples_push_their_topic_down(built):
    mixed = {hit.id: hit for hit in built.recommend(["a1", "c1"], [], 6)}
    away = built.recommend(["a1", "c1"], ["c2"], 6)
    assert "c2" not in {hit.id for hit in away}
    assert TOPIC[away[0].id] == "a"
    after = {hit.id: hit for hit in away}
    assert after["c3"].score < mixed["c3"].score  # the CAF paper loses, the anoikis papers barely move
    assert after["c3"].score - mixed["c3"].score < after["a2"].score - mixed["a2"].score


def test_recommend_refuses_bad_examples(built):
    with pytest.raises(InvalidInputError):
        built.recommend([], ["a1"])
    with pytest.raises(InvalidInputError):
        built.recommend("a1")  # a string, not a list
    with pytest.raises(NotFoundError):
        built.recommend(["a1", "nope"])


@pytest.mark.parametrize("query", ["related", "search", "recommend"])
def test_a_99_percent_filter_still_returns_k_results(big, query):
    filters = Filters(journals=("rare j",))
    if query == "related":
        hits = big.related("p0", 5, filters=filters)
    elif query == "search":
        hits = big.search("anoikis hypoxia", 5, filters=filters)
    else:
        hits = big.recommend(["p0", "p1"], [], 5, filters=filters)
    assert sorted(hit.id for hit in hits) == ["p107", "p207", "p307", "p407", "p7"]


def test_year_range_and_exclude(big):
    hits = big.related("p0", 20, filters=Filters(year_min=2016, year_max=2017, exclude=("p1", "p2", "p9")))
    assert len(hits) == 20
    assert all(2016 <= big.show(hit.id).year <= 2017 for hit in hits)
    assert {"p1", "p2", "p9"}.isdisjoint(hit.id for hit in hits)
    for mode in ("dense", "lexical"):
        assert all(
            2016 <= big.show(h.id).year <= 2017
            for h in big.related("p0", 10, mode=mode, filters=Filters(year_min=2016, year_max=2017))
        )


def test_theme_filter_uses_the_theme_ids(built):
    report = built.themes()
    theme = report.themes[0]
    hits = built.search("cancer cells", 20, filters=Filters(themes=(theme.id,)))
    assert {hit.id for hit in hits} <= set(theme.papers) and hits
    with pytest.raises(InvalidInputError, match="unknown theme id"):
        built.search("cancer", filters=Filters(themes=(99,)))


@pytest.mark.parametrize(
    "filters",
    [Filters(year_min=2020, year_max=2010), Filters(year_min="2020"), Filters(journals=("",)), Filters(themes=("x",))],
)
def test_bad_filters_are_refused(built, filters):
    with pytest.raises(InvalidInputError):
        built.related("a1", filters=filters)


def test_filter_that_matches_nothing_returns_nothing(built):
    assert built.related("a1", 5, filters=Filters(journals=("Nowhere",))) == []
