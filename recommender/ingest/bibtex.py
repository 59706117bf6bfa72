"""BibTeX (.bib) files, via bibtexparser 2, with LaTeX decoded by pylatexenc (``{\\"u}`` → ``ü``).

Only values that contain a LaTeX command go through pylatexenc (bibtexparser's own decoding middleware
runs it on every field and is ~100 times slower); others just lose their protective braces. Entries the
parser cannot read are reported with their line; the rest of the file is still used.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text

from ..paper import normalize_doi, normalize_pmid
from .detect import MAX_WHOLE_FILE_BYTES, decode, open_binary, read_at_most
from .fields import as_list, flip_name, parse_year, strip_markup
from .records import RawRecord, Rejected

logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # failures are reported per entry instead


def latex_to_text(value: str, converter: LatexNodes2Text) -> str:
    if "\\" in value:
        # pylatexenc recurses once per nested group, environment or optional argument: a value nested a few
        # hundred levels deep exhausts the stack. It is then kept as written, only its braces removed.
        with contextlib.suppress(RecursionError):
            value = converter.latex_to_text(value)
    return strip_markup(value.replace("{", "").replace("}", ""))


def bibtex_fields(values: dict[str, Any], converter: LatexNodes2Text) -> dict[str, Any]:
    """Fields of one entry. The citation key is not used as the id: keys are per-library and collide."""

    def get(*names: str) -> str:
        for name in names:
            if values.get(name):
                return latex_to_text(str(values[name]), converter)
        return ""

    authors = [flip_name(name.strip()) for name in re.split(r"\s+and\s+", get("author")) if name.strip()]
    fields = {
        "title": get("title"),
        "abstract": get("abstract"),
        "journal": get("journal", "journaltitle", "booktitle"),
        "year": parse_year(get("year", "date")),
        "doi": normalize_doi(get("doi")),
        "pmid": normalize_pmid(get("pmid")),
        "authors": authors,
        "keywords": as_list(get("keywords"), split=r"\s*[;,]\s*"),
    }
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


def read_bibtex(path: Path) -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as handle:
        text = decode(read_at_most(handle, MAX_WHOLE_FILE_BYTES, "BibTeX file", "; split it into smaller files"))
    library = bibtexparser.parse_string(text)
    converter = LatexNodes2Text()
    for entry in library.entries:
        values = {name.lower(): field.value for name, field in entry.fields_dict.items()}
        yield RawRecord(bibtex_fields(values, converter), f"entry {entry.key} (line {entry.start_line + 1})")
    for block in library.failed_blocks:
        yield Rejected(f"unreadable BibTeX entry: {block.error}", f"line {block.start_line + 1}")
    if not library.entries and not library.failed_blocks:
        yield Rejected("no BibTeX entries found")
