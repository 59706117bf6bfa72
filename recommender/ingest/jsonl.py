"""JSON Lines and JSON documents: one paper per line, or a list (or ``{"papers": [...]}``) of papers.

JSON Lines are streamed line by line, so a file of any size is read in constant memory (a line longer than
:data:`~.detect.MAX_LINE_BYTES` is rejected); a line that is not valid JSON or not an object is rejected with
its line number. A JSON document up to :data:`~.detect.MAX_JSON_DOCUMENT_BYTES` is read whole; a larger one (a
CSL-JSON export of 20,000 papers is ~40 MB) is streamed item by item (:mod:`.json_stream`), each item at most
that size and the document at most :data:`~.detect.MAX_DECOMPRESSED_BYTES`.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .detect import (
    MAX_DECOMPRESSED_BYTES,
    MAX_JSON_DOCUMENT_BYTES,
    MAX_LINE_BYTES,
    decode,
    megabytes,
    open_binary,
)
from .fields import MAX_JSON_DEPTH, fields_from_mapping, load_json, nesting_exceeds
from .json_stream import JsonItemTooLarge, JsonStreamError, stream_items
from .records import RawRecord, Rejected

_LIST_KEYS = ("papers", "records", "articles", "documents", "items", "results", "data")


def read_jsonl(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            position = f"line {number}"
            if len(raw) > MAX_LINE_BYTES:
                yield Rejected(f"line longer than {megabytes(MAX_LINE_BYTES)}", position, too_large=True)
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a piece at a time
                    raw = handle.readline(MAX_LINE_BYTES)
                continue
            line = decode(raw).strip()
            if not line:
                continue
            try:
                value = load_json(line)
            except json.JSONDecodeError as error:
                yield Rejected(f"not valid JSON ({error.msg} at column {error.colno})", position)
                continue
            except ValueError as error:  # nested too deeply, or an integer too long to convert
                yield Rejected(f"unreadable JSON ({error})", position)
                continue
            yield _record(value, position, columns)


def read_json(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as handle:
        data = handle.read(MAX_JSON_DOCUMENT_BYTES + 1)
    if len(data) > MAX_JSON_DOCUMENT_BYTES:
        del data
        yield from _read_large_json(path, columns)
        return
    try:
        value = load_json(decode(data))
    except json.JSONDecodeError as error:
        yield Rejected(f"not valid JSON ({error.msg} at line {error.lineno})")
        return
    except ValueError as error:  # nested too deeply, or an integer too long to convert
        yield Rejected(f"unreadable JSON ({error})")
        return
    del data
    items = _items(value)
    if len(items) == 1 and items[0] is value:
        yield _record(value, None, columns)
        return
    for number, item in enumerate(items, start=1):
        yield _record(item, f"item {number}", columns)


def _read_large_json(path: Path, columns: Mapping[str, str] | None) -> Iterator[RawRecord | Rejected]:
    """A JSON document over :data:`~.detect.MAX_JSON_DOCUMENT_BYTES`, streamed: its records, then a rejection
    saying where and why the stream stopped, if it did."""
    number = 0
    with _open_chunked_text(path) as text:
        items = stream_items(text, _LIST_KEYS, MAX_JSON_DOCUMENT_BYTES, MAX_DECOMPRESSED_BYTES)
        try:
            for number, item in enumerate(items, start=1):
                yield _record(item, f"item {number}", columns)
        except JsonStreamError as error:
            yield Rejected(f"{error}; {number:,} records read before it")
        except JsonItemTooLarge as error:
            yield Rejected(f"{error}; {number:,} records read before it", too_large=True)


def _open_chunked_text(path: Path) -> IO[str]:
    """The file as text read in chunks, not lines (a minified document is one line of any length): UTF-8, JSON's
    encoding (UTF-16 with a byte-order mark too); an undecodable byte becomes U+FFFD."""
    binary = open_binary(path)
    utf16 = binary.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    binary.seek(0)
    return io.TextIOWrapper(binary, encoding="utf-16" if utf16 else "utf-8-sig", errors="replace")


def read_objects(values: Any) -> Iterator[RawRecord | Rejected]:
    """Records already parsed from JSON (an HTTP request body): a list, ``{"papers": [...]}`` or one object."""
    for number, item in enumerate(_items(values), start=1):
        yield _record(item, f"item {number}", None)


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                return value[key]
    return [value]


def _record(value: Any, position: str | None, columns: Mapping[str, str] | None) -> RawRecord | Rejected:
    if not isinstance(value, dict):
        return Rejected(f"expected a JSON object, got {type(value).__name__}", position)
    if nesting_exceeds(value):  # records given in memory are not checked by load_json
        return Rejected(f"record nested more than {MAX_JSON_DEPTH} levels deep", position)
    return RawRecord(fields_from_mapping(value, columns), position)
