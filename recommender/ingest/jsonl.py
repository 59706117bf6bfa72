"""JSON Lines and JSON documents: one paper per line, or a list (or ``{"papers": [...]}``) of papers.

JSON Lines are streamed line by line, so a file of any size is read in constant memory (a line longer than
:data:`~.detect.MAX_LINE_BYTES` is rejected); a line that is not valid JSON or not an object is rejected with
its line number. A JSON document is read whole, so one larger than :data:`~.detect.MAX_JSON_DOCUMENT_BYTES` is
rejected (JSON Lines are for large files).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .detect import MAX_JSON_DOCUMENT_BYTES, MAX_LINE_BYTES, decode, megabytes, open_binary
from .fields import MAX_JSON_DEPTH, fields_from_mapping, load_json, nesting_exceeds
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
        yield Rejected(
            f"JSON document larger than {megabytes(MAX_JSON_DOCUMENT_BYTES)}; use JSON Lines (one record a line) "
            "for large files",
            too_large=True,
        )
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
