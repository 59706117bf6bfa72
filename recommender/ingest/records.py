"""What readers yield: a raw record with its position in the file, or a rejection with a reason.

Keeping both in one stream lets every reader report a bad record and carry on with the next, so one
broken line never costs the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..paper import MAX_ID_LENGTH, Paper, assign_id, clean_text, utf8_safe

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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


def to_paper(record: RawRecord, source: str) -> Paper | Rejected:
    """Validate a raw record and give it its stable id; a record without an abstract is rejected."""
    fields = record.fields
    abstract = clean_text(fields.get("abstract"))
    title = clean_text(fields.get("title"))
    if not abstract:
        reason = "no abstract" + (f" (title: {title[:80]!r})" if title else "")
        return Rejected(reason, record.position)
    paper_id = assign_id(fields.get("id"), fields.get("doi"), fields.get("pmid"), title, abstract)
    if len(paper_id) > MAX_ID_LENGTH or _CONTROL.search(paper_id):
        # Such an id could not be looked up (the service refuses longer references) or shown safely.
        reason = f"unusable id {paper_id[:80]!r}: at most {MAX_ID_LENGTH} characters, no control characters"
        return Rejected(reason, record.position)
    where = utf8_safe(f"{source}:{record.position}" if record.position else source)  # file names may not be UTF-8
    return Paper(
        id=paper_id,
        title=title,
        abstract=abstract,
        doi=fields.get("doi"),
        pmid=fields.get("pmid"),
        journal=clean_text(fields.get("journal")) or None,
        year=fields.get("year"),
        authors=list(fields.get("authors") or []),
        keywords=list(fields.get("keywords") or []),
        mesh_terms=list(fields.get("mesh_terms") or []),
        labels=list(fields.get("labels") or []),
        source=where,
    )
