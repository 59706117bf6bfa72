"""What readers yield: a raw record with its position in the file, or a rejection with a reason.

Keeping both in one stream lets every reader report a bad record and carry on with the next, so one
broken line never costs the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..paper import Paper, assign_id, clean_text


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
    where = f"{source}:{record.position}" if record.position else source
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
