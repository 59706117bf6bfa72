"""Mapping loosely named source fields onto the normalised paper record.

Exports, aggregators and spreadsheets name the same thing many ways (``abstract``, ``AbstractText``, ``AB``,
``description``; a journal as a string or as ``{"name": ...}``; authors as a string, a list of strings or a
list of ``{"given", "family"}``). Every reader funnels its raw mapping through :func:`fields_from_mapping`,
so the rules live in one place.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ..paper import clean_text, normalize_doi, normalize_pmcid, normalize_pmid

# Synonyms are compared after lower-casing and removing "_", "-", " " and ".".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "paperid", "uid", "docid", "recordid", "_id"),
    "title": ("title", "articletitle", "primarytitle", "headline", "ti", "citationtitle", "papertitle"),
    "abstract": (
        "abstract", "abstracttext", "abstractnote", "ab", "summary", "citationabstract", "description", "text",
    ),
    "doi": ("doi", "di", "citationdoi", "dcidentifier"),
    "pmid": ("pmid", "pubmedid", "pubmed", "citationpmid"),
    "pmcid": ("pmcid", "pmc", "pubmedcentralid", "citationpmcid"),
    "journal": (
        "journal", "journaltitle", "journalname", "jt", "ta", "venue", "containertitle", "periodicalname",
        "citationjournaltitle", "publicationname", "publicationtitle", "ispartof", "so", "jo", "t2",
    ),
    "year": (
        "year", "publicationyear", "pubyear", "py", "y1", "publicationdate", "pubdate", "dp",
        "datepublished", "citationpublicationdate", "citationdate", "date", "issued", "published", "epubdate",
    ),
    "authors": ("authors", "author", "au", "fau", "a1", "creator", "citationauthor", "authorlist"),
    "keywords": ("keywords", "keyword", "kw", "ot", "citationkeywords", "tags", "manualtags", "automatictags"),
    "mesh_terms": ("meshterms", "mesh", "mh", "meshheadings"),
    "labels": ("labels", "label", "categories", "category", "classes"),
}  # fmt: skip

# Formatting tags found in abstracts from aggregators and JATS XML. Only these are removed: anything else
# in angle brackets ("p<0.05", "<script>") is text and is kept, to be escaped wherever it is shown.
_MARKUP_TAG = re.compile(
    r"</?(?:p|i|b|u|em|strong|sup|sub|br|span|div|a|small|sc|italic|bold|underline|h[1-6]|li|ul|ol|"
    r"jats:[a-z-]+|mml:[a-z]+|abstracttext|title|sec)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|h[1-6]|jats:p|jats:sec|sec)(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ET_AL = re.compile(r",?\s+(?:et al\.?|and others)\s*$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")
# Zotero's Extra field holds one "Key: value" a line; these are the identifiers it keeps there.
_EXTRA_IDS = {
    "pmid": re.compile(r"\bPMID:[ \t]*([0-9]{1,9})\b"),
    "pmcid": re.compile(r"\bPMCID:[ \t]*(PMC[0-9]{1,9})\b", re.IGNORECASE),
    "doi": re.compile(r"^[ \t]*DOI:[ \t]*(10\.[0-9]{4,9}/\S+)", re.IGNORECASE | re.MULTILINE),
}
_NORMALISERS = {"pmid": normalize_pmid, "pmcid": normalize_pmcid, "doi": normalize_doi}
#: Characters of Extra searched: identifiers sit in its first lines, and the field is free text of any length.
MAX_EXTRA_CHARS = 2000
# Lower-case words that belong to a family name ("van der Berg, Jan"), so they do not make it two names.
_NAME_PARTICLES = frozenset("van von der den de del della di da das dos du la le ten ter zu bin ibn al el".split())
#: Deepest nesting of lists and objects read from JSON. Paper records nest a few levels; the converters below
#: recurse, so a value nested hundreds of levels deep is refused before it reaches them.
MAX_JSON_DEPTH = 64


def canonical_key(key: str) -> str:
    return re.sub(r"[\s_.\-:]+", "", str(key)).lower()


def strip_markup(text: str) -> str:
    """Remove formatting tags and decode HTML entities, keeping every other character as text."""
    if "<" in text:
        text = _BLOCK_TAG.sub(" ", text)
        text = _MARKUP_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return clean_text(text)


def parse_year(value: Any) -> int | None:
    """First plausible publication year in a number or a date string (``2025-09-30``, ``2017 Sep 30``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN and Infinity
            return None
        year = int(value)
    else:
        match = _YEAR.search(str(value))
        if not match:
            return None
        year = int(match.group(1))
    return year if 1800 <= year <= date.today().year + 1 else None


def date_year(value: Any) -> int | None:
    """The year of a date in any of the shapes sources write: a number, a string, or CSL-JSON's date object
    (``{"date-parts": [[2021, 5]]}``, ``{"raw": "2021-05"}``, ``{"literal": "Spring 2021"}``), which Zotero,
    citeproc and pandoc all use for ``issued``."""
    if not isinstance(value, Mapping):
        return parse_year(value if isinstance(value, int | float | str) else as_text(value))
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = parts[0][0]
        year = parse_year(first) if isinstance(first, int | str) and not isinstance(first, bool) else None
        if year:
            return year
    for key in ("raw", "literal", "year"):
        field = value.get(key)
        if isinstance(field, int | str) and not isinstance(field, bool):
            year = parse_year(field)
            if year:
                return year
    return None


def nesting_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and mappings nest more than ``limit`` levels deep in ``value``.

    Iterative, depth first: no recursion however deep the value, and a cyclic value (only possible in memory)
    stops at the limit too.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def load_json(text: str) -> Any:
    """``json.loads`` for ingest: every failure is a ``ValueError`` (a ``JSONDecodeError`` for bad syntax).

    ``json.loads`` itself raises ``RecursionError`` on arrays nested about a thousand levels deep and a plain
    ``ValueError`` on integers of more than 4300 digits; values nested deeper than :data:`MAX_JSON_DEPTH` are
    refused here too.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if nesting_exceeds(value):
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def as_text(value: Any) -> str:
    """A scalar or a name-bearing mapping as text (``{"name": "Small"}`` → ``Small``)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        for key in ("name", "title", "value", "#text", "text"):
            if value.get(key):
                return as_text(value[key])
        return ""
    if isinstance(value, list | tuple):
        return as_text(value[0]) if value else ""
    return strip_markup(str(value))


def as_list(value: Any, split: str = r"\s*;\s*") -> list[str]:
    """A list field from a list, a delimited string, or mappings naming people or terms."""
    if value is None:
        return []
    if isinstance(value, str):
        text = strip_markup(value)
        if not text:
            return []
        if not re.search(split, text) and split == r"\s*;\s*" and "," in text:
            return [item.strip() for item in text.split(",") if item.strip()]
        return [item.strip(" .") for item in re.split(split, text) if item.strip(" .")]
    if isinstance(value, Mapping) or not isinstance(value, list | tuple):
        value = [value]  # one name-bearing mapping, or a lone number or boolean (iterating it would raise)
    items: list[str] = []
    for item in value:
        name = person_name(item) if isinstance(item, Mapping) else strip_markup(str(item))
        if name:
            items.append(name)
    return items


def person_name(item: Mapping[str, Any]) -> str:
    """``{"given": "Bofang", "family": "Wang"}`` and similar shapes → ``Bofang Wang``."""
    for key in ("name", "full_name", "fullname", "display_name", "literal"):
        if item.get(key):
            return clean_text(str(item[key]))
    given = item.get("given") or item.get("forename") or item.get("first") or item.get("firstname") or ""
    family = item.get("family") or item.get("lastname") or item.get("last") or item.get("surname") or ""
    return clean_text(f"{given} {family}")


def flip_name(name: str) -> str:
    """``Wang, Bofang`` → ``Bofang Wang``; names without a comma are returned as they are."""
    last, comma, first = name.partition(",")
    if not comma or not first.strip():
        return clean_text(name)
    return clean_text(f"{first.strip()} {last.strip()}")


def authors_from(value: Any) -> list[str]:
    """Authors from a list, or a string separated by ';' or ','. Names written "Last, First" (Zotero's and
    EndNote's CSV: ``Wang, Bofang; Li, Xiu``) are turned round, so every source spells a person alike.

    Without a ';' a comma may separate people ("Smith J, Doe A") or the parts of one name (a lone
    "García-López, María José", as Zotero writes a single author): the shape decides (:func:`_one_person`).
    """
    if isinstance(value, str):
        text = strip_markup(value)
        text = text[:-64] + _ET_AL.sub("", text[-64:])  # anchored at the end: only the tail can match
        if ";" in text:
            return [flip_name(name) for name in re.split(r"\s*;\s*", text) if name]
        names = [name for name in re.split(r"\s*,\s*", text) if name]
        return [flip_name(text)] if _one_person(names) else names
    return as_list(value)  # list items are taken as written: a list is already one entry per person


def _one_person(parts: list[str]) -> bool:
    """Whether two comma-separated parts are one "Last, First" name rather than two people.

    The first part must be a family name alone: one word, or words of lower-case particles before one
    ("van der Berg"). A person written "Smith J" or "John Smith" has two words of which the first is not a
    particle, so "Smith J, Doe A" and "John Smith, Jane Doe" stay two people.
    """
    if len(parts) != 2:
        return False
    family = parts[0].split()
    return bool(family) and all(word in _NAME_PARTICLES for word in family[:-1]) and bool(parts[1].strip())


def fields_from_mapping(record: Mapping[str, Any], columns: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Normalised fields from one raw mapping; unknown keys are ignored, known ones cleaned.

    ``columns`` maps field names to the record's own keys (``{"abstract": "Summary"}``) and wins over the
    built-in synonyms. Otherwise, when several keys map to one field (``abstract`` and ``description``),
    the synonym listed first in :data:`SYNONYMS` wins, whatever the order of keys in the record.
    """
    by_key: dict[str, Any] = {}
    for field, column in (columns or {}).items():
        if column in record:
            by_key[field] = record[column]
    for key, value in record.items():
        by_key.setdefault(canonical_key(key), value)
    out: dict[str, Any] = {}
    for name, aliases in SYNONYMS.items():
        for alias in aliases:
            value = by_key.get(alias)
            if value in (None, "", [], {}):
                continue
            converted = convert(name, value)
            if converted not in (None, "", []):
                out[name] = converted
                break
    if isinstance(by_key.get("extra"), str):  # Zotero keeps "PMID: 123" and "PMCID: PMC456" in Extra
        for name, identifier in ids_from_extra(by_key["extra"]).items():
            out.setdefault(name, identifier)
    return out


def ids_from_extra(extra: str) -> dict[str, str]:
    """PMID, PMCID and DOI from a Zotero Extra field ("PMID: 123\\nPMCID: PMC456"), normalised; only its first
    :data:`MAX_EXTRA_CHARS` characters are searched."""
    text = extra[:MAX_EXTRA_CHARS]
    found: dict[str, str] = {}
    for name, pattern in _EXTRA_IDS.items():
        match = pattern.search(text)
        value = _NORMALISERS[name](match.group(1)) if match else None
        if value:
            found[name] = value
    return found


def convert(name: str, value: Any) -> Any:
    """Clean one value for the named field."""
    if name == "doi":
        return normalize_doi(as_text(value))
    if name == "pmid":
        return normalize_pmid(as_text(value))
    if name == "pmcid":
        return normalize_pmcid(as_text(value))
    if name == "year":
        return date_year(value)
    if name == "authors":
        return authors_from(value)
    if name in ("keywords", "mesh_terms", "labels"):
        return as_list(value)
    if name == "id":
        return clean_text(str(value)) if not isinstance(value, Mapping | list) else None
    return as_text(value)


def latin_ratio(text: str) -> float:
    """Share of letters that are Latin: tells an English title from a translated one."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if ch.isascii()) / len(letters)


def prefer_english(titles: Iterable[str]) -> str:
    """The first mostly-Latin title, else the first title (a Chinese title beside an English one)."""
    candidates = [title for title in titles if title]
    for title in candidates:
        if latin_ratio(title) >= 0.8:
            return title
    return candidates[0] if candidates else ""
