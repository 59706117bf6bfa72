"""Reference-manager exports as users have them: Zotero's CSV columns, "Last, First" authors, merges counted."""

from __future__ import annotations

import csv
import io

from helpers import write

from recommender.paper import Paper, author_key, merge_papers

ZOTERO_COLUMNS = [
    "Key", "Item Type", "Publication Year", "Author", "Title", "Publication Title", "ISBN", "ISSN", "DOI", "Url",
    "Abstract Note", "Date", "Date Added", "Date Modified", "Access Date", "Pages", "Num Pages", "Issue", "Volume",
    "Journal Abbreviation", "Short Title", "Extra", "Notes", "Manual Tags", "Automatic Tags",
]  # fmt: skip
ABSTRACT = "Detached tumour cells survive by resisting anoikis; the synthetic kinase ZK9 sustains this survival."


def zotero_csv(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ZOTERO_COLUMNS, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in ZOTERO_COLUMNS})
    return buffer.getvalue()


ROW = {
    "Key": "ABCD1234", "Item Type": "journalArticle", "Publication Year": "2023",
    "Author": "Wang, Bofang; Li, Xiu; Doe, Jane Q.", "Title": "ZK9 sustains anoikis resistance",
    "Publication Title": "Journal of Synthetic Oncology", "DOI": "10.5555/jso.2023.9", "Abstract Note": ABSTRACT,
    "Date": "2023-05-02", "Date Added": "2024-01-01 10:00:00", "Journal Abbreviation": "J Synth Oncol",
    "Extra": "PMID: 36000001", "Manual Tags": "anoikis; ZK9", "Automatic Tags": "metastasis",
}  # fmt: skip


def test_zotero_csv_columns_are_read_without_column_options(make_service, tmp_path):
    service = make_service()
    report = service.ingest([write(tmp_path / "zotero.csv", zotero_csv(ROW))])
    assert report.added == 1 and not report.rejected
    paper = service.show("doi:10.5555/jso.2023.9")
    assert paper.abstract == ABSTRACT and paper.journal == "Journal of Synthetic Oncology" and paper.year == 2023
    assert paper.authors == ["Bofang Wang", "Xiu Li", "Jane Q. Doe"]  # "Last, First" turned round
    assert paper.pmid == "36000001" and paper.keywords == ["anoikis", "ZK9"]


def test_the_same_paper_from_two_files_is_merged_and_counted_as_merged(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "zotero.csv", zotero_csv(ROW))])
    ris = (
        "TY  - JOUR\nAU  - Wang, B.\nAU  - Li, Xiu\nAU  - Roe, Ken\nTI  - ZK9 sustains anoikis resistance\n"
        f"AB  - {ABSTRACT} A longer abstract from the publisher.\nDO  - 10.5555/jso.2023.9\nPY  - 2023\nER  - \n"
    )
    report = service.ingest([write(tmp_path / "publisher.ris", ris)])
    assert (report.merged, report.added, report.updated, report.unchanged) == (1, 0, 0, 0)
    paper = service.show("doi:10.5555/jso.2023.9")
    assert paper.authors == ["Bofang Wang", "Xiu Li", "Jane Q. Doe", "Ken Roe"]  # no person twice
    again = service.ingest([write(tmp_path / "zotero.csv", zotero_csv(ROW))])
    assert (again.unchanged, again.merged) == (1, 0)  # the same file read again is not a merge


def test_one_person_however_a_source_writes_them():
    assert author_key("Bofang Wang") == author_key("Wang B") == author_key("Wang, Bofang") == author_key("B. Wang")
    assert author_key("Bofang Wang") != author_key("Bo Li")
    old = Paper(id="x", title="t", abstract="a", authors=["Wang B", "Li X"])
    new = Paper(id="x", title="t", abstract="a", authors=["Bofang Wang", "Xiu Li", "Ken Roe"])
    assert merge_papers(old, new).authors == ["Bofang Wang", "Xiu Li", "Ken Roe"]
