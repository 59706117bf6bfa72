"""The index terms of each text, kept on disk so a rebuild tokenizes only new or changed papers.

After embedding, tokenizing abstracts into BM25 terms (symbols, stems, bigrams) is the slowest part of a
build: about a millisecond per abstract in Python, twenty seconds for 20,000 papers. Terms depend only on
the text and the tokenizer version, so they are cached by (tokenizer version, text hash) in SQLite beside
the embedding cache, and a weekly rebuild reads them back in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from .errors import IndexCorruptError
from .tokenizer import TOKENIZER_VERSION

_BATCH = 900
_SEPARATOR = "\n"  # never inside a term (the tokenizer splits on whitespace); splitting beats json.loads 3x


def terms_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TermsCache:
    """Index terms by text hash for the current tokenizer version."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / f"terms-{TOKENIZER_VERSION}.sqlite"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=60)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("CREATE TABLE IF NOT EXISTS terms (key TEXT PRIMARY KEY, terms TEXT NOT NULL)")
                yield connection
        except sqlite3.DatabaseError as error:
            raise IndexCorruptError(
                f"the terms cache {self.path} is unreadable ({error}); delete it to start a fresh cache"
            ) from None

    def terms(
        self,
        texts: Sequence[str],
        tokenize: Callable[[str], list[str]],
        on_computed: Callable[[int], None] | None = None,
    ) -> list[list[str]]:
        """The terms of every text: cached ones read back, the others computed, stored and returned."""
        keys = [terms_key(text) for text in texts]
        found = self._get(keys)
        missing = [row for row, key in enumerate(keys) if key not in found]
        computed: dict[str, list[str]] = {}
        for start in range(0, len(missing), 1000):
            chunk = missing[start : start + 1000]
            batch = {keys[row]: tokenize(texts[row]) for row in chunk}
            self._put(batch)
            computed.update(batch)
            if on_computed is not None:
                on_computed(len(chunk))
        return [found[key] if key in found else computed[key] for key in keys]

    def _get(self, keys: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if not self.path.exists():
            return found
        unique = list(dict.fromkeys(keys))
        with self._connect() as connection:
            for start in range(0, len(unique), _BATCH):
                chunk = unique[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                for key, terms in connection.execute(f"SELECT key, terms FROM terms WHERE key IN ({marks})", chunk):
                    found[key] = terms.split(_SEPARATOR) if terms else []
        return found

    def _put(self, batch: dict[str, list[str]]) -> None:
        with self._connect() as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO terms (key, terms) VALUES (?, ?)",
                ((key, _SEPARATOR.join(terms)) for key, terms in batch.items()),
            )
