"""The index terms of each text, kept on disk so a rebuild tokenizes only new or changed papers.

After embedding, tokenizing abstracts into BM25 terms (symbols, stems, bigrams) is the slowest part of a
build: about a millisecond per abstract in Python, twenty seconds for 20,000 papers. Terms depend only on
the text and the tokenizer version, so they are cached by (tokenizer version, text hash) in SQLite beside
the embedding cache, and a weekly rebuild reads them back in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from .sqlite_cache import open_cache, select_in
from .tokenizer import TOKENIZER_VERSION

_SCHEMA = ("CREATE TABLE IF NOT EXISTS terms (key TEXT PRIMARY KEY, terms TEXT NOT NULL)",)
_SEPARATOR = "\n"  # never inside a term (the tokenizer splits on whitespace); splitting beats json.loads 3x


def terms_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TermsCache:
    """Index terms by text hash for the current tokenizer version."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / f"terms-{TOKENIZER_VERSION}.sqlite"

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_cache(self.path, _SCHEMA, "terms cache")

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
        if not self.path.exists():
            return {}
        with self._connect() as connection:
            query = "SELECT key, terms FROM terms WHERE key IN ({marks})"
            return {key: terms.split(_SEPARATOR) if terms else [] for key, terms in select_in(connection, query, keys)}

    def _put(self, batch: dict[str, list[str]]) -> None:
        with self._connect() as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO terms (key, terms) VALUES (?, ?)",
                ((key, _SEPARATOR.join(terms)) for key, terms in batch.items()),
            )
