"""Storing what the readers yield: papers into the paper store in one transaction, and a report of it all.

Readers (:mod:`recommender.ingest`, the upload parser) never raise on bad content; they yield a
:class:`~recommender.ingest.records.Rejected` with the reason. Here every paper read is upserted and counted
(added, updated, unchanged, merged), every rejection is counted and the first ones listed, and an ingest that
stores nothing is rolled back and refused with the reasons, so the store and the index stay untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from tqdm import tqdm

from .errors import NothingIngestedError, NothingIngestedTooLargeError, RecommenderError
from .paper import Paper
from .store import PaperStore

if TYPE_CHECKING:
    from .ingest import Rejected

#: Rejected records listed (with source, position and reason) in an ingest report; the rest are counted only,
#: so a file of five million bad lines gives a short answer (``rejected_count`` has them all).
MAX_LISTED_REJECTIONS = 100
#: What readers yield: the source's label, the record's position in it, and the paper or why there is none.
Item: TypeAlias = "tuple[str, str | None, Paper | Rejected]"


@dataclass
class IngestReport:
    """What an ingest did, per input and in total."""

    index: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    total: int = 0
    papers: list[dict[str, Any]] = field(default_factory=list)
    #: Every rejected record counts; the first MAX_LISTED_REJECTIONS are listed with their reasons.
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def ids(self) -> list[str]:
        """The ids of the papers stored (added, updated or unchanged), for the index update that follows."""
        return [paper["id"] for paper in self.papers]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine_reports(reports: Sequence[IngestReport]) -> IngestReport:
    """One report for ingests done one after another into the same index: the counts summed, the papers and
    the listed rejections in order (still at most MAX_LISTED_REJECTIONS), ``total`` the store's size after the
    last. A single report comes back as it is."""
    if len(reports) == 1:
        return reports[0]
    combined = IngestReport(index=reports[0].index if reports else "")
    for report in reports:
        for name in ("read", "added", "updated", "unchanged", "merged", "rejected_count"):
            setattr(combined, name, getattr(combined, name) + getattr(report, name))
        combined.papers.extend(report.papers)
        combined.rejected.extend(report.rejected[: MAX_LISTED_REJECTIONS - len(combined.rejected)])
        combined.total = report.total
    return combined


@dataclass
class InputOutcome:
    """What became of one input of a request with several (an uploaded file, a paste): its report when its
    papers were stored, else the error that stored nothing of it (the other inputs are not affected)."""

    name: str
    report: IngestReport | None = None
    error: RecommenderError | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "ingest"}``, or ``{"name", "status", "error": {"code", "message"[, "details"]}}`` with
        the error in the API's one shape and the HTTP status it would have had alone."""
        if self.report is not None:
            return {"name": self.name, "ingest": self.report.to_dict()}
        assert self.error is not None
        return {"name": self.name, "status": self.error.http_status, **self.error.to_dict()}


def store_items(store: PaperStore, items: Iterable[Item], *, index: str, progress: bool = False) -> IngestReport:
    """Upsert every paper of ``items`` in one transaction and report; raise if nothing usable was read (then
    the transaction is rolled back). Nothing read only for size limits is a 413, else a 400."""
    report = IngestReport(index=index)
    oversized = 0  # rejections for a size limit: when they are all there is, the answer is 413, not 400
    with store.transaction() as writer:
        for source, position, item in tqdm(items, desc="ingest", unit=" records", disable=not progress):
            if not isinstance(item, Paper):
                report.rejected_count += 1
                oversized += item.too_large
                if len(report.rejected) < MAX_LISTED_REJECTIONS:
                    report.rejected.append({"source": source, "position": position, "reason": item.reason})
                continue
            outcome = writer.upsert(item)
            report.read += 1
            setattr(report, outcome.outcome, getattr(report, outcome.outcome) + 1)
            report.papers.append({"id": outcome.id, "source": source, "position": position, "outcome": outcome.outcome})
        if report.read == 0:
            report.total = store.count()
            error = NothingIngestedTooLargeError if oversized and oversized == report.rejected_count else None
            raise (error or NothingIngestedError)(_nothing_message(report), details=report.to_dict())
    report.total = store.count()
    return report


def _nothing_message(report: IngestReport) -> str:
    """The reasons of the first rejections, for an ingest that stored nothing."""
    reasons = "; ".join(
        f"{item['source']}{' ' + item['position'] if item['position'] else ''}: {item['reason']}"
        for item in report.rejected[:5]
    )
    more = f" (and {report.rejected_count - 5:,} more)" if report.rejected_count > 5 else ""
    return f"no usable paper was read: {reasons or 'no input files'}{more}"
