"""Fields reference managers write that ingest reads back: CSL-JSON as Zotero exports it, PMIDs and PMCIDs in
every format (RIS AN/C2, BibTeX, MEDLINE PMC, PubMed XML, Zotero's Extra), BibTeX braces, and authors written
"Last, First" alone or in lists. Small made-up records in each format's real layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write

from recommender.ingest import Rejected, read_paths
from recommender.ingest.fields import authors_from, date_year, ids_from_extra
from recommender.paper import Paper

ABSTRACT = "Detached tumour cells survive by resisting anoikis; the synthetic kinase ZK9 sustains this survival."


def papers(path: Path) -> list[Paper]:
    items = [item for _, _, item in read_paths([path])]
    assert not [item for item in items if isinstance(item, Rejected)], items
    return items  # type: ignore[return-value]


# Zotero's "Export Library… → CSL JSON": ids are Zotero URIs, dates "date-parts" of strings or numbers,
# names {"family", "given"} or {"literal"}, one "keyword" string.
ZOTERO_CSL_JSON = [
    {
        "id": "http://zotero.org/users/local/AbCdEf/items/ABCD2345",
        "type": "article-journal",
        "title": "ZK9 sustains anoikis resistance",
        "container-title": "Journal of Synthetic Oncology",
        "container-title-short": "J Synth Oncol",
        "abstract": ABSTRACT,
        "DOI": "10.5555/JSO.2023.9",
        "PMID": "36000001",
        "PMCID": "PMC9000001",
        "keyword": "anoikis, ZK9, metastasis",
        "author": [{"family": "Wang", "given": "Bofang"}, {"literal": "WHO Collaborative Group"}],
        "issued": {"date-parts": [["2023", 5, 2]]},
    },
    {
        "id": "raw-date",
        "type": "article-journal",
        "title": "A raw date",
        "abstract": "An abstract whose date came as raw text.",
        "keyword": "Neoplasms, Experimental; Humans",
        "issued": {"raw": "2021-05"},
    },
    {"id": "literal-date", "title": "Spring", "abstract": "Seasonal.", "issued": {"literal": "Spring 2019"}},
    {"id": "no-date", "title": "Undated", "abstract": "No date at all.", "issued": {"date-parts": [[]]}},
]


def test_csl_json_as_zotero_exports_it(tmp_path: Path) -> None:
    first, raw, literal, undated = papers(write(tmp_path / "My Library.json", json.dumps(ZOTERO_CSL_JSON, indent=2)))
    assert first.year == 2023 and first.journal == "Journal of Synthetic Oncology"
    assert first.doi == "10.5555/jso.2023.9" and first.pmid == "36000001" and first.pmcid == "PMC9000001"
    assert first.authors == ["Bofang Wang", "WHO Collaborative Group"]
    assert first.keywords == ["anoikis", "ZK9", "metastasis"]
    assert raw.year == 2021 and raw.keywords == ["Neoplasms, Experimental", "Humans"]
    assert literal.year == 2019 and undated.year is None


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ({"date-parts": [[2021, 5]]}, 2021),
        ({"date-parts": [["2021"]]}, 2021),
        ({"date-parts": [[True]]}, None),
        ({"date-parts": "2021"}, None),
        ({"raw": "2021-05-03"}, 2021),
        ({"literal": "circa 1999"}, 1999),
        ({"season": 1}, None),
        ("2017 Sep 30", 2017),
        (2020, 2020),
    ],
)
def test_date_years(value: object, year: int | None) -> None:
    assert date_year(value) == year


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("García-López, María José", ["María José García-López"]),  # a lone "Last, First"
        ("van der Berg, Jan", ["Jan van der Berg"]),
        ("Wang, B.", ["B. Wang"]),
        ("Smith J, Doe A", ["Smith J", "Doe A"]),  # "Last Initials", comma-separated
        ("John Smith, Jane Doe", ["John Smith", "Jane Doe"]),
        ("Smith J, Doe A, Roe K", ["Smith J", "Doe A", "Roe K"]),
        ("Wang, Bofang; Li, Xiu", ["Bofang Wang", "Xiu Li"]),
        ("Aristotle", ["Aristotle"]),
        ("Smith J, Doe A, et al.", ["Smith J", "Doe A"]),
    ],
)
def test_author_strings_are_split_by_the_shape_of_their_parts(value: str, names: list[str]) -> None:
    assert authors_from(value) == names


def test_extra_lines() -> None:
    extra = "tex.ids: x\nPMID: 36000001\nPMCID: PMC9000001\nDOI: 10.5555/X.1"
    assert ids_from_extra(extra) == {"pmid": "36000001", "pmcid": "PMC9000001", "doi": "10.5555/x.1"}
    assert ids_from_extra("Original title: PMID 1") == {}


def test_zotero_csv_extra_gives_pmid_and_pmcid(tmp_path: Path) -> None:
    csv = (
        '"Key","Item Type","Title","Abstract Note","Author","Extra"\n'
        f'"K1","journalArticle","T","{ABSTRACT}","García-López, María José","PMID: 36000001\nPMCID: PMC9000001"\n'
    )
    (paper,) = papers(write(tmp_path / "zotero.csv", csv))
    assert paper.pmid == "36000001" and paper.pmcid == "PMC9000001"
    assert paper.authors == ["María José García-López"]


# ------------------------------------------------------------------------------------------------- RIS
def ris(*lines: str) -> str:
    return "TY  - JOUR\nTI  - T\nAB  - " + ABSTRACT + "\n" + "".join(f"{line}\n" for line in lines) + "ER  - \n"


@pytest.mark.parametrize(
    ("lines", "pmid", "pmcid"),
    [
        (["AN  - 36000001", "C2  - PMCID: PMC9000001"], "36000001", "PMC9000001"),  # ours, and Zotero's C2
        (["AN  - 36000001", "DB  - PubMed", "DP  - NLM"], "36000001", None),
        (["AN  - 36000001", "DB  - MEDLINE"], "36000001", None),
        (["AN  - 123456789", "DB  - CINAHL"], None, None),  # CINAHL's accession numbers are numbers too
        (["AN  - WOS:000123456700001"], None, None),
        (["AN  - 2-s2.0-85012345678"], None, None),
        (["M2  - PMID: 36000001\nPMCID: PMC9000001"], "36000001", "PMC9000001"),
        (["C2  - PMC9000001"], None, "PMC9000001"),
        (["C1  - 12"], None, None),  # a bare number elsewhere is not a PMID
        (["N1  - See PMID: 36000001 for the protocol"], None, None),  # notes are prose
    ],
)
def test_ris_identifiers(tmp_path: Path, lines: list[str], pmid: str | None, pmcid: str | None) -> None:
    (paper,) = papers(write(tmp_path / "x.ris", ris(*lines)))
    assert (paper.pmid, paper.pmcid) == (pmid, pmcid)


# ---------------------------------------------------------------------------------------------- BibTeX
def test_bibtex_keeps_escaped_braces_and_braced_keywords(tmp_path: Path) -> None:
    bib = (
        "@article{wang2023zk9,\n"
        '  title = {On \\{braces\\} and {DNA} in {\\"u}ber-cells},\n'
        f"  abstract = {{{ABSTRACT}}},\n"
        "  journal = {Annals of \\{Odd\\} Punctuation},\n"
        "  keywords = {inflammation, {Neoplasms, Experimental}; TNF-\\{α\\}, {A; B}},\n"
        "  pmid = {36000001},\n"
        "  pmcid = {PMC9000001},\n"
        "}\n"
    )
    (paper,) = papers(write(tmp_path / "x.bib", bib))
    assert paper.title == "On {braces} and DNA in über-cells"
    assert paper.journal == "Annals of {Odd} Punctuation"
    assert paper.keywords == ["inflammation", "Neoplasms, Experimental", "TNF-{α}", "A; B"]
    assert paper.pmid == "36000001" and paper.pmcid == "PMC9000001"


# --------------------------------------------------------------------------------------------- MEDLINE
def test_medline_pmc_tag(tmp_path: Path) -> None:
    nbib = f"PMID- 36000001\nOWN - NLM\nTI  - T\nAB  - {ABSTRACT}\nPMC - PMC9000001\nDP  - 2023\n"
    (paper,) = papers(write(tmp_path / "x.nbib", nbib))
    assert paper.pmcid == "PMC9000001" and paper.pmid == "36000001"


# ------------------------------------------------------------------------------------------ PubMed XML
def test_pubmed_xml_pmc_id_is_the_articles_own_not_a_references(tmp_path: Path) -> None:
    xml = f"""<?xml version="1.0" ?>
