"""CSV and TSV spreadsheets with a header row, read with the standard library's csv module.

Columns are matched to paper fields by name (``Title``, ``Abstract``, ``DOI``, ``PMID``, ``AB``...); a table
with no abstract column is refused as a whole, a row with an empty abstract is rejected with its row number.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from .detect import decode, open_binary
from .fields import SYNONYMS, canonical_key, fields_from_mapping
from .records import RawRecord, Rejected

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read_table(path: Path, delimiter: str = ",") -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as binary:
        text = io.TextIOWrapper(_DecodingReader(binary), encoding="utf-8", newline="")
        reader = csv.DictReader(text, delimiter=delimiter)
        columns = [canonical_key(name) for name in reader.fieldnames or []]
        if not any(column in SYNONYMS["abstract"] for column in columns):
            yield Rejected(f"no abstract column (columns: {', '.join(reader.fieldnames or [])})")
            return
        try:
            for number, row in enumerate(reader, start=2):
                row.pop(None, None)  # values beyond the header's columns
                yield RawRecord(fields_from_mapping(row), f"row {number}")
        except csv.Error as error:
            yield Rejected(f"malformed CSV: {error}", f"row {reader.line_num}")


class _DecodingReader(io.RawIOBase):
    """Re-encodes each line as UTF-8, decoding UTF-8 or Windows-1252 line by line (mixed-encoding files)."""

    def __init__(self, binary: io.BufferedIOBase) -> None:
        self._lines = iter(binary)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        while not self._buffer:
            line = next(self._lines, None)
            if line is None:
                return 0
            self._buffer = decode(line).encode("utf-8")
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
