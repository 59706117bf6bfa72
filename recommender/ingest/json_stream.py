"""The records of a JSON document too large to read whole, one at a time in bounded memory.

A CSL-JSON export of 20,000 papers is about 40 MB: one top-level array (or ``{"papers": [...]}``), more than
:data:`~.detect.MAX_JSON_DOCUMENT_BYTES`. :func:`stream_items` walks its outer structure itself and hands each
item to the standard library's decoder (``json.JSONDecoder.raw_decode``), so values decode exactly as
``json.loads`` decodes them (NaN, lone surrogates and all) while only one item is held at a time.

Text is read in chunks into a buffer. When an item runs past the buffer's end it is decoded again after the
buffer has grown by as much again as the item had, so an item of ``n`` characters costs ``O(n)`` in all; an
item (or a run of blanks) longer than ``item_limit`` characters, or a document longer than ``total_limit``,
stops the stream with :class:`JsonItemTooLarge`. Bad syntax stops it with :class:`JsonStreamError`, whose
message says what and on which line, as the whole-document reader does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

from .detect import megabytes

_CHUNK_CHARS = 1024 * 1024
_BLANKS = re.compile(r"[ \t\n\r]*+")
# A decoding error this close to the buffer's end may just be an item cut by it ("tru", "-", "\u12").
_TAIL_CHARS = 16


class JsonStreamError(ValueError):
    """The document is not valid JSON, or not an array or object at its top; the message says where."""


class JsonItemTooLarge(ValueError):
    """One item, or the whole document, is over its limit (or is one record over the cap); the message says which."""


class _Buffer:
    """Characters read from a stream and not yet consumed, with the line number where they start."""

    def __init__(self, stream: IO[str], item_limit: int, total_limit: int) -> None:
        self._stream = stream
        self._decoder = json.JSONDecoder()
        self.item_limit = item_limit
        self.total_limit = total_limit
        self.text = ""
        self.pos = 0
        self.eof = False
        self._line = 1  # line number of self.text[0]
        self._read = 0

    def line(self, position: int | None = None) -> int:
        """The line number of a buffer position (the current one by default)."""
        return self._line + self.text.count("\n", 0, self.pos if position is None else position)

    def fill(self, wanted: int) -> bool:
        """Append at least ``wanted`` more characters (fewer at the end of the stream); ``False`` at its end."""
        if self.eof:
            return False
        if self.pos > _CHUNK_CHARS:  # drop what was consumed: each character is copied O(1) times
            self._line += self.text.count("\n", 0, self.pos)
            self.text, self.pos = self.text[self.pos :], 0
        piece = self._stream.read(max(wanted, _CHUNK_CHARS))
        if not piece:
            self.eof = True
            return False
        self._read += len(piece)
        if self._read > self.total_limit:
            raise JsonItemTooLarge(f"JSON document larger than {megabytes(self.total_limit)}; split it")
        self.text += piece
        return True

    def peek(self, what: str) -> str:
        """The next character after blanks ("" at the end), skipping at most ``item_limit`` blanks."""
        skipped = 0
        while True:
            end = _BLANKS.match(self.text, self.pos).end()  # type: ignore[union-attr]  # always matches
            skipped += end - self.pos
            self.pos = end
            if skipped > self.item_limit:
                raise JsonItemTooLarge(f"{what} larger than {megabytes(self.item_limit)}")
            if end < len(self.text):
                return self.text[end]
            if not self.fill(_CHUNK_CHARS):
                return ""

    def expect(self, allowed: str, message: str, what: str) -> str:
        """Consume the next character, one of ``allowed``; else :class:`JsonStreamError` with ``message``."""
        character = self.peek(what)
        if not character or character not in allowed:
            raise self.error(message)
        self.pos += 1
        return character

    def value(self, what: str) -> Any:
        """Decode the value after the blanks at the current position (``what`` names it in a too-large message)."""
        self.peek(what)
        while True:
            end = -1
            try:
                value, end = self._decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                cut = error.pos >= len(self.text) - _TAIL_CHARS or error.msg.startswith("Unterminated string")
                if self.eof or not cut:
                    message = error.msg.removesuffix(" at")  # "Unterminated string starting at"
                    raise JsonStreamError(f"not valid JSON ({message} at line {self.line(error.pos)})") from None
            except RecursionError:
                raise JsonStreamError("unreadable JSON (nested too deeply)") from None
            except ValueError as error:  # an integer too long to convert
                raise JsonStreamError(f"unreadable JSON ({error})") from None
            if end - self.pos > self.item_limit:
                raise JsonItemTooLarge(f"{what} larger than {megabytes(self.item_limit)}")
            if end >= 0 and (self.eof or not _may_go_on(value, self.text, end)):
                self.pos = end
                return value
            held = len(self.text) - self.pos
            if held > self.item_limit:
                raise JsonItemTooLarge(f"{what} larger than {megabytes(self.item_limit)}")
            self.fill(held)  # doubles what is held of the item: linear in its size overall

    def error(self, message: str) -> JsonStreamError:
        return JsonStreamError(f"not valid JSON ({message} at line {self.line()})")


def _may_go_on(value: Any, text: str, end: int) -> bool:
    """Whether a value decoded from a buffer may be longer in the stream: a number followed only by characters
    that could continue it (``0`` of ``0.5`` when the buffer ends at ``0.``), or anything at the buffer's end."""
    if end >= len(text):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # No slice of the rest: the buffer may hold a megabyte after the value; the first other character stops it.
    return all(text[position] in _NUMBER_CHARACTERS for position in range(end, len(text)))