<PubmedArticleSet><PubmedArticle>
  <MedlineCitation><PMID>36000001</PMID><Article><ArticleTitle>T</ArticleTitle>
    <Abstract><AbstractText>{ABSTRACT}</AbstractText></Abstract></Article></MedlineCitation>
  <PubmedData>
    <ArticleIdList><ArticleId IdType="pubmed">36000001</ArticleId><ArticleId IdType="pmc">PMC9000001</ArticleId></ArticleIdList>
    <ReferenceList><Reference><Citation>Cited.</Citation><ArticleIdList>
      <ArticleId IdType="doi">10.5555/cited.1</ArticleId><ArticleId IdType="pmc">PMC1111111</ArticleId>
    </ArticleIdList></Reference></ReferenceList>
  </PubmedData>
</PubmedArticle><PubmedArticle>
  <MedlineCitation><PMID>36000002</PMID><Article><ArticleTitle>U</ArticleTitle>
    <Abstract><AbstractText>{ABSTRACT} Second.</AbstractText></Abstract></Article></MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="pubmed">36000002</ArticleId></ArticleIdList>
    <ReferenceList><Reference><Citation>Cited.</Citation><ArticleIdList>
      <ArticleId IdType="doi">10.5555/cited.2</ArticleId><ArticleId IdType="pmc">PMC2222222</ArticleId>
    </ArticleIdList></Reference></ReferenceList>
  </PubmedData>
</PubmedArticle></PubmedArticleSet>
"""
    first, second = papers(write(tmp_path / "x.xml", xml))
    assert first.pmcid == "PMC9000001" and first.doi is None
    assert second.pmcid is None and second.doi is None  # a cited paper's ids are not the article's


def test_json_and_csv_pmcid_columns(tmp_path: Path) -> None:
    (record,) = papers(write(tmp_path / "x.jsonl", json.dumps({"abstract": ABSTRACT, "pmc": "pmc9000001"}) + "\n"))
    assert record.pmcid == "PMC9000001"
    (row,) = papers(write(tmp_path / "x.csv", f'title,abstract,PMCID\nT,"{ABSTRACT}",PMC9000002\n'))
    assert row.pmcid == "PMC9000002"
