"""Collections: named, saved sets of papers (a reading list, "anoikis review").

They live in the paper store's SQLite file, beside the papers, so every change is one transaction with the
same durability as an ingest, and they outlive every rebuild and rollback (those replace index versions,
never the store). A collection keeps paper ids, not copies: a paper deleted from the store stays listed as
missing (it may come back with the next ingest) until it is removed from the collection.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ConflictError, InvalidInputError, NotFoundError, TooLargeError
from .paper import Paper, check_reference
from .store import PaperStore

#: Longest collection name; names are shown in lists and URLs.
MAX_NAME_LENGTH = 100
MAX_NOTE_LENGTH = 2000
#: Collections per index and papers per collection: bounds what one list or export can cost.
MAX_COLLECTIONS = 1000
MAX_COLLECTION_PAPERS = 10000
#: A name: printable, no slash (it is a URL path segment), not blank.
NAME_PATTERN = r"^[^\x00-\x1f\x7f/]+$"
_NAME = re.compile(NAME_PATTERN)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    note TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_papers (
    collection TEXT NOT NULL COLLATE NOCASE REFERENCES collections(name) ON DELETE CASCADE,
    paper_id TEXT NOT NULL,
    added TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (collection, paper_id)
);
"""


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as lists show it."""

    name: str
    size: int
    note: str
    created: str
    updated: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Collection:
    """A collection's papers, in the order they were added; ``missing`` ids are no longer in the store."""

    info: CollectionInfo
    papers: list[Paper]
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.info.to_dict(), "papers": [paper.to_dict() for paper in self.papers], "missing": self.missing}


@dataclass
class Change:
    """What adding or removing papers did: ids changed, ids already so, references that matched no paper."""

    collection: str
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def merge_changes(first: Change, second: Change) -> Change:
    """Two changes to one collection as one (ids given and a pasted list in the same request)."""
    return Change(
        second.collection,
        list(dict.fromkeys([*first.changed, *second.changed])),
        list(dict.fromkeys([*first.unchanged, *second.unchanged])),
        list(dict.fromkeys([*first.not_found, *second.not_found])),
        second.size,
    )