_NUMBER_CHARACTERS = frozenset("0123456789.eE+-")


def stream_items(stream: IO[str], list_keys: tuple[str, ...], item_limit: int, total_limit: int) -> Iterator[Any]:
    """Each item of a top-level JSON array, or of the first array under one of ``list_keys`` in a top-level
    object (other values of that object are decoded, each within ``item_limit``, and skipped).

    Raises :class:`JsonStreamError` on bad syntax and :class:`JsonItemTooLarge` past a limit, after the
    items before the fault were yielded.
    """
    buffer = _Buffer(stream, item_limit, total_limit)
    start = buffer.expect("[{", "expected a list of records: '[' or '{'", "JSON document")
    if start == "[":
        yield from _array(buffer)
    else:
        yield from _listed(buffer, list_keys)
    if buffer.peek("JSON document"):
        raise buffer.error("Extra data")


def _array(buffer: _Buffer) -> Iterator[Any]:
    """The items of an array whose '[' was consumed, up to and including its ']'."""
    if buffer.peek("JSON record (item 1)") == "]":
        buffer.pos += 1
        return
    number = 0
    while True:
        number += 1
        yield buffer.value(f"JSON record (item {number})")
        if buffer.expect(",]", "Expecting ',' delimiter", f"JSON array after item {number}") == "]":
            return


def _listed(buffer: _Buffer, list_keys: tuple[str, ...]) -> Iterator[Any]:
    """The items of the first array under one of ``list_keys`` in an object whose '{' was consumed."""
    found = False
    if buffer.peek("JSON object") == "}":
        buffer.pos += 1
    else:
        while True:
            if buffer.peek("JSON object") != '"':
                raise buffer.error("Expecting property name enclosed in double quotes")
            key = buffer.value("JSON key")
            buffer.expect(":", "Expecting ':' delimiter", "JSON object")
            if not found and key in list_keys and buffer.peek("JSON object") == "[":
                found = True
                buffer.pos += 1
                yield from _array(buffer)
            else:
                try:
                    buffer.value("JSON value")
                except JsonItemTooLarge:
                    raise _not_a_list(buffer, list_keys) from None
            if buffer.expect(",}", "Expecting ',' delimiter", "JSON object") == "}":
                break
    if not found:
        raise _not_a_list(buffer, list_keys)


def _not_a_list(buffer: _Buffer, list_keys: tuple[str, ...]) -> JsonItemTooLarge:
    """A large object holding no list of records: one record larger than a document may be."""
    return JsonItemTooLarge(
        f"JSON document larger than {megabytes(buffer.item_limit)} that is not a list of records "
        f"({', '.join(list_keys)}); use JSON Lines (one record a line) for large files"
    )
