"""CSV and TSV spreadsheets with a header row, read with the standard library's csv module.

The delimiter (comma, tab or semicolon) is the one the header line uses most.

Columns are matched to paper fields by name (``Title``, ``Abstract``, ``DOI``, ``PMID``, ``AB``...); a table
with no abstract column is refused as a whole, a row with an empty abstract is rejected with its row number.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

from .detect import MAX_LINE_BYTES, open_text
from .fields import SYNONYMS, canonical_key, fields_from_mapping
from .records import RawRecord, Rejected

csv.field_size_limit(MAX_LINE_BYTES)  # a longer cell is a csv.Error: the rest of the file is rejected


def read_table(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[RawRecord | Rejected]:
    with open_text(path) as text:
        header_line = text.readline()
        delimiter = max("\t,;", key=header_line.count)
        reader = csv.DictReader(itertools.chain([header_line], text), delimiter=delimiter)
        header = list(reader.fieldnames or [])
        missing = [f"{column!r} (for {field})" for field, column in (columns or {}).items() if column not in header]
        if missing:
            yield Rejected(f"column {', '.join(missing)} not in the header (columns: {', '.join(header)})")
            return
        names = {canonical_key(name) for name in header}
        if "abstract" not in (columns or {}) and not names & set(SYNONYMS["abstract"]):
            yield Rejected(f"no abstract column (columns: {', '.join(header)}); map one with --column abstract=NAME")
            return
        try:
            for number, row in enumerate(reader, start=2):
                row.pop(None, None)  # values beyond the header's columns
                yield RawRecord(fields_from_mapping(row, columns), f"row {number}")
        except csv.Error as error:
            yield Rejected(f"malformed CSV: {error}", f"row {reader.line_num}")
