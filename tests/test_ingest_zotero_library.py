"""Zotero's own files: the library database (zotero.sqlite) read in place, and the Zotero RDF export.

The database fixture is built here with the tables and column names of Zotero's schema
(resource/schema/userdata.sql and system.sql, Zotero 5 and later) and made-up items; the RDF fixture has the
layout Zotero's "Zotero RDF" export writes.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from helpers import write

from recommender.ingest import Rejected, read_paths
from recommender.ingest import zotero_sqlite as zotero_module
from recommender.ingest.detect import UnreadableFile, sniff
from recommender.paper import Paper

ABSTRACT = "Detached tumour cells survive by resisting anoikis; the synthetic kinase ZK9 sustains this survival."

# The parts of Zotero's schema the reader touches, as Zotero creates them (column names and types kept).
ZOTERO_SCHEMA = """
CREATE TABLE version (schema TEXT PRIMARY KEY, version INT NOT NULL);
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0, storageVersion INT NOT NULL DEFAULT 0,
    lastSync INT NOT NULL DEFAULT 0, archived INT NOT NULL DEFAULT 0);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT,
    charsetID INT, path TEXT, syncState INT DEFAULT 0, storageModTime INT, storageHash TEXT);
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT,
    UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex),
    UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE INDEX collectionItems_itemID ON collectionItems(itemID);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE TABLE feedItems (itemID INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, readTime TIMESTAMP,
    translatedTime TIMESTAMP);
"""
# Ids as in Zotero's system.sql (annotation came later, with an id of its own).
ITEM_TYPES = {1: "note", 3: "bookSection", 4: "journalArticle", 14: "attachment", 15: "report", 37: "annotation"}
FIELDS = {
    1: "url", 12: "publicationTitle", 14: "date", 22: "extra", 25: "journalAbbreviation", 26: "DOI",
    90: "abstractNote", 110: "title", 115: "bookTitle",
}  # fmt: skip
CREATOR_TYPES = {1: "author", 2: "contributor", 3: "editor"}


class ZoteroLibrary:
    """Writes a small Zotero database: items with fields, creators, tags and collections."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(ZOTERO_SCHEMA)
        self.db.execute("INSERT INTO libraries VALUES (1, 'user', 1, 1, 0, 0, 0, 0)")
        self.db.executemany("INSERT INTO itemTypes VALUES (?, ?, NULL, 1)", ITEM_TYPES.items())
        self.db.executemany("INSERT INTO fields VALUES (?, ?, NULL)", FIELDS.items())
        self.db.executemany("INSERT INTO creatorTypes VALUES (?, ?)", CREATOR_TYPES.items())
        self._ids: dict[str, int] = {}

    def _id(self, table: str, column: str, value: object, insert: str) -> int:
        row = self.db.execute(f"SELECT rowid FROM {table} WHERE {column} IS ?", (value,)).fetchone()
        return row[0] if row else self.db.execute(insert, (value,)).lastrowid  # type: ignore[return-value]

    def item(
        self,
        item_id: int,
        kind: str,
        key: str,
        fields: dict[str, str] | None = None,
        creators: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
        tags: list[tuple[str, int]] = (),  # type: ignore[assignment]
        collections: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        type_id = next(ident for ident, name in ITEM_TYPES.items() if name == kind)
        self.db.execute(
            "INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)", (item_id, type_id, key)
        )
        field_ids = {name: ident for ident, name in FIELDS.items()}
        for name, value in (fields or {}).items():
            value_id = self._id("itemDataValues", "value", value, "INSERT INTO itemDataValues (value) VALUES (?)")
            self.db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, field_ids[name], value_id))
        for order, (first, last, role) in enumerate(creators):
            mode = 1 if not first else 0
            row = self.db.execute(
                "SELECT creatorID FROM creators WHERE firstName IS ? AND lastName IS ? AND fieldMode IS ?",
                (first or None, last, mode),
            ).fetchone()
            creator = (
                row[0]
                if row
                else self.db.execute(
                    "INSERT INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                    (first or None, last, mode),
                ).lastrowid
            )
            role_id = next(ident for ident, name in CREATOR_TYPES.items() if name == role)
            self.db.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", (item_id, creator, role_id, order))
        for name, tag_type in tags:
            tag = self._id("tags", "name", name, "INSERT INTO tags (name) VALUES (?)")
            self.db.execute("INSERT INTO itemTags VALUES (?, ?, ?)", (item_id, tag, tag_type))
        for collection in collections:
            self.db.execute("INSERT INTO collectionItems VALUES (?, ?, 0)", (collection, item_id))

    def collection(self, collection_id: int, name: str, parent: int | None = None) -> None:
        self.db.execute(
            "INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key) "
            "VALUES (?, ?, ?, 1, ?)",
            (collection_id, name, parent, f"COLL{collection_id:04d}"),
        )

    def close(self) -> Path:
        self.db.commit()
        self.db.close()
        return self.path


