"""BibTeX (.bib) files, via bibtexparser 2, with LaTeX decoded by pylatexenc (``{\\"u}`` → ``ü``).

Only values that contain a LaTeX command go through pylatexenc (bibtexparser's own decoding middleware
runs it on every field and is ~100 times slower); others just lose their protective braces. pylatexenc removes
grouping braces itself and turns escaped ones (``\\{``) into literal braces, which are kept. Keywords are split
at commas and semicolons outside braces, as biblatex does, so a braced term holding a comma stays one keyword.
Entries the parser cannot read are reported with their line; the rest of the file is still used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text

from ..paper import normalize_doi, normalize_pmcid, normalize_pmid
from .detect import MAX_WHOLE_FILE_BYTES, decode, open_binary, read_at_most
from .fields import flip_name, parse_year, strip_markup
from .records import RawRecord, Rejected

logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # failures are reported per entry instead


#: Deepest brace nesting handed to pylatexenc. It recurses several frames per nested group, environment or
#: optional argument: near the stack's limit it fails as a RecursionError, or as a TypeError raised from one
#: inside ``inspect``. Real titles nest a few levels; deeper values are kept as written, braces removed.
MAX_LATEX_DEPTH = 50


def latex_to_text(value: str, converter: LatexNodes2Text) -> str:
    """A field's text: LaTeX decoded, grouping braces removed, escaped braces kept as braces."""
    if "\\" in value and nesting(value) <= MAX_LATEX_DEPTH:
        try:
            return strip_markup(converter.latex_to_text(value))
        except RecursionError:  # brackets and environments nest too: the brace count is not all of it
            pass
    return strip_markup(value.replace("{", "").replace("}", ""))


def nesting(value: str) -> int:
    """How deep ``{``, ``[`` and ``\\begin`` groups nest in ``value`` (an upper bound: one pass, no parsing)."""
    depth = deepest = 0
    for character in value:
        if character in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "}]":
            depth = max(depth - 1, 0)
    return deepest + value.count("\\begin")


def split_keywords(value: str) -> list[str]:
    """Raw keyword terms split at ',' and ';' outside braces ("a, {b, c}" → "a", "{b, c}"); an escaped brace
    (``\\{``) does not open a group. One pass over the value."""
    terms, depth, start, escaped = [], 0, 0, False
    for index, character in enumerate(value):
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "{":
            depth += 1
        elif character == "}":
            depth = max(depth - 1, 0)
        elif character in ",;" and depth == 0:
            terms.append(value[start:index])
            start = index + 1
    terms.append(value[start:])
    return [term.strip() for term in terms if term.strip()]


def bibtex_fields(values: dict[str, Any], converter: LatexNodes2Text) -> dict[str, Any]:
    """Fields of one entry. The citation key is not used as the id: keys are per-library and collide."""

    def get(*names: str) -> str:
        for name in names:
            if values.get(name):
                return latex_to_text(str(values[name]), converter)
        return ""

    terms = split_keywords(str(values.get("keywords") or ""))
    keywords = (latex_to_text(term, converter).strip(" .") for term in terms)
    authors = [flip_name(name.strip()) for name in re.split(r"\s+and\s+", get("author")) if name.strip()]
    fields = {
        "title": get("title"),
        "abstract": get("abstract"),
        "journal": get("journal", "journaltitle", "booktitle"),
        "year": parse_year(get("year", "date")),
        "doi": normalize_doi(get("doi")),
        "pmid": normalize_pmid(get("pmid")),
        "pmcid": normalize_pmcid(get("pmcid")),
        "authors": authors,
        "keywords": [keyword for keyword in keywords if keyword],
    }
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


def read_bibtex(path: Path) -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as handle:
        text = decode(read_at_most(handle, MAX_WHOLE_FILE_BYTES, "BibTeX file", "; split it into smaller files"))
    library = bibtexparser.parse_string(text)
    converter = LatexNodes2Text()
    for entry in library.entries:
        values = {name.lower(): field.value for name, field in entry.fields_dict.items()}
        yield RawRecord(bibtex_fields(values, converter), f"entry {entry.key} ({_line(entry.start_line)})")
    for block in library.failed_blocks:
        yield Rejected(f"unreadable BibTeX entry: {block.error}", _line(block.start_line))
    if not library.entries and not library.failed_blocks:
        yield Rejected("no BibTeX entries found")


def _line(start_line: int | None) -> str:
    """Where a block starts, counting from 1 (the parser numbers lines from 0; a block it read always has one)."""
    return "line ?" if start_line is None else f"line {start_line + 1}"
