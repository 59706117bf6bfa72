"""RIS, the reference managers' exchange format (EndNote, Zotero, Mendeley, most journal sites), via rispy.

Records are streamed with rispy's line parser. Tags beyond the basics are read where reference managers put
them: abstract in AB or N2, journal in JO, JF, T2 or J2, year in PY, Y1 or DA. The PMID is in AN (accession
number: EndNote's and PubMed-derived RIS, and our export) when AN is a bare number and the record names no
database other than PubMed/MEDLINE (CINAHL's accession numbers are numbers too); the PMCID is in C2
("PMCID: PMC123", as Zotero writes it). A custom or note field holding an explicitly labelled "PMID: 123" or
"PMCID: PMC456" is read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rispy.parser import RisParser

from ..paper import normalize_doi, normalize_pmcid, normalize_pmid
from .detect import open_text
from .fields import as_list, flip_name, ids_from_extra, parse_year, strip_markup
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
        **_identifiers(entry),
    }
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


# Fields where tools put labelled identifiers: C1-C8 (C2 "PMCID: ..." by Zotero), M1 and the unmapped M2.
_ID_FIELDS = (*(f"custom{number}" for number in range(1, 9)), "note")
_PUBMED_DATABASE = re.compile(r"pubmed|medline|\bnlm\b", re.IGNORECASE)
_PMCID = re.compile(r"PMC[0-9]{1,9}", re.IGNORECASE)


def _identifiers(entry: dict[str, Any]) -> dict[str, str]:
    """PMID and PMCID of one record (see the module docstring for where they are read)."""
    found: dict[str, str] = {}
    accession = _first(entry, "accession_number")
    database = _first(entry, "name_of_database")
    if accession.isdigit() and (not database or _PUBMED_DATABASE.search(database)):
        pmid = normalize_pmid(accession)
        if pmid:
            found["pmid"] = pmid
    unknown = entry.get("unknown_tag")
    values = [entry.get(key) for key in _ID_FIELDS] + [unknown.get("M2") if isinstance(unknown, dict) else None]
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            labelled = ids_from_extra(text)  # "PMID: 123", "PMCID: PMC456", as in Zotero's Extra
            labelled.pop("doi", None)
            if _PMCID.fullmatch(text.strip()):
                labelled.setdefault("pmcid", normalize_pmcid(text) or "")
            for name, identifier in labelled.items():
                if identifier:
                    found.setdefault(name, identifier)
    return found


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
