"""The paper store: every ingested paper of one index, in SQLite, with duplicate detection.

SQLite (standard library) gives what a folder of JSON files would not: an ingest is one transaction, so a
crash or a file full of junk leaves the store exactly as it was; readers never see half an ingest (WAL
mode); and papers can be found by id, DOI, PMID or normalised title without reading everything.
The store is the source of truth for ``show``; searches read a built snapshot (see :mod:`.versions`).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BusyError, RecommenderError, StorageError, failure_reason
from .paper import Paper, merge_papers, normalize_doi, normalize_pmcid, normalize_pmid, title_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    doi TEXT,
    pmid TEXT,
    title_key TEXT,
    year INTEGER,
    text_hash TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS papers_doi ON papers(doi);
CREATE INDEX IF NOT EXISTS papers_pmid ON papers(pmid);
CREATE INDEX IF NOT EXISTS papers_title ON papers(title_key, year);
"""
# Titles shorter than this are too generic ("Editorial", "Reply") to identify a paper on their own.
_MIN_TITLE_KEY = 20


@dataclass(frozen=True)
class Upsert:
    """What storing one paper did: ``added``, ``updated``, ``unchanged`` or ``merged`` (into ``id``)."""

    outcome: str
    id: str


class PaperStore:
    """Papers of one index, keyed by their stable id."""

    FILENAME = "papers.sqlite"

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / self.FILENAME

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite and disk failures become a :class:`StorageError` naming the store.

        Writes run in transactions, so after such an error the store holds exactly what it held before.
        """
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30)
        except (sqlite3.Error, OSError) as error:
            raise _storage_error(self.path, error) from error
        with closing(connection):
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=FULL")
                if write:
                    connection.executescript(_SCHEMA)
                yield connection
            except sqlite3.Error as error:  # only SQLite's own: an input file's OSError is the reader's business
                raise _storage_error(self.path, error) from error

    @contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """All writes inside commit together, or not at all if the block raises."""
        with self._connect(write=True) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield StoreWriter(connection)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def count(self) -> int:
        if not self.exists():
            return 0
        with self._connect() as connection:
            return int(_scalar(connection, "SELECT COUNT(*) FROM papers") or 0)

    def get(self, paper_id: str) -> Paper | None:
        if not self.exists():
            return None
        with self._connect() as connection:
            row = connection.execute("SELECT record FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return _paper(row[0]) if row else None

    def resolve(self, reference: str) -> Paper | None:
        """A paper by its id, or by a DOI or PMID given bare or prefixed (``doi:...``, ``pmid:...``)."""
        return self.resolve_many([reference])[reference]

    def resolve_many(self, references: Iterable[str]) -> dict[str, Paper | None]:
        """:meth:`resolve` for many references over one connection (a pasted list of 10,000 PMIDs)."""
        found: dict[str, Paper | None] = {}
        if not self.exists():
            return dict.fromkeys(references)
        with self._connect() as connection:
            for reference in references:
                row = connection.execute("SELECT record FROM papers WHERE id = ?", (reference,)).fetchone()
                doi, pmid = normalize_doi(reference), normalize_pmid(reference)
                if row is None and doi:
                    row = connection.execute("SELECT record FROM papers WHERE doi = ?", (doi,)).fetchone()
                if row is None and pmid:
                    row = connection.execute("SELECT record FROM papers WHERE pmid = ?", (pmid,)).fetchone()
                found[reference] = _paper(row[0]) if row else None
            self._resolve_pmcids(connection, found)
        return found

    @staticmethod
    def _resolve_pmcids(connection: sqlite3.Connection, found: dict[str, Paper | None]) -> None:
        """Unresolved references written as PMC ids, found in one pass over the records (PMC ids are not
        indexed: they are rare in references, and one scan serves a whole pasted list)."""
        wanted: dict[str, list[str]] = {}
        for reference, paper in found.items():
            if paper is None and reference.strip().upper().startswith(("PMC", "PMCID")):
                pmcid = normalize_pmcid(reference)
                if pmcid:
                    wanted.setdefault(pmcid, []).append(reference)
        if not wanted:
            return
        rows = connection.execute(
            f"SELECT record FROM papers WHERE json_extract(record, '$.pmcid') IN ({', '.join('?' * len(wanted))})",
            tuple(wanted),
        )
        for (record,) in rows:
            paper = _paper(record)
            for reference in wanted.get(paper.pmcid or "", []):
                found[reference] = paper

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection for the store's other tables (collections); errors as :class:`StorageError`."""
        with self._connect() as connection:
            yield connection

    def text_hashes(self) -> Iterator[tuple[str, str]]:
        """``(id, text hash)`` of every paper: what :func:`recommender.manifest.corpus_hash` of an index
        built now would cover, without parsing the records."""
        if not self.exists():
            return
        with self._connect() as connection:
            yield from connection.execute("SELECT id, text_hash FROM papers")

    def papers(self) -> Iterator[Paper]:
        """All papers in insertion order (the order a build indexes them in)."""
        if not self.exists():
            return
        with self._connect() as connection:
            for (record,) in connection.execute("SELECT record FROM papers ORDER BY seq"):
                yield _paper(record)

    @contextmanager
    def reading_all(self) -> Iterator[tuple[int, Iterator[Paper]]]:
        """How many papers there are, and all of them in insertion order, read in one read transaction: what a
        full build indexes (the count and the papers agree whatever is stored meanwhile, and the papers stream:
        a million of them are never in memory at once). The transaction ends when the last paper is read."""
        if not self.exists():
            yield 0, iter(())
            return
        with self._connect() as connection:
            connection.execute("BEGIN")  # a read transaction: the count and the rows read see one state

            def papers() -> Iterator[Paper]:
                cursor = connection.execute("SELECT record FROM papers ORDER BY seq")
                while rows := cursor.fetchmany(1000):
                    yield from (_paper(record) for (record,) in rows)
                connection.rollback()  # nothing was written: let checkpoints of later ingests through

            yield int(_scalar(connection, "SELECT COUNT(*) FROM papers") or 0), papers()


