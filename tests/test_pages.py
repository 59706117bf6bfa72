"""Page documents: the four real seeds must match expected.json; synthetic pages cover other layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write

from recommender.ingest import read_paths
from recommender.ingest.page import parse_page
from recommender.ingest.text_page import parse_author_line
from recommender.paper import Paper

SEEDS = ["000_4c2d97a96b289ffa.txt", "001_9dd56cfd7f744d50.txt", "002_e9f508189b5e7039.txt", "003_9350a2168f5ade3d.txt"]


@pytest.mark.parametrize("name", SEEDS)
def test_seed_matches_what_a_careful_reader_extracts(name, seeds_dir, expected_seeds):
    expected = expected_seeds[name]
    [(_, _, paper)] = list(read_paths([seeds_dir / name]))
    assert isinstance(paper, Paper), paper
    assert (paper.title or None) == expected["title"]
    assert paper.doi == expected["doi"]
    assert paper.journal == expected["journal"]
    assert paper.year == expected["year"]
    assert (paper.authors[0] if paper.authors else None) == expected["first_author"]
    if "keywords" in expected:
        assert paper.keywords == expected["keywords"]
    assert paper.abstract.startswith(expected["abstract_starts"])
    assert any(paper.abstract.endswith(end) for end in expected["abstract_ends"]), paper.abstract[-120:]
    stored = json.dumps(paper.to_dict(), ensure_ascii=False)
    for furniture in expected["must_not_contain"]:
        assert furniture not in stored


def test_seed_ids_follow_the_id_rules(seeds_dir):
    ids = {source.rsplit("/", 1)[-1]: paper.id for source, _, paper in read_paths(sorted(seeds_dir.glob("0*.txt")))}
    assert ids["001_9dd56cfd7f744d50.txt"] == "doi:10.1186/s40164-025-00713-9"
    assert ids["003_9350a2168f5ade3d.txt"] == "doi:10.1002/smll.202500136"
    assert ids["000_4c2d97a96b289ffa.txt"].startswith("h:")  # no DOI or PMID on the page


# ---- synthetic pages (written for these tests) -------------------------------------------------------

ABSTRACT = (
    "Tumour cells that detach from the matrix normally die by anoikis. Here we show that the kinase ABC1 keeps "
    "detached cells alive by sustaining ERK signalling, and that ABC1 inhibition restores anoikis in vitro and "
    "reduces metastasis in vivo. ABC1 is therefore a candidate target against metastatic spread."
)

HTML_WITH_META = f"""<!DOCTYPE html><html><head>
<title>ABC1 keeps detached cells alive | Journal of Tests</title>
<meta name="citation_title" content="ABC1 keeps detached tumour cells alive">
<meta name="citation_author" content="Jane Q. Doe"><meta name="citation_author" content="Ken Roe">
<meta name="citation_doi" content="10.1234/jot.2024.001">
<meta name="citation_journal_title" content="Journal of Tests">
<meta name="citation_publication_date" content="2024/02/03">
<meta name="citation_keywords" content="anoikis; ERK; metastasis">
<meta name="citation_pmid" content="38000001">
</head><body><nav><a href="/">Home</a> <a href="/x">Subscribe</a></nav>
<h1>ABC1 keeps detached tumour cells alive</h1>
<section id="abstract"><h2>Abstract</h2><p>{ABSTRACT}</p></section>
<section id="refs"><h2>References</h2><ol><li>Someone A. Old paper. J Old. 1999.</li></ol></section>
<script>var tracking = "Abstract: not this";</script></body></html>"""


def test_html_page_reads_citation_meta_tags():
    fields = parse_page(HTML_WITH_META)
    assert fields["title"] == "ABC1 keeps detached tumour cells alive"
    assert fields["abstract"] == ABSTRACT
    assert fields["doi"] == "10.1234/jot.2024.001"
    assert fields["pmid"] == "38000001"
    assert fields["journal"] == "Journal of Tests"
    assert fields["year"] == 2024
    assert fields["authors"] == ["Jane Q. Doe", "Ken Roe"]
    assert fields["keywords"] == ["anoikis", "ERK", "metastasis"]


def test_html_page_without_meta_uses_the_marked_abstract_and_decodes_entities():
    page = f"""<html><body><div class="banner">Sign in</div>
