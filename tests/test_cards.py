"""Result cards: authors, links out, snippets, theme chips, sort and paging, in the JSON hits and the CLI."""

from __future__ import annotations

import pytest
from helpers import CORPUS, built_service

from recommender.cards import links, opening, page
from recommender.errors import InvalidInputError
from recommender.paper import Paper
from recommender.web import create_app

AUTHORS = ["Ada Lovelace", "Grace Hopper", "Rosalind Franklin", "Barbara McClintock", "Lise Meitner"]
PAPERS = [
    dict(CORPUS[0], authors=AUTHORS, doi="10.5555/a<1>#frag?x=1%", pmid="33000001", pmcid="PMC7000001"),
    *CORPUS[1:],
]


@pytest.fixture()
def service(index_dir, tmp_path):
    return built_service(index_dir, tmp_path, papers=PAPERS)


def test_links_escape_what_a_url_would_misread():
    paper = Paper(id="x", doi="10.5555/a<1>#frag?x=1%", pmid="33000001", pmcid="PMC7000001")
    assert links(paper) == {
        "doi": "https://doi.org/10.5555/a%3C1%3E%23frag%3Fx%3D1%25",
        "pubmed": "https://pubmed.ncbi.nlm.nih.gov/33000001/",
        "pmc": "https://pmc.ncbi.nlm.nih.gov/articles/PMC7000001/",
    }
    assert links(Paper(id="y")) == {}


def test_opening_is_cut_at_a_word_and_marked():
    snippet = opening(Paper(id="x", abstract="word " * 200))
    assert snippet is not None and snippet["text"].endswith(" …") and len(snippet["text"]) <= 282
    assert snippet["highlights"] == []
    assert opening(Paper(id="y")) is None


def test_year_sort_puts_newest_first_and_undated_last_keeping_rank_within_a_year():
    items = [("a", 2019), ("b", None), ("c", 2023), ("d", 2019)]
    assert page(items, 0, 10, "year", year=lambda item: item[1]) == [("c", 2023), ("a", 2019), ("d", 2019), ("b", None)]
    assert page(items, 1, 2, "relevance", year=lambda item: item[1]) == [("b", None), ("c", 2023)]


def test_hits_carry_the_card_fields(service):
    hit = next(hit for hit in service.search("anoikis resistance ERK", k=5) if hit.id == "a1")
    assert hit.authors == AUTHORS[:3] and hit.author_count == 5
    assert set(hit.links) == {"doi", "pubmed", "pmc"} and hit.pmcid == "PMC7000001"
    assert hit.snippet is not None and hit.snippet["highlights"]
    assert hit.theme is None  # no theme map fitted yet: a search never waits for one
    fitted = service.themes(3)
    service.themes()  # the default map, the one chips come from
    chip = service.search("anoikis resistance ERK", k=1)[0].theme
    assert chip is not None and chip["label"] in {theme.label for theme in service.themes().themes}
    assert fitted.k == 3


def test_pages_continue_where_the_last_ended(service):
    everything = [hit.id for hit in service.related("a1", k=8)]
    pages = [hit.id for offset in (0, 3, 6) for hit in service.related("a1", k=3, offset=offset)]
    assert pages == everything
    by_year = service.related("a1", k=8, sort="year")
    years = [hit.year or 0 for hit in by_year]
    assert years == sorted(years, reverse=True) and {hit.id for hit in by_year} == set(everything)
    with pytest.raises(InvalidInputError, match="offset"):
        service.related("a1", k=10, offset=995)
    with pytest.raises(InvalidInputError, match="sort"):
        service.search("anoikis", sort="citations")


def test_json_hits_and_openapi_describe_the_card_fields(service):
    client = create_app(service=service).test_client()
    hits = client.get("/papers/a2/related?k=2&offset=1&sort=year").get_json()
    assert len(hits) == 2 and {"authors", "author_count", "links", "snippet", "theme", "pmcid"} <= set(hits[0])
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]["Hit"]
    assert {"authors", "author_count", "links", "theme", "pmcid", "snippet"} <= set(schema["properties"])
    bad = client.get("/papers/a2/related?sort=popular")
    assert bad.status_code == 400 and "sort" in bad.get_json()["error"]["message"]
