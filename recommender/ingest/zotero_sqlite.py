"""A Zotero library read straight from its database file (``~/Zotero/zotero.sqlite``), never written.

Zotero keeps the file open and locked while it runs, so it is opened read-only and *immutable*
(``mode=ro&immutable=1``): SQLite then takes no lock and never opens a write-ahead log or journal, so reading
cannot disturb Zotero; the price is that changes Zotero has not yet written into the file itself are not seen
(they are once Zotero is closed).

Items of bibliographic types are read; notes, attachments, annotations, items in the trash (``deletedItems``)
and feed items are not. Per item: title, abstract, DOI, date (its year), publication title (else the journal
abbreviation, proceedings or book title), the PMID, PMCID and DOI lines Zotero keeps in Extra, creators in
order as "First Last" (the authors, else every creator), tags as keywords (manual ones first), and the
collections holding the item as labels, each with its parent path ("Reviews/Anoikis"). Table and column
names are those of Zotero's own schema (``resource/schema/userdata.sql`` and ``system.sql``).

Every input is bounded: at most :data:`MAX_ITEMS` items (a larger library is read up to it and the rest
reported), each text value read up to one character past the longest the record accepts (an oversized one is
then rejected by name, without loading it whole), at most one more creator, tag or collection per item than a
record accepts, collection paths at most :data:`MAX_COLLECTION_DEPTH` deep (a cycle in a damaged file stops
there), and the whole read at most :data:`MAX_SECONDS`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from ..errors import failure_reason
from .fields import fields_from_mapping
from .records import MAX_ABSTRACT_CHARS, MAX_LIST_ITEM_CHARS, MAX_LIST_ITEMS, RawRecord, Rejected

#: The first bytes of every SQLite 3 database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables every Zotero library has (Zotero 5 and later); a database without them is not a Zotero library.
ZOTERO_TABLES = frozenset(
    {"items", "itemTypes", "itemData", "itemDataValues", "fields", "creators", "itemCreators", "tags", "itemTags"}
)
#: Most items read from one library.
MAX_ITEMS = 200_000
MAX_COLLECTIONS = 100_000
MAX_COLLECTION_DEPTH = 32
#: Longest a read may take (a damaged or hostile file must not hang ingest).
MAX_SECONDS = 600.0
_SKIPPED_TYPES = ("note", "attachment", "annotation")
# Zotero field names, in the order a field of ours takes them.
_FIELDS = {
    "title": ("title",),
    "abstract": ("abstractNote",),
    "doi": ("DOI",),
    "date": ("date",),
    "journal": ("publicationTitle", "journalAbbreviation", "proceedingsTitle", "bookTitle"),
    "extra": ("extra",),
}
_TEXT_CHARS = MAX_ABSTRACT_CHARS + 1  # one past the longest field accepted: an oversized value is rejected by name
_ITEM_CHARS = MAX_LIST_ITEM_CHARS + 1


def is_zotero_library(path: Path) -> bool:
    """Whether the SQLite database at ``path`` has Zotero's tables; ``sqlite3.Error`` if it cannot be read."""
    with closing(_connect(path)) as connection:
        return _tables(connection) >= ZOTERO_TABLES


def read_zotero_library(path: Path) -> Iterator[RawRecord | Rejected]:
    """The library's items as records, then a rejection if the read stopped early (and why)."""
    count = 0
    try:
        with closing(_connect(path)) as connection:
            for item in _items(connection):
                count += 1
                yield item
    except sqlite3.Error as error:
        interrupted = "interrupt" in str(error)
        reason = (
            f"reading the Zotero library took longer than {MAX_SECONDS:.0f} s"
            if interrupted
            else f"cannot read the Zotero library ({failure_reason(error)}): a damaged file, or a Zotero version "
            "this reader does not know; export the items as CSL-JSON, RIS or Zotero RDF instead"
        )
        yield Rejected(f"{reason}; {count:,} items read before it", too_large=interrupted)
        return
    if count == 0:
        yield Rejected("no bibliographic items in this Zotero library")


