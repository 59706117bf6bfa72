"""What readers yield: a raw record with its position in the file, or a rejection with a reason.

Keeping both in one stream lets every reader report a bad record and carry on with the next, so one
broken line never costs the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..paper import MAX_ID_LENGTH, Paper, assign_id, clean_text, normalize_pmcid, usable_id, utf8_safe

#: Longest text fields accepted, in characters (after clean-up); a record with a longer one is rejected.
MAX_ABSTRACT_CHARS = 100_000
MAX_TITLE_CHARS = 2_000
MAX_JOURNAL_CHARS = 1_000
#: Longest single author, keyword, MeSH term or label, and most items in one of those lists.
MAX_LIST_ITEM_CHARS = 1_000
MAX_LIST_ITEMS = 10_000
_TEXT_LIMITS = {"title": MAX_TITLE_CHARS, "abstract": MAX_ABSTRACT_CHARS, "journal": MAX_JOURNAL_CHARS}
_LIST_FIELDS = ("authors", "keywords", "mesh_terms", "labels")


@dataclass(frozen=True)
class RawRecord:
    """Fields read from one record, already mapped onto the normalised field names."""

    fields: dict[str, Any]
    position: str | None = None


@dataclass(frozen=True)
class Rejected:
    """A record (or a whole file) that could not be used, and why."""

    reason: str
    position: str | None = None
    #: Over a size limit (bytes, line, document or field length) rather than malformed: nothing read for this
    #: reason alone is a 413, not a 400.
    too_large: bool = False


def to_paper(record: RawRecord, source: str) -> Paper | Rejected:
    """Validate a raw record and give it its stable id; a record without an abstract is rejected."""
    fields = record.fields
    too_large = oversized_field(fields)
    if too_large:
        return Rejected(too_large, record.position, too_large=True)
    abstract = clean_text(fields.get("abstract"))
    title = clean_text(fields.get("title"))
    if not abstract:
        reason = "no abstract" + (f" (title: {title[:80]!r})" if title else "")
        return Rejected(reason, record.position)
    paper_id = assign_id(fields.get("id"), fields.get("doi"), fields.get("pmid"), title, abstract)
    if not usable_id(paper_id):
        # Such an id could not be looked up (check_reference refuses it) or shown safely.
        reason = f"unusable id {paper_id[:80]!r}: at most {MAX_ID_LENGTH} characters, no control characters"
        return Rejected(reason, record.position)
    where = utf8_safe(f"{source}:{record.position}" if record.position else source)  # file names may not be UTF-8
    return Paper(
        id=paper_id,
        title=title,
        abstract=abstract,
        doi=fields.get("doi"),
        pmid=fields.get("pmid"),
        pmcid=normalize_pmcid(fields.get("pmcid")),
        journal=clean_text(fields.get("journal")) or None,
        year=fields.get("year"),
        authors=list(fields.get("authors") or []),
        keywords=list(fields.get("keywords") or []),
        mesh_terms=list(fields.get("mesh_terms") or []),
        labels=list(fields.get("labels") or []),
        source=where,
    )


def oversized_field(fields: dict[str, Any]) -> str | None:
    """Why a field is over its limit (naming the field and the limit), or ``None`` when all fit."""
    for name, limit in _TEXT_LIMITS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            return f"{name} too long: {len(value):,} characters (at most {limit:,})"
    for name in _LIST_FIELDS:
        items = fields.get(name) or []
        if len(items) > MAX_LIST_ITEMS:
            return f"{name} too long: {len(items):,} items (at most {MAX_LIST_ITEMS:,})"
        for item in items:
            if isinstance(item, str) and len(item) > MAX_LIST_ITEM_CHARS:
                return f"{name} item too long: {len(item):,} characters (at most {MAX_LIST_ITEM_CHARS:,})"
    return None
