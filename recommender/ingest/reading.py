"""Reading inputs: paths expanded, each file's format recognised, the matching reader run.

:func:`read_paths` expands folders and globs, recognises each file's format from its content
(:mod:`.detect`), and streams ``(source, position, Paper | Rejected)`` from the matching reader: PubMed XML
(:mod:`.pubmed_xml`), MEDLINE/nbib (:mod:`.medline`), RIS (:mod:`.ris`), BibTeX (:mod:`.bibtex`), JSON Lines
and JSON (:mod:`.jsonl`), CSV/TSV (:mod:`.tabular`), Zotero libraries and RDF exports, a single page document,
plain text or HTML (:mod:`.page`), or a PDF (:mod:`.pdf`). Readers never raise on bad content; they yield a
:class:`Rejected` with the reason.
"""

from __future__ import annotations

import glob
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import TooLargeError, failure_reason
from ..paper import Paper
from .bibtex import read_bibtex
from .detect import InputTooLarge, UnreadableFile, decode, open_binary, sniff
from .identifiers import MAX_TEXT_CHARS, parse_identifiers
from .jsonl import read_json, read_jsonl, read_objects
from .medline import read_medline
from .page import parse_page
from .pdf import read_pdf
from .pubmed_xml import read_pubmed_xml
from .records import RawRecord, Rejected, to_paper
from .ris import read_ris
from .tabular import read_table
from .zotero_rdf import read_zotero_rdf
from .zotero_sqlite import read_zotero_library

__all__ = ["RawRecord", "Rejected", "expand_paths", "read_file", "read_paths", "read_records"]

_GLOB_CHARS = set("*?[")
MAX_PAGE_BYTES = 20 * 1024 * 1024
#: Largest PDF read (only its first pages are parsed, but pypdf needs the whole file to find them).
MAX_PDF_BYTES = 64 * 1024 * 1024


def expand_paths(paths: Iterable[str | Path]) -> Iterator[tuple[str, Path | None]]:
    """Each input as ``(name as given or found, path)``; folders recurse, globs expand, missing → ``None``."""
    for given in paths:
        text = str(given)
        path = Path(text)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield str(child), child
        elif path.exists():
            yield text, path
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield text, None
            for match in matches:
                if Path(match).is_file():
                    yield match, Path(match)
        else:
            yield text, None


def read_file(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[RawRecord | Rejected]:
    """Raw records of one file, whatever its format. ``columns`` maps fields to table columns or JSON keys."""
    try:
        kind = sniff(path)
    except UnreadableFile as error:
        yield Rejected(str(error))
        return
    try:
        if kind in ("csv", "tsv"):
            yield from read_table(path, columns=columns)
        elif kind in ("jsonl", "json"):
            yield from (read_jsonl if kind == "jsonl" else read_json)(path, columns=columns)
        elif kind in READERS:
            yield from READERS[kind](path)
        elif kind == "pdf":
            yield _read_pdf(path)
        elif kind == "identifiers":
            yield _read_identifiers(path)
        else:
            yield _read_page(path)
    except InputTooLarge as error:  # a gzip bomb, an endless line: the records before it were yielded
        yield Rejected(str(error), too_large=True)


READERS: dict[str, Callable[[Path], Iterator[RawRecord | Rejected]]] = {
    "pubmed_xml": read_pubmed_xml,
    "medline": read_medline,
    "ris": read_ris,
    "bibtex": read_bibtex,
    "zotero_sqlite": read_zotero_library,
    "zotero_rdf": read_zotero_rdf,
}


def _read_page(path: Path) -> RawRecord | Rejected:
    with open_binary(path) as handle:
        data = handle.read(MAX_PAGE_BYTES + 1)
    if len(data) > MAX_PAGE_BYTES:
        return Rejected(f"page document larger than {MAX_PAGE_BYTES // 1024 // 1024} MB", too_large=True)
    return RawRecord(parse_page(decode(data)))


def _read_identifiers(path: Path) -> Rejected:
    """A list of identifiers is not papers: say how many, and which commands turn them into papers."""
    with open_binary(path) as handle:
        data = handle.read(MAX_TEXT_CHARS + 1)
    try:
        if len(data) > MAX_TEXT_CHARS:
            raise TooLargeError(f"identifier list larger than {MAX_TEXT_CHARS // 1024 // 1024} MB; split it")
        count = len(parse_identifiers(decode(data)))
    except TooLargeError as error:
        return Rejected(f"a list of identifiers, not papers, and too long: {error}", too_large=True)
    return Rejected(
        f"a list of {count:,} identifier{'s' if count != 1 else ''}, not papers: resolve them with "
        "`recommender collection add NAME --ids-file FILE` or fetch them with `recommender fetch-pubmed`"
    )


def _read_pdf(path: Path) -> RawRecord | Rejected:
    with open_binary(path) as handle:
        data = handle.read(MAX_PDF_BYTES + 1)
    if len(data) > MAX_PDF_BYTES:
        return Rejected(f"PDF larger than {MAX_PDF_BYTES // 1024 // 1024} MB", too_large=True)
    return read_pdf(data)


def read_paths(
    paths: Iterable[str | Path], columns: Mapping[str, str] | None = None
) -> Iterator[tuple[str, str | None, Paper | Rejected]]:
    """``(source, position, paper or rejection)`` for every record in every input, in order."""
    for source, path in expand_paths(paths):
        if path is None:
            yield source, None, Rejected("no such file or directory")
            continue
        try:
            for item in read_file(path, columns):
                yield source, item.position, (to_paper(item, source) if isinstance(item, RawRecord) else item)
        except (OSError, EOFError, zlib.error) as error:  # EOFError, zlib.error: a truncated or corrupted gzip file
            yield source, None, Rejected(f"cannot read file: {failure_reason(error)}")


def read_records(records: Any, source: str) -> Iterator[tuple[str, str | None, Paper | Rejected]]:
    """``(source, position, paper or rejection)`` for JSON records given in memory (e.g. an HTTP body)."""
    for item in read_objects(records):
        yield source, item.position, (to_paper(item, source) if isinstance(item, RawRecord) else item)