def _connect(path: Path) -> sqlite3.Connection:
    """Read-only, immutable, with a deadline: no lock taken, no journal or WAL touched, nothing written."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        deadline = time.monotonic() + MAX_SECONDS
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 100_000)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA trusted_schema = OFF")  # no SQL functions run from the file's own schema
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def _tables(connection: sqlite3.Connection) -> set[str]:
    """Names of the real tables (a view of the same name would run code of the file's choosing: not used)."""
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 10000")
    return {str(name) for (name,) in rows}


def _items(connection: sqlite3.Connection) -> Iterator[RawRecord | Rejected]:
    tables = _tables(connection)
    if not tables >= ZOTERO_TABLES:
        yield Rejected("an SQLite database that is not a Zotero library")
        return
    values, creators = _field_rows(connection, tables), _creator_rows(connection, tables)
    tags, memberships = _tag_rows(connection), _membership_rows(connection, tables)
    paths = _collection_paths(connection, tables)
    for number, (item_id, key) in enumerate(_item_rows(connection, tables), start=1):
        if number > MAX_ITEMS:
            yield Rejected(f"the Zotero library has more than {MAX_ITEMS:,} items; the first {MAX_ITEMS:,} were read")
            return
        by_name = {str(name): str(value) for name, value in values.take(item_id) if value}
        record: dict[str, Any] = {name: _first(by_name, group) for name, group in _FIELDS.items()}
        record["authors"] = _people(creators.take(item_id))
        record["keywords"] = [str(name) for (name,) in tags.take(item_id) if name]
        record["labels"] = [paths[collection] for (collection,) in memberships.take(item_id) if collection in paths]
        yield RawRecord(fields_from_mapping(record), f"item {key}")


def _item_rows(connection: sqlite3.Connection, tables: set[str]) -> sqlite3.Cursor:
    """``(itemID, key)`` of the bibliographic items, by id: not notes, attachments, annotations, trash or feeds."""
    item_types = "itemTypesCombined" if "itemTypesCombined" in tables else "itemTypes"
    skipped = [table for table in ("deletedItems", "feedItems") if table in tables]
    excluded = "".join(f" AND items.itemID NOT IN (SELECT itemID FROM {table})" for table in skipped)
    return connection.execute(
        f"SELECT CAST(items.itemID AS INTEGER), items.key FROM items "
        f"JOIN {item_types} AS types ON types.itemTypeID = items.itemTypeID "
        f"WHERE types.typeName NOT IN (?, ?, ?){excluded} ORDER BY 1 LIMIT ?",
        (*_SKIPPED_TYPES, MAX_ITEMS + 1),
    )


def _field_rows(connection: sqlite3.Connection, tables: set[str]) -> _Rows:
    """``(item, fieldName, value)`` of the fields read, each value cut one character past the longest accepted."""
    fields = "fieldsCombined" if "fieldsCombined" in tables else "fields"
    names = [name for group in _FIELDS.values() for name in group]
    return _Rows(
        connection.execute(
            f"SELECT CAST(itemData.itemID AS INTEGER) AS item, f.fieldName, "
            f"substr(CAST(v.value AS TEXT), 1, {_TEXT_CHARS}) FROM itemData "
            f"JOIN {fields} AS f ON f.fieldID = itemData.fieldID "
            f"JOIN itemDataValues AS v ON v.valueID = itemData.valueID "
            f"WHERE f.fieldName IN ({', '.join('?' * len(names))}) ORDER BY item",
            names,
        )
    )


def _creator_rows(connection: sqlite3.Connection, tables: set[str]) -> _Rows:
    """``(item, firstName, lastName, fieldMode, creatorType)`` in each item's order (``orderIndex``)."""
    known = "creatorTypes" in tables
    kind = "ct.creatorType" if known else "NULL"
    join = " LEFT JOIN creatorTypes AS ct ON ct.creatorTypeID = ic.creatorTypeID" if known else ""
    return _Rows(
        connection.execute(
            f"SELECT CAST(ic.itemID AS INTEGER) AS item, substr(c.firstName, 1, {_ITEM_CHARS}), "
            f"substr(c.lastName, 1, {_ITEM_CHARS}), c.fieldMode, {kind} FROM itemCreators AS ic "
            f"JOIN creators AS c ON c.creatorID = ic.creatorID{join} ORDER BY item, ic.orderIndex"
        )
    )


def _tag_rows(connection: sqlite3.Connection) -> _Rows:
    """``(item, name)``: manual tags (type 0) before automatic ones, each by name (case aside), as Zotero lists."""
    return _Rows(
        connection.execute(
            f"SELECT CAST(it.itemID AS INTEGER) AS item, substr(t.name, 1, {_ITEM_CHARS}) FROM itemTags AS it "
            "JOIN tags AS t ON t.tagID = it.tagID ORDER BY item, it.type, t.name COLLATE NOCASE"
        )
    )


def _membership_rows(connection: sqlite3.Connection, tables: set[str]) -> _Rows:
    """``(item, collectionID)`` for every item in a collection."""
    if "collectionItems" not in tables:
        return _Rows(())
    return _Rows(
        connection.execute(
            "SELECT CAST(itemID AS INTEGER) AS item, CAST(collectionID AS INTEGER) FROM collectionItems ORDER BY item"
        )
    )


class _Rows:
    """A query's rows ordered by item id (first column), handed out one item at a time.

    Items are read in the same order, so each query is walked once alongside them (a merge join): linear in
    the rows, whatever indexes the file has. At most one more row per item than a record accepts is kept.
    """

    def __init__(self, rows: Any) -> None:
        self._rows = iter(rows)
        self._next: tuple[Any, ...] | None = next(self._rows, None)

    def take(self, item_id: int) -> list[tuple[Any, ...]]:
        taken: list[tuple[Any, ...]] = []
        while self._next is not None and (self._next[0] is None or self._next[0] < item_id):
            self._next = next(self._rows, None)
        while self._next is not None and self._next[0] == item_id:
            if len(taken) <= MAX_LIST_ITEMS:
                taken.append(self._next[1:])
            self._next = next(self._rows, None)
        return taken


def _first(values: dict[str, str], names: tuple[str, ...]) -> str | None:
    """The value of the first of ``names`` the item has (Zotero keeps one value per field)."""
    return next((values[name] for name in names if name in values), None)


def _people(rows: list[tuple[Any, ...]]) -> list[str]:
    """ "First Last" per creator in order (``fieldMode`` 1: one-field name, kept whole); the authors if any."""
    people = [
        (kind, str(last or "") if mode == 1 else f"{first or ''} {last or ''}".strip())
        for first, last, mode, kind in rows
    ]
    authors = [name for kind, name in people if kind == "author" and name]
    return authors or [name for _, name in people if name]


def _collection_paths(connection: sqlite3.Connection, tables: set[str]) -> dict[int, str]:
    """Each collection's path from its top-level ancestor ("Reviews/Anoikis")."""
    if "collections" not in tables:
        return {}
    rows = connection.execute(
        f"SELECT CAST(collectionID AS INTEGER), substr(collectionName, 1, {_ITEM_CHARS}), "
        "CAST(parentCollectionID AS INTEGER) FROM collections LIMIT ?",
        (MAX_COLLECTIONS,),
    )
    collections = {ident: (str(name or ""), parent) for ident, name, parent in rows}
    paths = {}
    for ident in collections:
        parts: list[str] = []
        current: int | None = ident
        seen: set[int | None] = set()  # CAST(... AS INTEGER) answers None for a NULL id
        while current in collections and current not in seen and len(parts) < MAX_COLLECTION_DEPTH:
            seen.add(current)
            name, current = collections[current]
            parts.append(name)
        paths[ident] = "/".join(reversed(parts))
    return paths
