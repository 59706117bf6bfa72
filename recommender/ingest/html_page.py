"""Reading one paper out of a saved HTML page (journal site, PubMed, preprint server).

Scholarly pages usually say what they are in machine-readable form: Highwire/Google Scholar ``citation_*``
meta tags, Dublin Core, Open Graph and schema.org JSON-LD. Those are read first (BeautifulSoup with lxml).
The page is then flattened to lines, one per block element, so the plain-text rules of
:mod:`.text_page` can fill whatever the metadata left out; an element marked as the abstract
(``id``/``class`` containing "abstract") is preferred over a guessed one.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from bs4 import BeautifulSoup, Tag

from ..paper import clean_text, normalize_doi, normalize_pmid
from .fields import fields_from_mapping, flip_name, load_json, parse_year
from .text_page import PageLines, find_abstract, split_lines

_BLOCK_TAGS = [
    "p", "div", "section", "article", "header", "footer", "main", "aside", "h1", "h2", "h3", "h4", "h5", "h6",
    "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "blockquote", "figure", "figcaption", "title", "br",
    "hr", "pre", "address", "nav", "form", "fieldset", "legend", "details", "summary",
]  # fmt: skip
_DROP_TAGS = ["script", "style", "noscript", "svg", "template", "iframe", "button", "select", "input", "math"]
_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html|<head|<body|<meta|<\?xml[^>]*>\s*<html)", re.IGNORECASE)
# Abstract-marked elements examined, in document order. Each costs a walk of its subtree, so nested ones cost
# the square of the page's depth: a page of thousands of nested "abstract" sections would take minutes.
_MAX_ABSTRACT_CANDIDATES = 50
_LINE_TAG = re.compile(
    r"^[ \t]*+</?(?:p|div|span|a|h[1-6]|body|head|title|meta|section|article|table|ul|ol|li|header|main|nav)\b[^<>]*+>",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_html(text: str) -> bool:
    """An HTML document, or a fragment whose lines start with tags.

    Tags inside text (an aggregator's JSON record with ``<p>`` in its abstract, "p<0.05") do not count.
    """
    head = text[:8192]
    return bool(_HTML_START.match(head)) or len(_LINE_TAG.findall(head)) >= 3


def _meta(soup: BeautifulSoup) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("name") or tag.get("property") or tag.get("itemprop")
        value = tag.get("content")
        if isinstance(key, str) and isinstance(value, str) and value.strip():
            found.setdefault(key.strip().lower(), []).append(clean_text(value))
    return found


def _first(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key][0]
    return None


def _json_ld(soup: BeautifulSoup) -> list[dict[str, Any]]:
    """schema.org records (ScholarlyArticle and friends) from ``application/ld+json`` scripts."""
    records: list[dict[str, Any]] = []
    for script in soup.find_all("script", attrs={"type": re.compile("ld\\+json", re.IGNORECASE)}):
        try:
            data = load_json(script.string or "")
        except (ValueError, TypeError):  # not JSON, or nested too deeply to use
            continue
        stack = deque(data if isinstance(data, list) else [data])  # popleft: list.pop(0) is quadratic on a big @graph
        while stack:
            item = stack.popleft()
            if isinstance(item, dict):
                if "@graph" in item and isinstance(item["@graph"], list):
                    stack.extend(item["@graph"])
                kind = str(item.get("@type", "")).lower()
                if any(word in kind for word in ("article", "scholarly", "creativework", "report")):
                    records.append(item)
    return records


def metadata_fields(soup: BeautifulSoup) -> dict[str, Any]:
    """Fields the page declares in meta tags and JSON-LD; nothing guessed."""
    meta = _meta(soup)
    fields: dict[str, Any] = {}
    title = _first(meta, "citation_title", "dc.title", "dcterms.title", "og:title")
    if title:
        fields["title"] = title
    abstract = _first(meta, "citation_abstract", "dc.description", "dcterms.abstract", "dcterms.description")
    if abstract and len(abstract) >= 100 and not abstract.endswith(("...", "…")):
        fields["abstract"] = abstract
    doi = normalize_doi(_first(meta, "citation_doi", "dc.identifier", "prism.doi", "bepress_citation_doi"))
    if doi:
        fields["doi"] = doi
    pmid = normalize_pmid(_first(meta, "citation_pmid"))
    if pmid:
        fields["pmid"] = pmid
    journal = _first(meta, "citation_journal_title", "prism.publicationname", "citation_conference_title")
    if journal:
        fields["journal"] = journal
    year = parse_year(
        _first(meta, "citation_publication_date", "citation_date", "citation_year", "dc.date", "prism.publicationdate",
               "citation_online_date", "article:published_time")
    )  # fmt: skip
    if year:
        fields["year"] = year
    authors = meta.get("citation_author") or meta.get("dc.creator") or meta.get("dc.contributor") or []
    if authors:
        fields["authors"] = [flip_name(name) for name in authors]
    keywords = meta.get("citation_keywords") or []
    if len(keywords) == 1:
        keywords = [term.strip() for term in re.split(r"[;,]", keywords[0]) if term.strip()]
    if keywords:
        fields["keywords"] = keywords
    for record in _json_ld(soup):
        mapped = fields_from_mapping(
            {**record, "title": record.get("headline") or record.get("name"), "journal": record.get("isPartOf")}
        )
        for key, value in mapped.items():
            fields.setdefault(key, value)
    return fields


def _abstract_element_text(soup: BeautifulSoup) -> str | None:
    """Text of the element the page marks as its abstract, cleaned by the plain-text abstract rules."""
    candidates = soup.select(
        "[id*=abstract i], [class*=abstract i], section[aria-labelledby*=abstract i], [itemprop=description]"
    )
    best: str | None = None
    for element in candidates[:_MAX_ABSTRACT_CANDIDATES]:
        if not isinstance(element, Tag):
            continue
        text = _element_text(element)
        abstract, _ = find_abstract(PageLines.classify(text))
        if abstract and 100 <= len(abstract) <= 20000 and (best is None or len(abstract) > len(best)):
            best = abstract
    return best


def _element_text(element: Tag) -> str:
    """Text with a line break after each block element, so paragraphs and headings stay separate lines."""
    pieces: list[str] = []
    for node in element.descendants:
        if isinstance(node, str):
            if not (node.parent and node.parent.name in _DROP_TAGS):
                pieces.append(str(node))
        elif isinstance(node, Tag) and node.name in _BLOCK_TAGS:
            pieces.append("\n")
    return collapse_line_breaks("".join(pieces).replace("\u00a0", " "))


def collapse_line_breaks(text: str) -> str:
    """``re.sub(r"[ \\t]*\\n[ \\t\\n]*", "\\n", text)`` without the regex, which is quadratic in a long run of
    spaces with no line break after it (it is tried from each space): spaces and tabs around line breaks go, and
    blank lines with them."""
    if "\n" not in text:
        return text
    first, *middle, last = text.split("\n")
    kept = [line for line in (line.strip(" \t") for line in middle) if line]
    return "\n".join([first.rstrip(" \t"), *kept, last.lstrip(" \t")])


def parse_html(text: str) -> tuple[dict[str, Any], str]:
    """Declared metadata (plus the marked abstract) and the page flattened to plain-text lines."""
    soup = BeautifulSoup(text, "lxml")
    fields = metadata_fields(soup)
    if "abstract" not in fields:
        marked = _abstract_element_text(soup)
        if marked:
            fields["abstract"] = marked
    if "title" not in fields and soup.title and soup.title.string:
        fields["page_title"] = clean_text(soup.title.string)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    body = soup.body or soup
    plain = "\n".join(line for line in split_lines(_element_text(body)))
    return fields, plain
