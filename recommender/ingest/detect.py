"""Recognising what a file is from its content, and decoding its bytes.

Extensions lie (a ``.txt`` that is JSONL, a PubMed page saved as ``.html`` or ``.txt``), so the format is
decided from the first bytes: binary and empty files are refused with a reason (an SQLite file is read if it
is a Zotero library), gzip is opened transparently, and text is sniffed for XML (PubMed, Zotero RDF), JSON
Lines, JSON, tagged formats, HTML, identifier lists (PMIDs, DOIs, a PubMed results page), delimited tables or
a plain page.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import sqlite3
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .fields import canonical_key
from .html_page import looks_like_html
from .identifiers import is_results_page, looks_like_identifier_list
from .zotero_sqlite import SQLITE_MAGIC, is_zotero_library

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SNIFF_BYTES = 65536
_MB = 1024 * 1024
#: Most bytes a gzip file may decompress to: reading past it raises :class:`InputTooLarge` (a gzip bomb).
MAX_DECOMPRESSED_BYTES = 256 * _MB
#: Longest line (one JSON Lines record, one CSV, RIS or MEDLINE line) read; longer ones reject the file.
MAX_LINE_BYTES = 64 * _MB
#: Largest JSON document (not JSON Lines) read whole; larger ones are rejected ("use JSON Lines").
MAX_JSON_DOCUMENT_BYTES = 20 * _MB
#: Largest file that a reader has to hold whole (BibTeX, UTF-16 text).
MAX_WHOLE_FILE_BYTES = 64 * _MB
_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP/Office file (export it as CSV, JSON or text)",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
    b"\x7fELF": "a program binary",
}
_XML_ROOT = re.compile(r"<(?![?!])([A-Za-z_][\w:.-]*)")
_RIS_START = re.compile(r"^TY {1,2}- ")
_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- ")
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]")
# The start of a JSON array or object: "[" then a value or "]", or "{" then a key or "}".
_JSON_START = re.compile(r'\[\s*+(?:[\[{"\]\-0-9]|true|false|null)|\{\s*+["}]|\[\s*+$')
#: The Zotero export namespace, declared on the root of a Zotero RDF export.
ZOTERO_NAMESPACE = "http://www.zotero.org/namespaces/export#"
_TABLE_COLUMNS = {"title", "abstract", "ab", "ti", "doi", "pmid", "abstracttext", "articletitle", "id"}


class UnreadableFile(Exception):
    """The file cannot be ingested at all; the message says why, for the ingest report."""


class InputTooLarge(ValueError):
    """A file (or a line, or a document in it) is over one of the size limits; the message says which."""


def megabytes(size: int) -> str:
    return f"{size // _MB} MB"


class _CappedGzip(io.RawIOBase):
    """A gzip stream that raises :class:`InputTooLarge` once more than ``limit`` bytes were decompressed."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        self._handle = handle
        self._gzip = gzip.GzipFile(fileobj=handle, mode="rb")
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._gzip.seek(offset, whence)
        self._read = position
        return position

    def tell(self) -> int:
        return self._read

    def close(self) -> None:
        self._gzip.close()  # which leaves a file object it was given open
        self._handle.close()
        super().close()

    def readinto(self, target: WriteableBuffer, /) -> int:
        if self._read > self._limit:
            raise self._too_large()
        count = self._gzip.readinto(target)
        self._read += count
        if self._read > self._limit:
            raise self._too_large()
        return count

    def _too_large(self) -> InputTooLarge:
        return InputTooLarge(
            f"gzip file decompresses to more than {megabytes(self._limit)} (the limit for one file); "
            "split it into smaller files"
        )


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed if it is gzip (at most :data:`MAX_DECOMPRESSED_BYTES` of them)."""
    handle = path.open("rb")
    if handle.read(2) == b"\x1f\x8b":
        handle.seek(0)
        try:
            return io.BufferedReader(_CappedGzip(handle, MAX_DECOMPRESSED_BYTES))
        except BaseException:
            handle.close()
            raise
    handle.seek(0)
    return handle


def read_at_most(handle: IO[bytes], limit: int, what: str, hint: str = "") -> bytes:
    """All of ``handle``, or :class:`InputTooLarge` (naming ``what`` and the limit) when it has more than ``limit``."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(f"{what} larger than {megabytes(limit)}{hint}")
    return data


