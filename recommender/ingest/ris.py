"""RIS, the reference managers' exchange format (EndNote, Zotero, Mendeley, most journal sites), via rispy.

Records are streamed with rispy's line parser. Tags beyond the basics are read where reference managers put
them: abstract in AB or N2, journal in JO, JF, T2 or J2, year in PY, Y1 or DA.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rispy.parser import RisParser

from ..paper import normalize_doi
from .detect import open_text
from .fields import as_list, flip_name, parse_year, strip_markup
from .records import RawRecord, Rejected


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = " ".join(str(item) for item in value)
        if value:
            return strip_markup(str(value))
    return ""


def ris_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """Fields of one record. The ID tag is a reference manager's internal number, so it is not the paper id."""
    authors = as_list(entry.get("authors")) or as_list(entry.get("first_authors"))
    fields = {
        "title": _first(entry, "title", "primary_title", "translated_title"),
        "abstract": _first(entry, "abstract", "notes_abstract"),
        "journal": _first(entry, "journal_name", "alternate_title3", "secondary_title", "alternate_title1"),
        "year": parse_year(_first(entry, "year", "publication_year", "date")),
        "doi": normalize_doi(_first(entry, "doi")),
        "authors": [flip_name(name) for name in authors],
        "keywords": as_list(entry.get("keywords")),
    }
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _without_orphan_continuations(lines: Iterable[str], parser: RisParser) -> Iterator[str]:
    """The lines, minus untagged lines that come before the first tag of their record.

    rispy appends an untagged line to the last tag it saw, even when that tag belonged to the previous record,
    and then raises ``KeyError``. Such a line has nothing to continue, so it is dropped. Records are tracked as
    rispy does: outside one, lines are skipped until one starts with ``TY``; ``ER`` ends it.
    """
    in_record = tagged = False
    for line in lines:
        tag, _ = parser.parse_line(line)
        if not in_record:
            in_record = line.startswith(parser.START_TAG)
            tagged = False
        elif tag == parser.END_TAG:
            in_record = False
        elif tag is not None:
            tagged = tagged or tag not in parser.ignore
        elif not tagged:
            continue
        yield line


def read_ris(path: Path) -> Iterator[RawRecord | Rejected]:
    count = 0
    parser = RisParser()
    with open_text(path) as text:
        lines = (line.rstrip("\r\n") for line in text)
        for entry in parser.parse_lines(_without_orphan_continuations(lines, parser)):
            count += 1
            yield RawRecord(ris_fields(entry), f"record {count}")
    if count == 0:
        yield Rejected("no RIS records found (each starts with 'TY  - ' and ends with 'ER  - ')")
