"""Reading one paper out of a PDF: title, authors, DOI, journal, year and abstract from its first pages.

pypdf (BSD, pure Python) reads the text layer of the first :data:`MAX_PAGES` pages in content order, which for
journal and preprint PDFs is reading order, columns included; the text then goes through the same page reader
as copied pages (:mod:`.text_page`: abstract bounds, structured sections, DOI, citation lines, authors). The
title comes from the layout: the largest type in the upper part of the first page, when it reads as a title
and is clearly larger than the body text; else the document information's or XMP's title when it is a real one
("about:blank", "Microsoft Word - draft3.docx" are not); else the page reader's choice. The DOI is read from
the pages, then from XMP (``prism:doi``, ``dc:identifier``). A PDF without a text layer (a scan) is refused
with that reason: it would need OCR first.

Measured against pdfminer.six on the generated test PDFs (``scripts/bench_pdf.py``): pypdf keeps justified
two-column text in reading order where pdfminer's layout analysis splits it into scattered word boxes, and is
faster; PyMuPDF was not considered for its AGPL licence.
"""

from __future__ import annotations

import io
import logging
import re
from statistics import median
from typing import Any

from ..paper import clean_text, normalize_doi
from .fields import latin_ratio
from .page_title import _title_candidate
from .records import RawRecord, Rejected
from .text_page import DOI_ANY, LIGATURES, parse_text_page

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed PDFs are common; their warnings are noise

#: Pages read: the title, authors and abstract are on the first one or two.
MAX_PAGES = 3
#: The title's type must be at least this much larger than the body text's.
TITLE_SIZE_RATIO = 1.2
#: Share of the first page (from its top) where the title is looked for.
TITLE_REGION = 0.6
#: Characters read from the pages (bounds the work on a hostile PDF).
MAX_TEXT_CHARS = 200_000
_JUNK_TITLE = re.compile(
    r"^(?:about:blank|untitled|microsoft (?:word|powerpoint)\b|.*\.(?:docx?|pdf|tex|indd|rtf)$|\d+$|document\d*)",
    re.IGNORECASE,
)


def read_pdf(data: bytes) -> RawRecord | Rejected:
    """The paper a PDF holds, or why it cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return Rejected("encrypted PDF: it needs a password")
        pages = list(reader.pages[:MAX_PAGES])
        runs: list[tuple[float, float, str]] = []
        texts = [_page_text(page, runs if number == 0 else None) for number, page in enumerate(pages)]
        info = _document_info(reader)
    except (PdfReadError, ValueError, TypeError, KeyError, AttributeError, RecursionError, OSError) as error:
        return Rejected(f"unreadable PDF: {type(error).__name__}: {str(error)[:120]}")
    text = "\n".join(texts)[:MAX_TEXT_CHARS]
    if sum(ch.isalpha() for ch in text) < 50:
        return Rejected("no text layer: a scanned PDF? Run OCR on it (e.g. ocrmypdf) or paste the abstract")
    fields = parse_text_page(text).as_dict()
    title = _layout_title(runs) or info.get("title") or fields.get("title")
    if title:
        fields["title"] = title
        if fields.get("abstract", "").lower().startswith(title.lower()[:60]):
            fields["abstract"] = fields["abstract"][len(title) :].lstrip(" .")
    if not fields.get("doi") and info.get("doi"):
        fields["doi"] = info["doi"]
    if not fields.get("authors") and info.get("authors"):
        fields["authors"] = info["authors"]
    return RawRecord({key: value for key, value in fields.items() if value not in (None, "", [])})


def _page_text(page: Any, runs: list[tuple[float, float, str]] | None) -> str:
    """The page's text in content order; with ``runs``, also each text run's type size and height on the page
    (as a fraction of the page, 0 = top)."""
    if runs is None:
        return page.extract_text() or ""
    top = float(page.mediabox.top) or 1.0

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            scale = abs(tm[3] * cm[3]) or 1.0
            height = tm[5] * cm[3] + cm[5]
            runs.append((round(size * scale, 1), max(0.0, 1.0 - height / top), text))

    return page.extract_text(visitor_text=visit) or ""


def _layout_title(runs: list[tuple[float, float, str]]) -> str | None:
    """The largest type in the top of the first page, when clearly larger than the body and read as a title."""
    if not runs:
        return None
    body = median(size for size, _, text in runs for _ in range(min(len(text), 200)))
    sizes = sorted({size for size, where, _ in runs if where <= TITLE_REGION and size >= body * TITLE_SIZE_RATIO})
    for size in reversed(sizes):
        parts = [text for run_size, where, text in runs if run_size == size and where <= TITLE_REGION]
        title = clean_text(" ".join(part.strip() for part in parts)).translate(LIGATURES)
        if 3 <= len(title.split()) <= 50 and _title_candidate(title):
            return title
    return None


def _document_info(reader: Any) -> dict[str, Any]:
    """Title, authors and DOI from the document information and XMP, when they are real values."""
    found: dict[str, Any] = {}
    meta = reader.metadata or {}
    title = clean_text(str(meta.get("/Title") or ""))
    if title and not _JUNK_TITLE.match(title) and len(title.split()) >= 3 and latin_ratio(title) > 0:
        found["title"] = title
    author = clean_text(str(meta.get("/Author") or ""))
    if author and not _JUNK_TITLE.match(author):
        found["authors"] = [name.strip() for name in re.split(r"\s*[;,]\s*|\s+and\s+", author) if name.strip()]
    try:
        xmp = reader.xmp_metadata
    except Exception:
        xmp = None
    if xmp is not None:
        identifiers = [str(value) for value in (getattr(xmp, "dc_identifier", None) or [])]
        for value in identifiers:
            match = DOI_ANY.search(value)
            if match and normalize_doi(match.group(0)):
                found["doi"] = normalize_doi(match.group(0))
                break
        titles = getattr(xmp, "dc_title", None) or {}
        xmp_title = clean_text(str(next(iter(titles.values()), ""))) if isinstance(titles, dict) else ""
        if "title" not in found and xmp_title and not _JUNK_TITLE.match(xmp_title) and len(xmp_title.split()) >= 3:
            found["title"] = xmp_title
    return found