def sample_library(path: Path) -> Path:
    library = ZoteroLibrary(path)
    library.collection(1, "Reviews")
    library.collection(2, "Anoikis", parent=1)
    library.collection(3, "To read")
    library.item(
        1,
        "journalArticle",
        "ABCD2345",
        {
            "title": "ZK9 sustains anoikis resistance",
            "abstractNote": ABSTRACT,
            "DOI": "10.5555/JSO.2023.9",
            "date": "2023-05-02 2023-05-02",
            "publicationTitle": "Journal of Synthetic Oncology",
            "journalAbbreviation": "J Synth Oncol",
            "extra": "PMID: 36000001\nPMCID: PMC9000001",
        },
        creators=[("Bofang", "Wang", "author"), ("Xiu", "Li", "author"), ("Ed", "Itor", "editor")],
        tags=[("metastasis", 1), ("anoikis", 0), ("ZK9", 0)],
        collections=[2, 3],
    )
    library.item(2, "note", "NOTE0001")
    library.db.execute("INSERT INTO itemNotes VALUES (2, 1, '<p>My note</p>', 'My note')")
    library.item(3, "attachment", "ATTACH01", {"title": "Full Text PDF", "url": "https://example.org/a.pdf"})
    library.item(4, "journalArticle", "TRASHED1", {"title": "Deleted paper", "abstractNote": ABSTRACT + " Trash."})
    library.db.execute("INSERT INTO deletedItems (itemID) VALUES (4)")
    library.item(5, "bookSection", "BOOK0001", {"title": "A chapter without abstract", "bookTitle": "A Book"})
    library.item(
        6,
        "report",
        "REPORT01",
        {"title": "Consensus report on anoikis", "abstractNote": "A consensus on how cells die when detached."},
        creators=[("", "WHO Collaborative Group", "author")],
        collections=[1],
    )
    library.item(
        7,
        "journalArticle",
        "ABBREV01",
        {
            "title": "Abbreviated journal only",
            "abstractNote": "Only an abbreviation names the journal of this paper.",
            "journalAbbreviation": "J Abbr",
            "extra": "tex.ids: x\nDOI: 10.5555/extra.1",
        },
        creators=[("Ed", "Itor", "editor")],
    )
    library.item(8, "annotation", "ANNOT001", {"title": "Highlight"})
    return library.close()


def read(path: Path) -> list[Paper | Rejected]:
    return [item for _, _, item in read_paths([path])]


# ----------------------------------------------------------------------------------------------- sqlite
def test_a_zotero_library_file_is_recognised_by_its_tables(tmp_path: Path) -> None:
    assert sniff(sample_library(tmp_path / "zotero.sqlite")) == "zotero_sqlite"


def test_a_zotero_library_is_read_in_place(tmp_path: Path) -> None:
    items = read(sample_library(tmp_path / "zotero.sqlite"))
    papers = [item for item in items if isinstance(item, Paper)]
    assert [paper.title for paper in papers] == [
        "ZK9 sustains anoikis resistance",
        "Consensus report on anoikis",
        "Abbreviated journal only",
    ]  # no note, attachment, annotation or trashed item
    first, report, abbreviated = papers
    assert first.id == "doi:10.5555/jso.2023.9" and first.doi == "10.5555/jso.2023.9"
    assert first.abstract == ABSTRACT and first.year == 2023
    assert first.journal == "Journal of Synthetic Oncology"
    assert first.pmid == "36000001" and first.pmcid == "PMC9000001"
    assert first.authors == ["Bofang Wang", "Xiu Li"]  # authors only: the editor is not one
    assert first.keywords == ["anoikis", "ZK9", "metastasis"]  # manual tags, then automatic ones
    assert first.labels == ["Reviews/Anoikis", "To read"]
    assert first.source is not None and first.source.endswith(":item ABCD2345")
    assert report.authors == ["WHO Collaborative Group"] and report.labels == ["Reviews"]
    assert abbreviated.journal == "J Abbr" and abbreviated.doi == "10.5555/extra.1"
    assert abbreviated.authors == ["Ed Itor"]  # no author: the other creators stand in
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert [item.reason for item in rejected] == ["no abstract (title: 'A chapter without abstract')"]