def open_text(path: Path) -> IO[str]:
    """The file as a text stream, decoded line by line (UTF-8, else Windows-1252) so files of any size
    and with mixed encodings stream; UTF-16 (which cannot be split into byte lines) is decoded whole."""
    binary = open_binary(path)
    if binary.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        binary.seek(0)
        with binary:
            data = read_at_most(binary, MAX_WHOLE_FILE_BYTES, "UTF-16 file", "; save it as UTF-8")
            return io.StringIO(decode(data), newline="")
    binary.seek(0)
    return io.TextIOWrapper(_LineDecoder(binary), encoding="utf-8", newline="")


class _LineDecoder(io.RawIOBase):
    """Re-encodes each line as UTF-8, decoding UTF-8 or Windows-1252 line by line (mixed-encoding files)."""

    def __init__(self, binary: IO[bytes]) -> None:
        self._binary = binary
        self._buffer = b""
        self._number = 0

    @property
    def name(self) -> str:
        """The file's name, as the text stream's ``name`` (TextIOWrapper asks its buffer for it)."""
        return str(getattr(self._binary, "name", ""))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._binary.close()
        super().close()

    def readinto(self, target: WriteableBuffer, /) -> int:
        while not self._buffer:
            line = self._binary.readline(MAX_LINE_BYTES + 1)
            if not line:
                return 0
            self._number += 1
            if len(line) > MAX_LINE_BYTES:
                raise InputTooLarge(f"line {self._number} is longer than {megabytes(MAX_LINE_BYTES)}")
            self._buffer = decode(line).encode("utf-8")
        with memoryview(target) as view:
            size = min(view.nbytes, len(self._buffer))
            view[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM, else Windows-1252: the encodings abstracts arrive in."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff(path: Path) -> str:
    """The file's format, from its content; raises :class:`UnreadableFile` for what cannot be ingested.

    One of ``pubmed_xml``, ``zotero_rdf``, ``zotero_sqlite``, ``jsonl``, ``json``, ``ris``, ``medline``,
    ``bibtex``, ``html``, ``identifiers`` (a list of PMIDs/DOIs/PMCIDs or a PubMed results page: which papers,
    not the papers), ``csv``, ``tsv``, ``pdf`` or ``text`` (a single page document).
    """
    try:
        with open_binary(path) as handle:
            head = handle.read(SNIFF_BYTES)
    except InputTooLarge as error:
        raise UnreadableFile(str(error)) from None
    except (OSError, EOFError, zlib.error) as error:  # EOFError, zlib.error: a truncated or corrupted gzip file
        raise UnreadableFile(f"cannot read file: {error}") from None
    if not head.strip():
        raise UnreadableFile("empty file")
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(SQLITE_MAGIC):
        return _sqlite_kind(path)
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UnreadableFile(f"binary file: {what}")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and (b"\x00" in head[:8192] or _control_ratio(head[:8192]) > 0.05):
        raise UnreadableFile("binary file (not text)")
    text = decode(head).lstrip()
    truncated = len(head) >= SNIFF_BYTES
    return _xml_kind(text) or _json_kind(text, path, truncated) or _tagged_kind(text) or _markup_or_table(text, path)


def _xml_kind(text: str) -> str | None:
    if not text.startswith("<"):
        return None
    root = _XML_ROOT.search(text)
    name = root.group(1) if root else ""
    if name in ("PubmedArticleSet", "PubmedArticle", "PubmedBookArticle"):
        return "pubmed_xml"
    if name == "RDF" or name.endswith(":RDF"):
        if ZOTERO_NAMESPACE in text:
            return "zotero_rdf"
        raise UnreadableFile("an RDF document that is not a Zotero RDF export; export it from Zotero as Zotero RDF")
    if name.lower() == "html" or not text.startswith(("<?xml", "<!DOCTYPE", "<!doctype")):
        return None  # an HTML page, or a fragment: decided later
    raise UnreadableFile(f"unsupported XML document (root element <{name}>); PubMed XML and Zotero RDF are supported")


def _sqlite_kind(path: Path) -> str:
    """``zotero_sqlite`` for a Zotero library; any other SQLite database cannot be ingested."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:
        raise UnreadableFile("a gzip-compressed SQLite database; decompress it first")
    try:
        zotero = is_zotero_library(path)
    except sqlite3.Error as error:
        raise UnreadableFile(f"an SQLite database that cannot be read ({error}); is it damaged or truncated?") from None
    if not zotero:
        raise UnreadableFile(
            "an SQLite database that is not a Zotero library (zotero.sqlite); export its papers as CSV or JSON"
        )
    return "zotero_sqlite"


def _json_kind(text: str, path: Path, truncated: bool = False) -> str | None:
    first_line, newline, rest = text.partition("\n")
    if truncated and not newline and first_line.startswith("{"):
        # The first line is longer than the head: a minified JSON document if it is the file's only line,
        # else JSON Lines with a long first record.
        return "json" if _single_line(path) else "jsonl"
    if first_line.strip().startswith("{"):
        try:
            json.loads(first_line)
            # One object alone is a JSON document (possibly {"papers": [...]}); several are JSON Lines.
            return "jsonl" if rest.strip() else "json"
        except json.JSONDecodeError:
            pass
        except (ValueError, RecursionError):  # JSON, but an integer too long or nesting too deep for Python:
            return "jsonl" if rest.strip() else "json"  # the reader rejects that record and reads the others
    if text.startswith(("{", "[")) and _is_json_document(path, text):
        return "json"
    return None


def _tagged_kind(text: str) -> str | None:
    """RIS (``TY  - `` first), MEDLINE (``PMID- `` and two-to-four letter tags) or BibTeX (``@article{``)."""
    lines = [line for line in text.splitlines()[:80] if line.strip() and not line.startswith("%")]
    if not lines:
        return None
    if _RIS_START.match(lines[0]):
        return "ris"
    tags = [match.group(1) for match in map(_MEDLINE_TAG.match, lines) if match]
    if len(tags) >= 2 and {"PMID", "TI", "AB"} & set(tags) and "TY" not in tags:
        return "medline"
    if _BIBTEX_ENTRY.match(lines[0]):
        return "bibtex"
    return None


def _markup_or_table(text: str, path: Path) -> str:
    """HTML, an identifier list (a PubMed results page is HTML too), a table, or a plain page."""
    if looks_like_html(text):
        return "identifiers" if is_results_page(text) else "html"
    if looks_like_identifier_list(text):
        return "identifiers"
    return _table_dialect(text, path) or "text"


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for byte in data if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(data)


def _single_line(path: Path) -> bool:
    """Whether nothing but white space follows the file's first line; reads it in pieces (bounded memory)."""
    try:
        with open_binary(path) as handle:
            while piece := handle.readline(SNIFF_BYTES):
                if piece.endswith(b"\n"):
                    break
            while piece := handle.read(SNIFF_BYTES):
                if piece.strip():
                    return False
    except (InputTooLarge, OSError, EOFError, zlib.error):
        pass  # the reader meets the same limit or damage and says so
    return True


def _is_json_document(path: Path, head: str) -> bool:
    """Whether a file starting with ``{`` or ``[`` is one JSON document, reading at most
    :data:`MAX_JSON_DOCUMENT_BYTES` of it: a larger one counts as JSON, for the reader to refuse with a reason.

    The head decides when it is the whole file; the file is read (bounded) only when the head looks like the
    start of a JSON value (``[`` followed by a value, or ``{"``), so large text pages starting with a bracket
    are not parsed as JSON.
    """
    if not _JSON_START.match(head):
        return False
    try:
        with open_binary(path) as handle:
            data = handle.read(MAX_JSON_DOCUMENT_BYTES + 1)
        if len(data) > MAX_JSON_DOCUMENT_BYTES:
            return True
        json.loads(decode(data))
        return True
    except (ValueError, RecursionError, OSError, EOFError, zlib.error):
        return False


def _table_dialect(text: str, path: Path) -> str | None:
    """``csv``/``tsv`` when the first line is a header naming a paper column, or the file is named as a table."""
    header = text.split("\n", 1)[0]
    named_table = bool({suffix.lower() for suffix in path.suffixes} & {".csv", ".tsv", ".tab"})
    for kind, delimiter in (("tsv", "\t"), ("csv", ","), ("csv", ";")):
        if delimiter not in header:
            continue
        try:
            columns = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
        except csv.Error:  # a lone "\r" or a NUL in the line: not a header the table reader could use
            continue
        known = any(canonical_key(column) in _TABLE_COLUMNS for column in columns)
        if len(columns) >= 2 and (known or named_table):
            return kind
    return None
