"""Reading one paper out of a page copied as plain text (journal, PubMed, aggregator or reading-app pages).

A copied page is a column of lines: site banners, buttons, a title, citation and date lines, authors, the
abstract, keywords, then references, journal blurbs, app promotions or machine-generated summaries. No
library parses that, so this module does it with explicit, named rules:

1. every line gets a *kind* (blank, furniture, stop marker, abstract heading, section label, citation,
   author list, prose, other);
2. the abstract is the text after an "Abstract" heading, or else the longest run of prose, joined across
   paragraphs and structured-abstract labels (BACKGROUND:/METHODS:/...), ended by the first stop marker;
3. title, journal, year, DOI, PMID, authors and keywords come from the lines around it by pattern.

Everything after a reference list or a journal blurb is ignored, and the block after a "Generated <date>"
marker (an app's generated summary) is furniture.

This module is the entry point (:func:`parse_text_page`, :class:`PageFields`); the rules live beside it, one
concept a module: :mod:`.page_patterns` (the named line patterns), :mod:`.page_lines` (the line model and line
kinds), :mod:`.abstract_bounds` (the abstract), :mod:`.page_language` (English or not), :mod:`.page_title`
(the title), :mod:`.page_fields` (year, DOI, keywords, MeSH), :mod:`.page_journal` (the journal),
:mod:`.page_authors` (the author list) and :mod:`.person_names` (what text is a list of names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..paper import normalize_pmid
from .abstract_bounds import _without_title, find_abstract
from .page_authors import find_authors
from .page_fields import _citation_year, _find_doi, _find_keywords, _find_mesh, _find_year
from .page_journal import abbreviates, citation_journal, find_journal, journal_head, journal_name
from .page_lines import LIGATURES, PageLines, split_lines
from .page_patterns import DOI_ANY, MAX_RULE_LINE_CHARS, PMID_LINE, VOLUME_ISSUE
from .page_title import _find_title
from .person_names import parse_author_line, parse_person_list

# Names other modules, tests and scripts import from here.
__all__ = [
    "DOI_ANY",
    "LIGATURES",
    "VOLUME_ISSUE",
    "PageFields",
    "PageLines",
    "abbreviates",
    "citation_journal",
    "find_abstract",
    "find_authors",
    "find_journal",
    "journal_head",
    "journal_name",
    "parse_author_line",
    "parse_person_list",
    "parse_text_page",
    "split_lines",
]


@dataclass
class PageFields:
    """What the text of one page yields; ``None``/empty where the page does not say."""

    title: str | None = None
    abstract: str | None = None
    doi: str | None = None
    pmid: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [], "")}


def parse_text_page(raw: str) -> PageFields:
    """Read title, abstract, identifiers and bibliographic fields from one page of plain text."""
    page = PageLines.classify(raw)
    abstract, abstract_lines = find_abstract(page)
    skip = set(abstract_lines)
    body = [page.text[i] for i in range(page.end) if i not in skip and page.kind[i] not in ("furniture", "blank")]
    fields = PageFields(abstract=abstract)
    fields.title = _find_title(page, abstract_lines, abstract)
    if fields.title and abstract:
        fields.abstract = _without_title(abstract, fields.title)
    fields.year = _find_year(body, _citation_year(body))
    fields.doi = _find_doi(body, [line for line in page.text[page.end :] if len(line) <= MAX_RULE_LINE_CHARS])
    fields.journal = find_journal(page, fields.title, abstract_lines, fields.doi)
    pmid = next((m.group("pmid") for m in map(PMID_LINE.search, body) if m), None)
    fields.pmid = normalize_pmid(pmid)
    fields.authors = find_authors(page, fields.title, abstract_lines)
    fields.keywords = _find_keywords(page)
    fields.mesh_terms = _find_mesh(page)
    return fields