def test_the_library_file_is_never_written(tmp_path: Path) -> None:
    path = sample_library(tmp_path / "zotero.sqlite")
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    read(path)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert sorted(child.name for child in tmp_path.iterdir()) == ["zotero.sqlite"]  # no journal, no WAL


def test_a_library_locked_by_a_running_zotero_is_still_read(tmp_path: Path) -> None:
    path = sample_library(tmp_path / "zotero.sqlite")
    zotero = sqlite3.connect(path, timeout=0)
    zotero.execute("BEGIN EXCLUSIVE")  # what Zotero holds while it writes
    try:
        papers = [item for item in read(path) if isinstance(item, Paper)]
    finally:
        zotero.rollback()
        zotero.close()
    assert len(papers) == 3


def test_a_library_larger_than_the_item_limit_is_read_up_to_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(zotero_module, "MAX_ITEMS", 2)
    items = read(sample_library(tmp_path / "zotero.sqlite"))
    assert isinstance(items[-1], Rejected)
    assert items[-1].reason == "the Zotero library has more than 2 items; the first 2 were read"
    assert len(items) == 3


def test_a_cycle_of_collections_ends(tmp_path: Path) -> None:
    library = ZoteroLibrary(tmp_path / "zotero.sqlite")
    library.collection(1, "A", parent=2)
    library.collection(2, "B", parent=1)
    library.item(1, "journalArticle", "CYCLE001", {"title": "T", "abstractNote": ABSTRACT}, collections=[1])
    (paper,) = read(library.close())
    assert isinstance(paper, Paper) and paper.labels == ["B/A"]  # A sits in B, B in A: the walk stops


def test_huge_values_are_rejected_by_name_without_being_loaded_whole(tmp_path: Path) -> None:
    library = ZoteroLibrary(tmp_path / "zotero.sqlite")
    library.item(1, "journalArticle", "HUGE0001", {"title": "Huge", "abstractNote": "word " * 2_000_000})
    library.item(2, "journalArticle", "SMALL001", {"title": "Small", "abstractNote": ABSTRACT})
    items = read(library.close())
    assert isinstance(items[0], Rejected) and items[0].too_large
    assert items[0].reason == "abstract too long: 100,001 characters (at most 100,000)"
    assert isinstance(items[1], Paper) and items[1].title == "Small"


def test_an_sqlite_database_that_is_not_zotero_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE papers (id TEXT, abstract TEXT)")
    with pytest.raises(UnreadableFile, match="an SQLite database that is not a Zotero library"):
        sniff(path)
    (rejected,) = read(path)
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("an SQLite database that is not a Zotero")


def test_views_named_like_zotero_tables_do_not_count(tmp_path: Path) -> None:
    path = tmp_path / "views.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        for name in zotero_module.ZOTERO_TABLES:
            db.execute(
                f"CREATE VIEW {name} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
            )
    (rejected,) = read(path)
    assert isinstance(rejected, Rejected) and "not a Zotero library" in rejected.reason


@pytest.mark.parametrize("keep", [100, 4096, 3 * 4096, 0.5])
def test_a_truncated_library_is_rejected_with_a_reason(tmp_path: Path, keep: float) -> None:
    source = sample_library(tmp_path / "zotero.sqlite").read_bytes()
    size = int(len(source) * keep) if isinstance(keep, float) else int(keep)
    path = write(tmp_path / "truncated.sqlite", "")
    path.write_bytes(source[:size])
    items = read(path)
    assert items and all(isinstance(item, Paper | Rejected) for item in items)
    assert isinstance(items[-1], Rejected)


def test_a_gzipped_library_is_refused(tmp_path: Path) -> None:
    import gzip

    source = sample_library(tmp_path / "zotero.sqlite").read_bytes()
    path = tmp_path / "zotero.sqlite.gz"
    path.write_bytes(gzip.compress(source))
    (rejected,) = read(path)
    assert (
        isinstance(rejected, Rejected) and rejected.reason == "a gzip-compressed SQLite database; decompress it first"
    )


