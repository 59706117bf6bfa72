"""Recognising what a file is from its content, and decoding its bytes.

Extensions lie (a ``.txt`` that is JSONL, a PubMed page saved as ``.html`` or ``.txt``), so the format is
decided from the first bytes: binary and empty files are refused with a reason, gzip is opened
transparently, and text is sniffed for JSON Lines, JSON, delimited tables, HTML or a plain page.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import IO

from .fields import canonical_key
from .html_page import looks_like_html

SNIFF_BYTES = 65536
_BINARY_MAGIC = {
    b"%PDF": "a PDF file (export or copy the abstract as text)",
    b"PK\x03\x04": "a ZIP/Office file (export it as CSV, JSON or text)",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
    b"\x7fELF": "a program binary",
}
_TABLE_COLUMNS = {"title", "abstract", "ab", "ti", "doi", "pmid", "abstracttext", "articletitle", "id"}


class UnreadableFile(Exception):
    """The file cannot be ingested at all; the message says why, for the ingest report."""


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed if it is gzip."""
    handle = path.open("rb")
    if handle.read(2) == b"\x1f\x8b":
        handle.seek(0)
        return gzip.open(handle, "rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: the two encodings abstracts arrive in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff(path: Path) -> str:
    """One of ``jsonl``, ``json``, ``csv``, ``tsv``, ``html``, ``text``; raises :class:`UnreadableFile`."""
    try:
        with open_binary(path) as handle:
            head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise UnreadableFile(f"cannot read file: {error}") from None
    if not head.strip():
        raise UnreadableFile("empty file")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UnreadableFile(f"binary file: {what}")
    if b"\x00" in head[:8192] or _control_ratio(head[:8192]) > 0.05:
        raise UnreadableFile("binary file (not text)")
    text = decode(head).lstrip()
    first_line, _, rest = text.partition("\n")
    if first_line.strip().startswith("{"):
        try:
            json.loads(first_line)
            # One object alone is a JSON document (possibly {"papers": [...]}); several are JSON Lines.
            return "jsonl" if rest.strip() else "json"
        except json.JSONDecodeError:
            pass
    if text.startswith(("{", "[")) and _is_json_document(path):
        return "json"
    if looks_like_html(text):
        return "html"
    table = _table_dialect(text, path)
    if table:
        return table
    return "text"


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for byte in data if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(data)


def _is_json_document(path: Path) -> bool:
    try:
        with open_binary(path) as handle:
            json.loads(decode(handle.read()))
        return True
    except (json.JSONDecodeError, OSError, EOFError):
        return False


def _table_dialect(text: str, path: Path) -> str | None:
    """``csv``/``tsv`` when the first line is a header naming at least one paper column."""
    header = text.split("\n", 1)[0]
    suffixes = {suffix.lower() for suffix in path.suffixes}
    for kind, delimiter in (("tsv", "\t"), ("csv", ","), ("csv", ";")):
        if delimiter not in header and not (kind == "tsv" and ".tsv" in suffixes):
            continue
        columns = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
        if len(columns) >= 2 and any(canonical_key(column) in _TABLE_COLUMNS for column in columns):
            return kind
    return None
