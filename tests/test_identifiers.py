"""Pasted identifier lists and saved PubMed results pages: parsed into normalised PMIDs, DOIs and PMCIDs, and
told apart from one-paper pages so ingest refuses them with a pointer instead of inventing a paper."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from recommender.errors import TooLargeError
from recommender.ingest import Rejected, read_paths
from recommender.ingest.detect import sniff
from recommender.ingest.identifiers import (
    MAX_IDENTIFIERS,
    Identifier,
    classify,
    is_results_page,
    looks_like_identifier_list,
    parse_identifiers,
    results_page_pmids,
)


def pmid(value: str) -> Identifier:
    return Identifier("pmid", value)


def doi(value: str) -> Identifier:
    return Identifier("doi", value)


def pmcid(value: str) -> Identifier:
    return Identifier("pmcid", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # PubMed's "Save → Format: PMID" file: one PMID a line
        ("39000001\n38000002\n37000003\n", [pmid("39000001"), pmid("38000002"), pmid("37000003")]),
        ("39000001\r\n38000002\r\n", [pmid("39000001"), pmid("38000002")]),
        ("39000001, 38000002;37000003", [pmid("39000001"), pmid("38000002"), pmid("37000003")]),
        ("39000001,38000002,37000003", [pmid("39000001"), pmid("38000002"), pmid("37000003")]),
        ("PMID: 39000001\nPMID:38000002\npmid 37000003", [pmid("39000001"), pmid("38000002"), pmid("37000003")]),
        ("PMID- 39000001\nPMID- 38000002", [pmid("39000001"), pmid("38000002")]),
        ("pubmed:39000001", [pmid("39000001")]),
        ("PMC9000001 pmc9000002 PMCID: PMC9000003", [pmcid("PMC9000001"), pmcid("PMC9000002"), pmcid("PMC9000003")]),
        ("PMCID:PMC009000001", [pmcid("PMC9000001")]),
        ("10.5555/JSO.2023.9\n10.5555/abc-1.", [doi("10.5555/jso.2023.9"), doi("10.5555/abc-1")]),
        ("doi:10.5555/jso.2023.9 DOI: 10.5555/jso.2023.10", [doi("10.5555/jso.2023.9"), doi("10.5555/jso.2023.10")]),
        (
            "https://doi.org/10.5555/JSO.2023.9 http://dx.doi.org/10.5555/x.1",
            [doi("10.5555/jso.2023.9"), doi("10.5555/x.1")],
        ),
        (
            "https://pubmed.ncbi.nlm.nih.gov/39000001/ https://www.ncbi.nlm.nih.gov/pubmed/38000002",
            [pmid("39000001"), pmid("38000002")],
        ),
        (
            "https://pmc.ncbi.nlm.nih.gov/articles/PMC9000001/ https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9000002",
            [pmcid("PMC9000001"), pmcid("PMC9000002")],
        ),
        (
            "https://europepmc.org/article/MED/39000001 https://europepmc.org/abstract/PMC/PMC9000001",
            [pmid("39000001"), pmcid("PMC9000001")],
        ),
        # a SICI DOI holds ';', '<', '>' and '(' and stays whole
        (
            "10.1002/(SICI)1097-4636(199706)35:4<464::AID-JBM6>3.0.CO;2-D, 39000001",
            [doi("10.1002/(sici)1097-4636(199706)35:4<464::aid-jbm6>3.0.co;2-d"), pmid("39000001")],
        ),
        ("10.1016/S0140-6736(20)30183-5.", [doi("10.1016/s0140-6736(20)30183-5")]),
        # mixed, quoted, bracketed, duplicated
        (
            '"39000001"; (PMC9000001) [10.5555/jso.2023.9] 39000001',
            [pmid("39000001"), pmcid("PMC9000001"), doi("10.5555/jso.2023.9")],
        ),
        ("PMID\n39000001\n38000002", [pmid("39000001"), pmid("38000002")]),  # a one-column sheet with its header
        ("pmid,doi\n39000001,10.5555/jso.2023.9", [pmid("39000001"), doi("10.5555/jso.2023.9")]),
        ("", []),
        ("   \n\n", []),
    ],
)
def test_pasted_lists(text: str, expected: list[Identifier]) -> None:
    assert parse_identifiers(text) == expected


def test_numbers_in_prose_are_not_pmids_but_labelled_ones_are() -> None:
    reference = "Wang B, Li X. ZK9 and anoikis. J Synth Oncol. 2020;580:123-7. doi: 10.5555/jso.2020.1. PMID: 32000001."
    assert parse_identifiers(reference) == [doi("10.5555/jso.2020.1"), pmid("32000001")]


def test_classify_single_tokens() -> None:
    assert classify("39000001") == pmid("39000001")
    assert classify("39000001", bare_numbers=False) is None
    assert classify("PMID:39000001", bare_numbers=False) == pmid("39000001")
    assert classify("0") is None and classify("1234567890") is None  # not a PMID: none or too many digits
    assert classify("PMC") is None and classify("anoikis") is None and classify("https://example.org/") is None
    assert classify("10.12/short") is None  # a DOI's registrant has four digits or more


# A PubMed results page as saved from the browser: the real markup (classes, attributes, nesting) of
# pubmed.ncbi.nlm.nih.gov/?term=..., with made-up results.
RESULTS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>anoikis kinase - Search Results - PubMed</title>
  <meta name="ncbi_app" content="pubmed">
  <meta name="ncbi_db" content="pubmed">
  <meta name="ncbi_pdid" content="searchresult">
  <meta name="log_displayeduids" content="39000001,38000002,37000003">
  <link rel="stylesheet" href="https://cdn.ncbi.nlm.nih.gov/pubmed/static/CACHE/css/output.css" type="text/css">
</head>
<body>
<main class="search-page" id="search-page">
  <div class="search-results" id="search-results">
    <div class="top-wrapper"><div class="results-amount-container"><div class="results-amount">
      <h3><span class="value">3</span> results</h3>
    </div></div></div>
    <section class="search-results-list">
      <div class="search-results-chunks">
        <div class="search-results-chunk results-chunk" data-page-number="1" data-chunk-ids="39000001,38000002,37000003">
          <article class="full-docsum" data-rel-pos="1">
            <div class="item-selector-wrap selectors-and-actions first-selector">
              <input aria-labelledby="result-selector-label" class="search-result-selector" id="select-39000001" name="search-result-selector-39000001" type="checkbox" value="39000001">
              <label class="search-result-position" for="select-39000001"><span class="position-number">1</span></label>
            </div>
            <div class="docsum-wrap">
              <div class="docsum-content">
                <a class="docsum-title" href="/39000001/" ref="linksrc=docsum_link&amp;article_id=39000001&amp;ordinalpos=1&amp;page=1" data-ga-category="result_click" data-ga-action="1" data-ga-label="39000001" data-full-article-url="full-view-heading" data-article-id="39000001">
                  <b>Anoikis</b> resistance through a synthetic <b>kinase</b>.
                </a>
                <div class="docsum-citation full-citation">
                  <span class="docsum-authors full-authors">Wang B, Li X, Doe JQ.</span>
                  <span class="docsum-authors short-authors">Wang B, et al.</span>
                  <span class="docsum-journal-citation full-journal-citation">J Synth Oncol. 2025 Jan;12(1):1-9. doi: 10.5555/jso.2025.1. Epub 2024 Dec 1.</span>
                  <span class="docsum-journal-citation short-journal-citation">J Synth Oncol. 2025.</span>
                  <span class="citation-part">PMID: <span class="docsum-pmid">39000001</span></span>
                  <span class="citation-part">Free PMC article.</span>
                </div>
                <div class="docsum-snippet"><div class="full-view-snippet">Detached cells die by <b>anoikis</b> unless 2024 signals keep them.</div></div>
              </div>
            </div>
          </article>
          <article class="full-docsum" data-rel-pos="2">
            <div class="docsum-wrap">
              <div class="docsum-content">
                <a class="docsum-title" href="/38000002/" data-article-id="38000002">A second synthetic paper.</a>
                <div class="docsum-citation full-citation">
                  <span class="docsum-authors full-authors">Roe K.</span>
                  <span class="docsum-journal-citation full-journal-citation">Cell Rep. 2024;3:100.</span>
                  <span class="citation-part">PMID: <span class="docsum-pmid">38000002</span></span>
                  <span class="publication-type spaced-citation-item citation-part">Review.</span>
                </div>
              </div>
            </div>
          </article>
          <article class="full-docsum" data-rel-pos="3">
            <div class="docsum-wrap">
              <div class="docsum-content">
                <a class="docsum-title" href="/37000003/" data-article-id="37000003">A third one.</a>
                <div class="docsum-citation full-citation">
                  <span class="citation-part">PMID: <span class="docsum-pmid">37000003</span></span>
                </div>
              </div>
            </div>
          </article>
        </div>
      </div>
    </section>
  </div>
</main>
</body>
</html>
"""
ARTICLE_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Anoikis resistance - PubMed</title></head><body>
<main class="article-details" id="article-details"><header class="heading" id="full-view-heading">
<h1 class="heading-title">Anoikis resistance through a synthetic kinase.</h1>
<ul class="identifiers"><li><span class="identifier pubmed"><strong class="current-id" title="PubMed ID">39000001</strong></span></li></ul>
</header><div class="abstract" id="abstract"><div class="abstract-content selected" id="eng-abstract">
<p>Detached tumour cells survive by resisting anoikis; the synthetic kinase ZK9 sustains this survival.</p></div></div>
<div class="similar-articles"><ul class="articles-list"><li class="full-docsum"><div class="docsum-content">
<a class="docsum-title" href="/38000002/" data-article-id="38000002">A second synthetic paper.</a>
<span class="citation-part">PMID: <span class="docsum-pmid">38000002</span></span></div></li></ul></div>
</main></body></html>
"""


def test_a_saved_results_page_gives_its_pmids_in_page_order() -> None:
    assert is_results_page(RESULTS_PAGE)
    assert results_page_pmids(RESULTS_PAGE) == ["39000001", "38000002", "37000003"]
    assert parse_identifiers(RESULTS_PAGE) == [pmid("39000001"), pmid("38000002"), pmid("37000003")]
    assert looks_like_identifier_list(RESULTS_PAGE)


def test_the_results_page_fallbacks() -> None:
    without_spans = RESULTS_PAGE.replace('class="docsum-pmid"', 'class="x"')
    assert results_page_pmids(without_spans) == ["39000001", "38000002", "37000003"]  # data-article-id
    chunk_only = '<html><body><div class="search-results-chunk" data-chunk-ids="3,2,1"></div></body></html>'
    assert results_page_pmids(chunk_only) == ["3", "2", "1"]
    pmid_format = '<html><body><pre class="search-results-chunk">39000001\n38000002\n</pre></body></html>'
    assert parse_identifiers(pmid_format) == [pmid("39000001"), pmid("38000002")]  # the "PMID" display format


def test_an_article_page_is_a_paper_not_a_list() -> None:
    assert not is_results_page(ARTICLE_PAGE)
    assert not looks_like_identifier_list(ARTICLE_PAGE)


@pytest.mark.parametrize(
    "text",
    [
        "Detached tumour cells survive by resisting anoikis; 12 of 30 mice in 2021 lived.",
        "Title of a paper\nJane Doe, John Roe\n\nAbstract\nWe studied 120 patients over 5 years.",
        '{"title": "T", "abstract": "A"}',
        "",
    ],
)
def test_prose_and_records_are_not_lists(text: str) -> None:
    assert not looks_like_identifier_list(text)


def test_lists_are_lists() -> None:
    assert looks_like_identifier_list("39000001\n")
    assert looks_like_identifier_list("PMID: 39000001\nPMID: 38000002\n10.5555/jso.2023.9\n")
    assert looks_like_identifier_list("39000001\n38000002\n37000003\nnot-an-id\n36000004\n35000005\n")


def test_lists_are_bounded() -> None:
    many = "\n".join(str(number) for number in range(1, MAX_IDENTIFIERS + 2))
    with pytest.raises(TooLargeError, match="more than 10,000 identifiers"):
        parse_identifiers(many)
    assert len(parse_identifiers("\n".join(str(number) for number in range(1, MAX_IDENTIFIERS + 1)))) == MAX_IDENTIFIERS
    with pytest.raises(TooLargeError, match="longer than 8 MB"):
        parse_identifiers(" " * (8 * 1024 * 1024 + 1))


def test_parsing_is_linear_on_hostile_text() -> None:
    import time

    started = time.perf_counter()
    parse_identifiers(";" * 1_000_000)
    parse_identifiers("," * 500_000 + "1")
    parse_identifiers("10.1234/" + ";1" * 300_000)
    parse_identifiers("PMID:" * 200_000)
    looks_like_identifier_list("<" * 300_000)
    assert time.perf_counter() - started < 5


# ------------------------------------------------------------------------------------------- ingest
@pytest.mark.parametrize(
    ("name", "text", "count"),
    [
        ("pmids.txt", "39000001\n38000002\n37000003\n", 3),
        ("pubmed-anoikis-set.txt", "PMID: 39000001\nPMID: 38000002\n", 2),
        ("dois.csv", "doi\n10.5555/jso.2023.9\n10.5555/jso.2023.10\n", 2),
        ("results.html", RESULTS_PAGE, 3),
        ("one.txt", "https://doi.org/10.5555/jso.2023.9", 1),
    ],
)
def test_an_identifier_list_is_not_read_as_a_paper(tmp_path: Path, name: str, text: str, count: int) -> None:
    path = write(tmp_path / name, text)
    assert sniff(path) == "identifiers"
    (item,) = [item for _, _, item in read_paths([path])]
    assert isinstance(item, Rejected) and not item.too_large
    noun = "identifier" if count == 1 else "identifiers"
    assert item.reason == (
        f"a list of {count} {noun}, not papers: resolve them with `recommender collection add NAME --ids-file FILE` "
        "or fetch them with `recommender fetch-pubmed`"
    )


def test_an_article_page_is_still_read_as_a_page(tmp_path: Path) -> None:
    path = write(tmp_path / "article.html", ARTICLE_PAGE)
    assert sniff(path) == "html"
    (item,) = [item for _, _, item in read_paths([path])]
    assert not (isinstance(item, Rejected) and item.reason.startswith("a list of"))
