"""The SQLite plumbing both on-disk caches share (embeddings, BM25 terms): one connection recipe, batched lookups.

Caches are rebuilt from nothing if lost, so they trade durability for speed (WAL, ``synchronous=NORMAL``)
while staying crash-consistent: a row is either committed or absent. An unreadable file is reported with
the cure (delete it), never as a traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from .errors import IndexCorruptError

#: Keys per ``IN (...)`` query: old SQLite builds allow at most 999 bound parameters.
BATCH = 900


@contextmanager
def open_cache(path: Path, schema: Sequence[str], what: str) -> Iterator[sqlite3.Connection]:
    """A connection to the cache file at ``path``, its tables created by the ``schema`` statements."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(path, timeout=60)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in schema:
                connection.execute(statement)
            yield connection
    except sqlite3.DatabaseError as error:
        raise IndexCorruptError(
            f"the {what} {path} is unreadable ({error}); delete it to start a fresh cache"
        ) from None


def select_in(connection: sqlite3.Connection, query: str, keys: Sequence[str]) -> Iterator[tuple]:
    """Rows of ``query`` (with ``{marks}`` where the key placeholders go) for every distinct key, in batches."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH):
        chunk = unique[start : start + BATCH]
        yield from connection.execute(query.format(marks=",".join("?" * len(chunk))), chunk)