def check_name(name: object) -> str:
    """A collection name as users type it: stripped, 1-100 printable characters, no slash."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("a collection name must be a non-empty string")
    if not _NAME.match(name):  # before stripping: a control character at either end is still refused
        raise InvalidInputError("a collection name must not contain control characters or '/'")
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"a collection name must be at most {MAX_NAME_LENGTH} characters")
    return name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Collections:
    """The collections of one paper store."""

    def __init__(self, store: PaperStore) -> None:
        self.store = store

    # ------------------------------------------------------------------------------------------ reads
    def infos(self) -> list[CollectionInfo]:
        """Every collection, by name."""
        return self._select(None)

    def info(self, name: str) -> CollectionInfo:
        found = self._select(check_name(name))
        if not found:
            raise NotFoundError(f"no collection {name.strip()!r}; see `recommender collection list`")
        return found[0]

    def get(self, name: str) -> Collection:
        """The collection with its stored papers, in the order they were added."""
        info = self.info(name)
        ids = self.paper_ids(info.name)
        papers, missing = [], []
        stored = self.store.resolve_many(ids) if ids else {}
        for paper_id in ids:
            paper = stored.get(paper_id)
            if paper is None or paper.id != paper_id:
                missing.append(paper_id)
            else:
                papers.append(paper)
        return Collection(info, papers, missing)

    def paper_ids(self, name: str) -> list[str]:
        """The ids in a collection, oldest addition first."""
        with self.store.reading() as connection:
            try:
                rows = connection.execute(
                    "SELECT paper_id FROM collection_papers WHERE collection = ? ORDER BY seq", (name,)
                ).fetchall()
            except sqlite3.OperationalError:  # no collection was ever made in this store
                return []
        return [row[0] for row in rows]

    def _select(self, name: str | None) -> list[CollectionInfo]:
        if not self.store.exists():
            return []
        where, params = ("WHERE c.name = ?", (name,)) if name is not None else ("", ())
        with self.store.reading() as connection:
            try:
                rows = connection.execute(
                    "SELECT c.name, COUNT(p.paper_id), c.note, c.created, c.updated FROM collections c "
                    f"LEFT JOIN collection_papers p ON p.collection = c.name {where} "
                    "GROUP BY c.name ORDER BY c.name COLLATE NOCASE",
                    params,
                ).fetchall()
            except sqlite3.OperationalError:
                return []
        return [CollectionInfo(*row) for row in rows]

    # ----------------------------------------------------------------------------------------- writes
    def create(self, name: str, note: str = "") -> CollectionInfo:
        name = check_name(name)
        note = _check_note(note)
        with self.store.transaction() as writer:
            connection = writer.connection
            _ensure_schema(connection)
            if _exists(connection, name):
                raise ConflictError(f"a collection named {name!r} already exists")
            _make(connection, name, note)
        return self.info(name)

    def delete(self, name: str) -> CollectionInfo:
        info = self.info(name)
        with self.store.transaction() as writer:
            _ensure_schema(writer.connection)
            writer.connection.execute("DELETE FROM collection_papers WHERE collection = ?", (info.name,))
            writer.connection.execute("DELETE FROM collections WHERE name = ?", (info.name,))
        return info

    def add(self, name: str, references: Sequence[str], *, create: bool = True) -> Change:
        """Add papers given by id, DOI, PMID or PMC id; references matching no stored paper are reported,
        the others added (all in one transaction). The collection is made if ``create`` and missing."""
        name = check_name(name)
        resolved = self.store.resolve_many(dict.fromkeys(_references(references)))
        ids = list(dict.fromkeys(paper.id for paper in resolved.values() if paper is not None))
        change = Change(name, not_found=[reference for reference, paper in resolved.items() if paper is None])
        with self.store.transaction() as writer:
            connection = writer.connection
            _ensure_schema(connection)
            if not _exists(connection, name):
                if not create:
                    raise NotFoundError(f"no collection {name!r}; see `recommender collection list`")
                _make(connection, name, "")
            name = _canonical(connection, name)
            change.collection = name
            present = {row[0] for row in connection.execute(_MEMBERS, (name,))}
            new = [paper_id for paper_id in ids if paper_id not in present]
            if len(present) + len(new) > MAX_COLLECTION_PAPERS:
                raise TooLargeError(
                    f"a collection holds at most {MAX_COLLECTION_PAPERS:,} papers; {name!r} has {len(present):,} "
                    f"and {len(new):,} more were given"
                )
            seq = int(connection.execute(_LAST_SEQ, (name,)).fetchone()[0] or 0)
            stamp = _now()
            connection.executemany(
                "INSERT INTO collection_papers (collection, paper_id, added, seq) VALUES (?, ?, ?, ?)",
                [(name, paper_id, stamp, seq + i) for i, paper_id in enumerate(new, start=1)],
            )
            if new:
                connection.execute("UPDATE collections SET updated = ? WHERE name = ?", (stamp, name))
            change.changed, change.unchanged = new, [paper_id for paper_id in ids if paper_id in present]
            change.size = len(present) + len(new)
        return change

    def add_listed(self, name: str, text: str) -> Change:
        """Add the papers a pasted list names (PMIDs, DOIs, PMC ids, links, a saved PubMed results page)."""
        from .ingest.identifiers import parse_identifiers  # bs4 and the readers: only when a list is pasted

        identifiers = parse_identifiers(text)
        if not identifiers:
            raise InvalidInputError("no PMID, DOI or PMC id found in the list")
        return self.add(name, [identifier.value for identifier in identifiers])

    def remove(self, name: str, references: Sequence[str]) -> Change:
        """Remove papers by id (a missing paper's id too), DOI, PMID or PMC id."""
        info = self.info(name)
        wanted = list(dict.fromkeys(_references(references)))
        resolved = self.store.resolve_many(wanted)
        change = Change(info.name)
        with self.store.transaction() as writer:
            connection = writer.connection
            present = {row[0] for row in connection.execute(_MEMBERS, (info.name,))}
            for reference in wanted:
                paper = resolved.get(reference)
                paper_id = reference if reference in present else (paper.id if paper is not None else None)
                if paper_id is None:
                    change.not_found.append(reference)
                elif paper_id not in present:
                    change.unchanged.append(paper_id)
                else:
                    connection.execute(
                        "DELETE FROM collection_papers WHERE collection = ? AND paper_id = ?", (info.name, paper_id)
                    )
                    present.discard(paper_id)
                    change.changed.append(paper_id)
            if change.changed:
                connection.execute("UPDATE collections SET updated = ? WHERE name = ?", (_now(), info.name))
            change.size = len(present)
        return change


_MEMBERS = "SELECT paper_id FROM collection_papers WHERE collection = ?"
_LAST_SEQ = "SELECT MAX(seq) FROM collection_papers WHERE collection = ?"


def _references(references: Iterable[str]) -> list[str]:
    """References as given, stripped, each checked by the paper-id rule (:func:`~recommender.paper.check_reference`)."""
    cleaned = [check_reference(reference) for reference in references]
    if len(cleaned) > MAX_COLLECTION_PAPERS:
        raise TooLargeError(f"at most {MAX_COLLECTION_PAPERS:,} papers at a time")
    return cleaned


def _check_note(note: object) -> str:
    if not isinstance(note, str):
        raise InvalidInputError("a collection note must be a string")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInputError(f"a collection note must be at most {MAX_NOTE_LENGTH} characters")
    return note.strip()


def _ensure_schema(connection: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)


def _exists(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone() is not None


def _canonical(connection: sqlite3.Connection, name: str) -> str:
    """The name as it was first written (names match without regard to case)."""
    return str(connection.execute("SELECT name FROM collections WHERE name = ?", (name,)).fetchone()[0])


def _make(connection: sqlite3.Connection, name: str, note: str) -> None:
    count = int(connection.execute("SELECT COUNT(*) FROM collections").fetchone()[0])
    if count >= MAX_COLLECTIONS:
        raise TooLargeError(f"an index holds at most {MAX_COLLECTIONS:,} collections; delete one first")
    stamp = _now()
    connection.execute(
        "INSERT INTO collections (name, note, created, updated) VALUES (?, ?, ?, ?)", (name, note, stamp, stamp)
    )
