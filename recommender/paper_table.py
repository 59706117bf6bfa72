"""A version's papers read from disk on demand, with only the columns every query needs held in memory.

Why: held as Python objects, 100,000 papers cost some 350 MB and 24 s to load (a million: 3.5 GB and four
minutes), while a query reads a few dozen records. So the records stay in the version's JSON-lines files,
memory-mapped; a line is found by its byte offset (one newline scan at load, about a second per GB) and parsed
when asked for. What filters, paging and the id lookup need for every paper at once — ids, years, journals —
is kept as :class:`PaperColumns`, written beside the records at build time (a version written before it
existed reads every record once at load to compute it).
"""

from __future__ import annotations

import json
import operator
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np

from .errors import IndexCorruptError
from .mapped import map_lines
from .paper import Paper

T = TypeVar("T")

#: Decoded records a file keeps (see :class:`JsonLines`).
RECORD_CACHE = 4096
#: The columns file of a full version, beside ``papers.jsonl``.
COLUMNS = "papers.columns.json"
#: Year of a paper without one, in :attr:`PaperColumns.years`.
NO_YEAR = 0


class _Rows(Sequence[T], Generic[T]):
    """A read-only sequence that reads one row at a time (:meth:`_row`): slices, negative and out-of-range
    indexes handled once for every such sequence here."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        row = operator.index(index)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"row {index} of {len(self)}")
        return self._row(row)

    def __iter__(self) -> Iterator[T]:
        return (self._row(row) for row in range(len(self)))

    def _row(self, row: int) -> T:
        raise NotImplementedError


class JsonLines(_Rows[T]):
    """The records of a JSON-lines file as a read-only sequence, each parsed (by ``decode``) when read."""

    def __init__(self, path: Path, decode: Callable[[Any], T]) -> None:
        self.path = path
        self._decode = decode
        try:
            self._buffer, self._bounds = map_lines(path)
        except OSError as error:
            raise IndexCorruptError(f"cannot read {path}: {error}") from None
        # A hit's record is read twice per answer (its explanation, its card) and popular papers come back
        # across queries: recent records are kept decoded. They are shared, so callers never change them.
        self._decoded = lru_cache(maxsize=RECORD_CACHE)(self._read)

    def __len__(self) -> int:
        return len(self._bounds) - 1

    def _row(self, row: int) -> T:
        return self._decoded(row)

    def _read(self, row: int) -> T:
        raw = self._buffer[int(self._bounds[row]) : int(self._bounds[row + 1])]
        try:
            return self._decode(json.loads(raw))
        except (ValueError, TypeError) as error:
            raise IndexCorruptError(f"line {row + 1} of {self.path} is unreadable: {error}") from None


def read_papers(path: Path) -> JsonLines[Paper]:
    """The papers of a ``papers.jsonl``, read on demand."""
    return JsonLines(path, Paper.from_dict)


def read_lists(path: Path) -> JsonLines[list[str]]:
    """Lists of terms (key terms, BM25 terms), one per line, read on demand."""
    return JsonLines(path, _string_list)


def _string_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("expected a list of terms")
    return value


@dataclass(frozen=True)
class PaperColumns:
    """What queries need of every paper at once, as arrays: ids (the id → row map), years (year filters and
    sorting; :data:`NO_YEAR` when unknown) and journals (codes into ``journal_names``; -1 when unknown)."""

    ids: list[str]
    years: np.ndarray
    journals: np.ndarray
    journal_names: list[str]

    @classmethod
    def of(cls, papers: Iterable[Paper]) -> PaperColumns:
        columns = ColumnsBuilder()
        columns.add(papers)
        return columns.build()

    def __len__(self) -> int:
        return len(self.ids)

    def journal_mask(self, wanted: Iterable[str]) -> np.ndarray:
        """Rows whose journal is one of ``wanted`` (compared case-insensitively)."""
        folded = {journal.casefold() for journal in wanted}
        codes = [code for code, name in enumerate(self.journal_names) if name.casefold() in folded]
        return np.isin(self.journals, codes)

    def stacked(self, live: np.ndarray, delta: PaperColumns) -> PaperColumns:
        """The ``live`` rows of these columns followed by ``delta``'s (a delta version over its base)."""
        names = list(self.journal_names)
        position = {name: code for code, name in enumerate(names)}
        remap = np.array([position.setdefault(name, len(position)) for name in delta.journal_names], dtype=np.int32)
        names = list(position)
        delta_journals = np.where(delta.journals >= 0, remap[np.maximum(delta.journals, 0)] if len(remap) else -1, -1)
        everything = len(live) == len(self.ids)
        return PaperColumns(
            [*(self.ids if everything else (self.ids[row] for row in live.tolist())), *delta.ids],
            np.concatenate((self.years[live], delta.years)).astype(np.int32),
            np.concatenate((self.journals[live], delta_journals)).astype(np.int32),
            names,
        )

    def write(self, path: Path) -> None:
        body = {
            "ids": self.ids,
            "years": self.years.tolist(),
            "journals": self.journals.tolist(),
            "journal_names": self.journal_names,
        }
        path.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> PaperColumns:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            columns = cls(
                [str(item) for item in body["ids"]],
                np.array(body["years"], dtype=np.int32),
                np.array(body["journals"], dtype=np.int32),
                [str(item) for item in body["journal_names"]],
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexCorruptError(f"cannot read {path}: {error}") from None
        if not len(columns.ids) == len(columns.years) == len(columns.journals):
            raise IndexCorruptError(f"{path} is inconsistent: its columns differ in length")
        journals = columns.journals
        if len(journals) and (journals.min() < -1 or journals.max() >= len(columns.journal_names)):
            raise IndexCorruptError(f"{path} names journals it does not list")
        return columns


class ColumnsBuilder:
    """:class:`PaperColumns` of papers met a few at a time (a build streaming its papers): years and journal
    codes as machine integers, not a Python object per paper."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._years = array("i")
        self._journals = array("i")
        self._codes: dict[str, int] = {}

    def add(self, papers: Iterable[Paper]) -> None:
        codes = self._codes
        for paper in papers:
            self._ids.append(paper.id)
            self._years.append(paper.year or NO_YEAR)
            self._journals.append(codes.setdefault(paper.journal, len(codes)) if paper.journal else -1)

    def build(self) -> PaperColumns:
        years = np.frombuffer(self._years, dtype=np.int32).copy() if self._years else np.zeros(0, dtype=np.int32)
        journals = np.frombuffer(self._journals, dtype=np.int32).copy() if self._journals else np.zeros(0, np.int32)
        return PaperColumns(self._ids, years, journals, list(self._codes))


class StackedSequence(_Rows[T]):
    """The ``live`` items of a base sequence (by row) followed by a delta's, without copying either: a delta
    version over a million-paper base must not read the base's records to exist."""

    def __init__(self, base: Sequence[T], live: np.ndarray, delta: Sequence[T]) -> None:
        self._base, self._delta = base, delta
        self._live = None if len(live) == len(base) else live

    def __len__(self) -> int:
        return (len(self._base) if self._live is None else len(self._live)) + len(self._delta)

    def _row(self, row: int) -> T:
        start = len(self) - len(self._delta)
        if row >= start:
            return self._delta[row - start]
        return self._base[row if self._live is None else int(self._live[row])]