# ------------------------------------------------------------------------------------------------- RDF
# The layout of Zotero's "Zotero RDF" export: the journal is a node of its own carrying the DOI, authors an
# rdf:Seq of foaf:Person, Extra in dc:description, automatic tags as z:AutomaticTag nodes, collections last.
ZOTERO_RDF = """<rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:z="http://www.zotero.org/namespaces/export#"
 xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:bib="http://purl.org/net/biblio#"
 xmlns:foaf="http://xmlns.com/foaf/0.1/"
 xmlns:link="http://purl.org/rss/1.0/modules/link/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:prism="http://prismstandard.org/namespaces/1.2/basic/">
    <bib:Article rdf:about="http://www.ncbi.nlm.nih.gov/pubmed/36000001">
        <z:itemType>journalArticle</z:itemType>
        <dcterms:isPartOf>
            <bib:Journal>
                <prism:volume>12</prism:volume>
                <dc:title>Journal of Synthetic Oncology</dc:title>
                <dc:identifier>DOI 10.5555/JSO.2023.9</dc:identifier>
                <dcterms:alternative>J Synth Oncol</dcterms:alternative>
                <dc:identifier>ISSN 1234-5678</dc:identifier>
            </bib:Journal>
        </dcterms:isPartOf>
        <bib:authors>
            <rdf:Seq>
                <rdf:li>
                    <foaf:Person>
                        <foaf:surname>Wang</foaf:surname>
                        <foaf:givenName>Bofang</foaf:givenName>
                    </foaf:Person>
                </rdf:li>
                <rdf:li>
                    <foaf:Person>
                        <foaf:surname>Li</foaf:surname>
                        <foaf:givenname>Xiu</foaf:givenname>
                    </foaf:Person>
                </rdf:li>
                <rdf:li>
                    <foaf:Person><foaf:surname>WHO Collaborative Group</foaf:surname></foaf:Person>
                </rdf:li>
            </rdf:Seq>
        </bib:authors>
        <link:link rdf:resource="#item_12"/>
        <dc:subject>anoikis</dc:subject>
        <dc:subject>
           <z:AutomaticTag><rdf:value>Neoplasm Metastasis</rdf:value></z:AutomaticTag>
        </dc:subject>
        <dc:subject>
           <dcterms:LCC><rdf:value>QH 581</rdf:value></dcterms:LCC>
        </dc:subject>
        <dc:title>ZK9 sustains anoikis resistance</dc:title>
        <dcterms:abstract>Detached tumour cells survive by resisting anoikis; the synthetic kinase ZK9 sustains this survival.</dcterms:abstract>
        <dc:date>2023-05-02</dc:date>
        <z:language>eng</z:language>
        <z:libraryCatalog>PubMed</z:libraryCatalog>
        <dc:description>PMID: 36000001
PMCID: PMC9000001</dc:description>
    </bib:Article>
    <z:Attachment rdf:about="#item_12">
        <z:itemType>attachment</z:itemType>
        <dc:title>Full Text PDF</dc:title>
        <link:type>application/pdf</link:type>
    </z:Attachment>
    <bib:Memo rdf:about="#item_13">
        <z:itemType>note</z:itemType>
        <rdf:value>&lt;p&gt;Read again&lt;/p&gt;</rdf:value>
    </bib:Memo>
    <bib:Book rdf:about="urn:isbn:9780000000002">
        <z:itemType>book</z:itemType>
        <dc:title>A book without an abstract</dc:title>
        <dc:date>1999</dc:date>
    </bib:Book>
    <rdf:Description rdf:about="https://doi.org/10.5555/preprint.7">
        <z:itemType>preprint</z:itemType>
        <bib:authors>
            <rdf:Seq>
                <rdf:li><foaf:Person><foaf:surname>Roe</foaf:surname><foaf:givenName>Ken</foaf:givenName></foaf:Person></rdf:li>
            </rdf:Seq>
        </bib:authors>
        <dc:title>A preprint on detached cells</dc:title>
        <dcterms:abstract>Cells that lose their anchorage die unless a kinase keeps them alive.</dcterms:abstract>
        <dc:date>2024</dc:date>
        <dc:identifier>
            <dcterms:URI><rdf:value>https://doi.org/10.5555/preprint.7</rdf:value></dcterms:URI>
        </dc:identifier>
    </rdf:Description>
    <z:Collection rdf:about="#collection_1">
        <dc:title>Reviews</dc:title>
        <dcterms:hasPart rdf:resource="#collection_2"/>
    </z:Collection>
    <z:Collection rdf:about="#collection_2">
        <dc:title>Anoikis</dc:title>
        <dcterms:hasPart rdf:resource="http://www.ncbi.nlm.nih.gov/pubmed/36000001"/>
        <dcterms:hasPart rdf:resource="https://doi.org/10.5555/preprint.7"/>
    </z:Collection>
    <z:Collection rdf:about="#collection_3">
        <dc:title>To read</dc:title>
        <dcterms:hasPart rdf:resource="http://www.ncbi.nlm.nih.gov/pubmed/36000001"/>
    </z:Collection>
</rdf:RDF>
"""


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_zotero_rdf_export_in_another_encoding_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "export.rdf"
    declared = f'<?xml version="1.0" encoding="{encoding.removesuffix("-sig")}"?>\n'
    path.write_bytes((declared + ZOTERO_RDF.replace("Wang", "Wäng")).encode(encoding))
    assert sniff(path) == "zotero_rdf"
    titled = [item for item in read(path) if isinstance(item, Paper)]
    assert titled[0].authors[0] == "Bofang Wäng" and len(titled) == 2