<h1>Fibroblast &amp; tumour crosstalk via IL&#8209;6</h1>
<div class="abstract-content"><p><strong>Background:</strong> {ABSTRACT}</p>
<p><strong>Conclusions:</strong> Fibroblasts &lt;really&gt; matter.</p></div>
<p>Keywords: fibroblasts; IL-6</p></body></html>"""
    fields = parse_page(page)
    assert fields["abstract"].startswith("Background: Tumour cells that detach")
    assert fields["abstract"].endswith("Conclusions: Fibroblasts <really> matter.")
    assert fields["title"] == "Fibroblast & tumour crosstalk via IL\u20116"
    assert fields["keywords"] == ["fibroblasts", "IL-6"]


def test_pubmed_style_text_with_structured_abstract():
    page = """Skip to main page content
An official website of the United States government
Clin Test Oncol. 2023 Mar;12(3):45-56.
doi: 10.5555/cto.2023.45. Epub 2023 Jan 5.

A randomised trial of drug X in advanced gastric cancer

Ann Smith, Bo Chen, Carlos Ruiz

Affiliations
Abstract
Background: Drug X inhibits ABC1, which keeps detached cells alive and may limit metastatic spread in patients.
Methods: We randomised 200 patients with advanced gastric cancer to drug X or placebo for twelve weeks.
Results: Progression-free survival improved from 4.1 to 6.3 months (hazard ratio 0.62, p<0.01).
Conclusions: Drug X prolongs progression-free survival in advanced gastric cancer.
Keywords: ABC1; gastric cancer; randomised trial.
PMID: 36000002
Similar articles
A completely different trial of drug Y. Another paper's abstract text that must not be read as this one.
"""
    fields = parse_page(page)
    assert fields["title"] == "A randomised trial of drug X in advanced gastric cancer"
    assert fields["abstract"].startswith("Background: Drug X inhibits ABC1")
    assert fields["abstract"].endswith(
        "Conclusions: Drug X prolongs progression-free survival in advanced gastric cancer."
    )
    assert "Methods: We randomised" in fields["abstract"]
    assert fields["journal"] == "Clin Test Oncol"
    assert fields["year"] == 2023
    assert fields["doi"] == "10.5555/cto.2023.45"
    assert fields["pmid"] == "36000002"
    assert fields["authors"] == ["Ann Smith", "Bo Chen", "Carlos Ruiz"]
    assert fields["keywords"] == ["ABC1", "gastric cancer", "randomised trial"]


def test_section_labels_on_their_own_lines_are_joined_to_their_paragraphs():
    page = (
        "Abstract\nBackground\nDetached cells die by anoikis unless survival signals persist after detachment.\n"
        "Results\nABC1 sustained ERK signalling in detached cells and its loss restored anoikis in vitro.\n"
        "Copyright 2024 The Authors.\n"
    )
    abstract = parse_page(page)["abstract"]
    assert abstract.startswith("Background: Detached cells die by anoikis")
    assert "Results: ABC1 sustained ERK" in abstract
    assert "Copyright" not in abstract


def test_english_title_is_preferred_over_a_translated_one():
    record = {
        "title": "在非小细胞肺癌中的成纤维细胞",
        "abstract": ABSTRACT,
        "resultStr": json.dumps({"title": "Fibroblasts in non-small cell lung cancer"}),
    }
    fields = parse_page("Someone A, Other B\n" + json.dumps(record, ensure_ascii=False) + "\n")
    assert fields["title"] == "Fibroblasts in non-small cell lung cancer"


def test_page_without_abstract_is_rejected(tmp_path):
    path = write(tmp_path / "page.txt", "Sign in\nSubscribe\nA title only\n")
    [(_, _, item)] = list(read_paths([path]))
    assert not isinstance(item, Paper) and item.reason.startswith("no abstract")


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("Wang, Liming, Liu, Mei, Zhang, Ruoyu et al.", ["Liming Wang", "Mei Liu", "Ruoyu Zhang"]),
        ("S M Abdus Salam, Eshrat Jahan, Eun-Jung Ahn", ["S M Abdus Salam", "Eshrat Jahan", "Eun-Jung Ahn"]),
        ("Ann Smith1, Bo Chen2,3 and Carlos Ruiz*", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ludwig van Beethoven et al.", ["Ludwig van Beethoven"]),
        ("Cancer-associated fibroblasts enhance metastatic potential of lung cancer cells", None),
        ("Add like", None),
        ("Results, methods and more", None),
    ],
)
def test_author_lines(line, names):
    assert parse_author_line(line) == names


PAGES = Path(__file__).parent / "pages"
PAGE_EXPECTATIONS = {
    "pubmed_full.txt": {
        "title": "Hypoxia-inducible factor 1 alpha drives glycolytic switching in glioblastoma stem cells",
        "doi": "10.5555/cto.2023.45", "pmid": "36000002", "journal": "Clin Test Oncol", "year": 2023,
        "authors": ["Ann Smith", "Bo Chen", "Carlos Ruiz"],
        "keywords": ["HIF-1α", "glioblastoma", "glycolysis", "hypoxia", "stem cells"],
        "mesh_terms": ["Glioblastoma", "Humans", "Hypoxia"],
        "starts": "Background: Glioblastoma stem cells survive", "ends": "stem cells in hypoxic niches.",
        "absent": ["Copyright", "Synth J", "Doe J", "Department of Synthetic Oncology", "competing"],
    },
    "sciencedirect.txt": {
        "title": "Cancer-associated fibroblasts license metastatic outgrowth through IL-6 trans-signalling",
        "doi": "10.5555/j.celrep.2023.112233", "journal": "Cell Reports", "year": 2023,
        "authors": ["Ann Smith", "Bo Chen", "Carlos Ruiz"],
        "keywords": ["cancer-associated fibroblasts", "IL-6 trans-signalling", "STAT3", "metastatic dormancy"],
        "starts": "Disseminated tumour cells often remain dormant", "ends": "a targeted route to prevent relapse.",
        "absent": ["Highlights", "soluble IL-6 receptor\n", "Metastasis causes most cancer deaths", "Mendeley"],
    },
    "europepmc.txt": {
        "title": "Anoikis resistance in ovarian cancer spheroids depends on fatty acid oxidation.",
        "doi": "10.5555/osr.2022.77", "pmid": "35000077", "journal": "Oncology Synthetic Reports", "year": 2022,
        "authors": ["Lee R", "Park S", "Kim H"],
        "starts": "Ovarian cancer cells that detach", "ends": "a route to anoikis resistance.",
        "absent": ["word-weighted", "not been cited", "Synthetic Cancer Center"],
    },
    "biorxiv.html": {
        "title": "Progenitor exhausted CD8+ T cells sustain responses to PD-1 blockade",
        "doi": "10.1101/2024.05.01.000001", "year": 2024, "authors": ["Ann Smith", "Bo Chen"],
        "starts": "Chronic antigen drives CD8+ T cells", "ends": "terminally exhausted cells do not respond.",
        "absent": ["Submit a manuscript", "competing interest", "&gamma;"],
    },
    "nature.html": {
        "title": "TOX programs the epigenetic state of exhausted T cells",
        "doi": "10.5555/s41591-021-0001-x", "journal": "Synthetic Nature Medicine", "year": 2021,
        "authors": ["Ann Smith", "Bo Chen"],
        "starts": "The transcription factor TOX", "ends": "improved tumour control.",
        "absent": ["Explore content", "Main text continues", "Old paper", "TOX is required..."],
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAGE_EXPECTATIONS))
def test_site_like_pages(name):
    expected = PAGE_EXPECTATIONS[name]
    [(_, _, paper)] = list(read_paths([PAGES / name]))
    assert isinstance(paper, Paper), paper
    for field in ("title", "doi", "pmid", "journal", "year", "authors", "keywords", "mesh_terms"):
        if field in expected:
            assert getattr(paper, field) == expected[field], field
    assert paper.abstract.startswith(expected["starts"])
    assert paper.abstract.endswith(expected["ends"])
    stored = json.dumps(paper.to_dict(), ensure_ascii=False)
    for furniture in expected["absent"]:
        assert furniture not in stored
