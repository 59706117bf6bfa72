"""MEDLINE/nbib text (PubMed's "Send to: Citation manager" and ``efetch rettype=medline``).

Parsed with Biopython's ``Bio.Medline``, which streams records and joins continuation lines. Tags used: PMID,
PMC, TI (TT when only a transliterated title exists), AB, FAU/AU, DP, JT/TA, LID/AID ``[doi]``, OT, MH.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from Bio import Medline

from ..paper import normalize_doi, normalize_pmcid, normalize_pmid
from .detect import open_text
from .fields import as_list, flip_name, parse_year, strip_markup
from .records import RawRecord, Rejected


def _doi(record: dict[str, Any]) -> str | None:
    for value in [record.get("LID", ""), *as_list(record.get("AID"))]:
        if isinstance(value, str) and value.endswith("[doi]"):
            return normalize_doi(value.removesuffix("[doi]"))
    return None


def medline_fields(record: dict[str, Any]) -> dict[str, Any]:
    full_names = record.get("FAU") or []
    fields = {
        "pmid": normalize_pmid(record.get("PMID")),
        "pmcid": normalize_pmcid(record.get("PMC")) if isinstance(record.get("PMC"), str) else None,
        "title": strip_markup(record.get("TI") or record.get("TT") or ""),
        "abstract": strip_markup(record.get("AB") or ""),
        "journal": strip_markup(record.get("JT") or record.get("TA") or ""),
        "year": parse_year(record.get("DP") or record.get("DEP")),
        "authors": [flip_name(name) for name in full_names] or list(record.get("AU") or []),
        "keywords": list(record.get("OT") or []),
        "mesh_terms": [term.split("/")[0].lstrip("*") for term in record.get("MH") or []],
        "doi": _doi(record),
    }
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _without_orphan_continuations(lines: Iterable[str]) -> Iterator[str]:
    """The lines, minus indented continuation lines that follow no tag line of their record.

    ``Bio.Medline`` appends a continuation line (six spaces) to the current record's last tag and raises
    ``KeyError`` when the record has none yet (at the start of the file, or right after a blank line that
    ended a record). Such a line has nothing to continue, so it is dropped.
    """
    open_record = False
    for line in lines:
        if line[:6] == "      ":
            if not open_record:
                continue
        else:
            open_record = line not in ("\n", "\r\n")  # what Bio.Medline takes for the end of a record
        yield line


def read_medline(path: Path) -> Iterator[RawRecord | Rejected]:
    count = 0
    with open_text(path) as text:
        for record in Medline.parse(_without_orphan_continuations(text)):
            count += 1
            yield RawRecord(medline_fields(dict(record)), f"record {count}")
    if count == 0:
        yield Rejected("no MEDLINE records found")