def test_a_zotero_rdf_export_is_recognised(tmp_path: Path) -> None:
    assert sniff(write(tmp_path / "My Library.rdf", ZOTERO_RDF)) == "zotero_rdf"
    assert (
        sniff(write(tmp_path / "declared.rdf", '<?xml version="1.0" encoding="UTF-8"?>\n' + ZOTERO_RDF)) == "zotero_rdf"
    )


def test_a_zotero_rdf_export_is_read(tmp_path: Path) -> None:
    items = read(write(tmp_path / "My Library.rdf", '<?xml version="1.0" encoding="UTF-8"?>\n' + ZOTERO_RDF))
    papers = [item for item in items if isinstance(item, Paper)]
    assert [paper.title for paper in papers] == ["ZK9 sustains anoikis resistance", "A preprint on detached cells"]
    article, preprint = papers
    assert article.abstract == ABSTRACT and article.year == 2023
    assert article.doi == "10.5555/jso.2023.9" and article.id == "doi:10.5555/jso.2023.9"
    assert article.journal == "Journal of Synthetic Oncology"
    assert article.pmid == "36000001" and article.pmcid == "PMC9000001"
    assert article.authors == ["Bofang Wang", "Xiu Li", "WHO Collaborative Group"]
    assert article.keywords == ["anoikis", "Neoplasm Metastasis"]  # the call number is not a tag
    assert article.labels == ["Reviews/Anoikis", "To read"]
    assert preprint.doi == "10.5555/preprint.7" and preprint.authors == ["Ken Roe"] and preprint.year == 2024
    assert preprint.labels == ["Reviews/Anoikis"]
    assert [item.reason for item in items if isinstance(item, Rejected)] == [
        "no abstract (title: 'A book without an abstract')"
    ]


def test_rdf_that_is_not_from_zotero_is_refused(tmp_path: Path) -> None:
    other = (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="x"><dc:title>T</dc:title>'
        "</rdf:Description></rdf:RDF>"
    )
    (rejected,) = read(write(tmp_path / "other.rdf", other))
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("an RDF document that is not a Zotero RDF")


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_rdf_export_is_rejected(tmp_path: Path, cut: float) -> None:
    (rejected,) = read(write(tmp_path / "cut.rdf", ZOTERO_RDF[: int(len(ZOTERO_RDF) * cut)]))
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("malformed RDF/XML")


def test_billion_laughs_rdf_is_refused_before_parsing(tmp_path: Path) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(9)
    )
    laughs = ZOTERO_RDF.replace("<dc:title>ZK9 sustains anoikis resistance</dc:title>", "<dc:title>&j;</dc:title>")
    document = f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{entities}]>\n{laughs}'
    for name, encoding in (("laughs.rdf", "utf-8"), ("laughs16.rdf", "utf-16")):
        path = tmp_path / name
        path.write_bytes(
            document.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>').encode(encoding)
        )
        (rejected,) = read(path)
        assert isinstance(rejected, Rejected)
        assert rejected.reason == "RDF with a document type or entity declaration (Zotero writes none); not read"


def test_an_external_entity_is_never_fetched(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "TOP SECRET")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
        + ZOTERO_RDF.replace("<dc:title>ZK9 sustains anoikis resistance</dc:title>", "<dc:title>&x;</dc:title>")
    )
    items = read(write(tmp_path / "xxe.rdf", document))
    assert not any(isinstance(item, Paper) and "SECRET" in item.title for item in items)
