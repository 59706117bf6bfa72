"""One paper from one page document (plain text or HTML), combining declared and inferred fields.

A page can carry the same facts several times and in several qualities: HTML meta tags and embedded JSON
records (an aggregator's record pasted into the page) are explicit; the plain-text rules of
:mod:`.text_page` are inferred. Explicit values win; inferred ones fill the gaps. For the title, an English
title is preferred over a translated one wherever it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .fields import fields_from_mapping, latin_ratio, load_json, prefer_english
from .html_page import looks_like_html, parse_html
from .text_page import parse_text_page

_MAX_JSON_DEPTH = 6


def _json_candidates(text: str) -> Iterator[Any]:
    """JSON values embedded in the page: the whole text, or single lines that are JSON objects/arrays."""
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            yield load_json(stripped)
            return
        except ValueError:  # not JSON, or nested too deeply to use
            pass
    for line in text.splitlines():
        line = line.strip()
        if len(line) > 20 and line[0] in "{[" and line[-1] in "}]":
            try:
                yield load_json(line)
            except ValueError:
                continue


def _walk_records(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every mapping inside a JSON value, including JSON documents stored as strings inside it."""
    if depth > _MAX_JSON_DEPTH:
        return
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk_records(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:50]:
            yield from _walk_records(item, depth + 1)
    elif isinstance(value, str) and len(value) > 20 and value.lstrip()[:1] in "{[":
        try:
            yield from _walk_records(load_json(value), depth + 1)
        except ValueError:
            return


def embedded_records(text: str) -> list[dict[str, Any]]:
    """Normalised fields of each embedded JSON record that describes a paper (has a title or abstract)."""
    records = []
    for value in _json_candidates(text):
        for mapping in _walk_records(value):
            fields = fields_from_mapping(mapping)
            if "title" in fields or "abstract" in fields:
                records.append(fields)
    return records


def _site_title(page_title: str | None) -> str | None:
    """``<title>`` minus a site suffix ("... - PubMed", "... | Nature"): the longest segment."""
    if not page_title:
        return None
    segments = [segment.strip() for segment in re.split(r"\s++[|–—-]\s++", page_title) if segment.strip()]
    return max(segments, key=len) if segments else None


def parse_page(text: str) -> dict[str, Any]:
    """Fields of the single paper a page describes (missing fields are simply absent)."""
    declared: list[dict[str, Any]] = []
    page_title = None
    if looks_like_html(text):
        meta, text = parse_html(text)
        page_title = meta.pop("page_title", None)
        declared.append(meta)
    declared.extend(embedded_records(text))
    inferred = parse_text_page(text).as_dict()

    fields: dict[str, Any] = {}
    for source in [*declared, inferred]:
        for key, value in source.items():
            fields.setdefault(key, value)
    titles = [source.get("title", "") for source in [*declared, inferred]]
    if page_title and not any(titles):
        titles.append(_site_title(page_title) or "")
    title = prefer_english(titles)
    if title:
        fields["title"] = title
    fields["abstract"] = _best_abstract([source.get("abstract") for source in declared], inferred.get("abstract"))
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _best_abstract(declared: list[str | None], inferred: str | None) -> str | None:
    """A declared abstract, unless it is a truncated or translated version of the inferred one."""
    for abstract in declared:
        if not abstract or len(abstract) < 100 or latin_ratio(abstract) < 0.5 <= latin_ratio(inferred or ""):
            continue
        if inferred and len(inferred) > len(abstract) * 1.2 and inferred.startswith(abstract[:60]):
            return inferred
        return abstract
    return inferred