_POSITION = re.compile(r":(?:line|row|record|entry|item|object|page)\b[^:]*$")


def source_file(source: str | None) -> str:
    """The file part of a record's source ("export.ris:record 12" → "export.ris")."""
    return _POSITION.sub("", source or "")


class StoreWriter:
    """Writes within one transaction; obtained from :meth:`PaperStore.transaction`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @property
    def connection(self) -> sqlite3.Connection:
        """The transaction's connection, for the store's other tables (collections) to write in it."""
        return self._connection

    def upsert(self, paper: Paper) -> Upsert:
        """Store a paper, merging it into an existing record of the same paper if there is one."""
        existing = self._find(paper)
        if existing is None:
            self._insert(paper)
            return Upsert("added", paper.id)
        merged = merge_papers(existing, paper)
        # Another record of the paper (another id, or the same DOI-based id read from another file) is a merge;
        # the same record read again is an update, or nothing.
        same_record = existing.id == paper.id and source_file(existing.source) == source_file(paper.source)
        if merged.to_dict() != existing.to_dict():
            self._update(merged)
            return Upsert("updated" if same_record else "merged", existing.id)
        return Upsert("unchanged" if same_record else "merged", existing.id)

    def delete(self, paper_id: str) -> bool:
        """Remove a paper by its id; ``False`` if there was none."""
        return self._connection.execute("DELETE FROM papers WHERE id = ?", (paper_id,)).rowcount > 0

    def _find(self, paper: Paper) -> Paper | None:
        queries: list[tuple[str, tuple[object, ...]]] = [("id = ?", (paper.id,))]
        if paper.doi:
            queries.append(("doi = ?", (paper.doi,)))
        if paper.pmid:
            queries.append(("pmid = ?", (paper.pmid,)))
        key = title_key(paper.title)
        if len(key) >= _MIN_TITLE_KEY and paper.year:
            queries.append(("title_key = ? AND year = ?", (key, paper.year)))
        for where, params in queries:
            row = self._connection.execute(f"SELECT record FROM papers WHERE {where} LIMIT 1", params).fetchone()
            if row:
                return _paper(row[0])
        return None

    def _values(self, paper: Paper) -> tuple[object, ...]:
        return (
            paper.doi,
            paper.pmid,
            title_key(paper.title) or None,
            paper.year,
            paper.text_hash(),
            json.dumps(paper.to_dict(), ensure_ascii=False),
        )

    def _insert(self, paper: Paper) -> None:
        self._connection.execute(
            "INSERT INTO papers (id, doi, pmid, title_key, year, text_hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (paper.id, *self._values(paper)),
        )

    def _update(self, paper: Paper) -> None:
        self._connection.execute(
            "UPDATE papers SET doi = ?, pmid = ?, title_key = ?, year = ?, text_hash = ?, record = ? WHERE id = ?",
            (*self._values(paper), paper.id),
        )


def _storage_error(path: Path, error: BaseException) -> RecommenderError:
    """Lock timeouts are a busy store (try again); everything else is the disk's or the file's fault."""
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return BusyError(f"the paper store {path} is busy with another write; try again")
    return StorageError(
        f"the paper store {path} failed: {failure_reason(error)}{_free_space(path)}; nothing was changed"
    )


def _free_space(path: Path) -> str:
    """SQLite reports a full disk as "disk I/O error" when its journal cannot grow: say how much space is left."""
    try:
        free = shutil.disk_usage(next(p for p in (path, *path.parents) if p.exists())).free
    except (OSError, StopIteration):
        return ""
    return f" (the disk holding it has {free // 1024} KiB free)" if free < 64 * 1024 * 1024 else ""


def _scalar(connection: sqlite3.Connection, sql: str) -> Any:
    row = connection.execute(sql).fetchone()
    return row[0] if row else None


def _paper(record: str) -> Paper:
    return Paper.from_dict(json.loads(record))
