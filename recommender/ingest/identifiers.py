"""Pasted identifier lists and saved PubMed results pages: which papers a researcher means, not the papers.

A list arrives in many shapes: PubMed's "Save → PMID" file (one PMID a line), DOIs copied from a reference
list, "PMID: 123; PMCID: PMC456", links to doi.org or pubmed.ncbi.nlm.nih.gov, or a whole PubMed search
results page saved from the browser. :func:`parse_identifiers` reads them all into normalised
:class:`Identifier` values, in the order given and each once; :func:`looks_like_identifier_list` tells such a
file from a one-paper page, so ingest does not take a column of numbers for an abstract. Resolving the
identifiers into papers (a PubMed fetch, a lookup in the store) is the caller's business.

A bare number is a PMID only in a list that is mostly identifiers: in prose or a pasted reference ("Nature.
2020;580:123") numbers are years and pages, and only prefixed or unambiguous identifiers count there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Literal

from bs4 import BeautifulSoup

from ..errors import TooLargeError
from ..paper import normalize_doi, normalize_pmcid, normalize_pmid

IdentifierKind = Literal["pmid", "doi", "pmcid"]

#: Most identifiers one list may hold: what PubMed's "Save → PMID" writes at most.
MAX_IDENTIFIERS = 10_000
#: Longest text read as a list (a saved results page of 200 abstracts is about 2 MB).
MAX_TEXT_CHARS = 8 * 1024 * 1024
#: Share of a text's tokens that must be identifiers for it to count as a list (labels like "PMID:" aside).
LIST_SHARE = 0.8
#: Tokens examined to decide whether a text is a list, and characters of a page to find a results page's marks.
_SNIFF_TOKENS = 5_000
SNIFF_CHARS = 256 * 1024
# Distinct tokens whose reading is remembered (a list repeating one number is classified once), and the mark
# of a token not seen yet.
_CACHED_TOKENS = 100_000
_UNSEEN = object()

# A ',' or ';' separates two identifiers only when another identifier starts right after it: DOIs may hold
# either ("10.1002/(SICI)1097-4636(199706)35:4<464::AID-JBM6>3.0.CO;2-D"). Lookahead only: linear.
_SEPARATOR = re.compile(r"[,;](?=\s*+(?:10\.[0-9]|doi|https?:|pmc|pmid|pubmed|[0-9]{1,9}(?:[,;]|$)))", re.IGNORECASE)
_LABELS = frozenset({"pmid", "pmcid", "pmc", "doi", "pubmed", "pubmedid", "id", "ids", "identifier", "identifiers"})
_PREFIXED = re.compile(r"^(pmid|pubmed|pmcid|pmc|doi)\s*[:\-]\s*(\S+)$", re.IGNORECASE)
_PMID_URL = re.compile(
    r"^https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|"
    r"europepmc\.org/(?:abstract|article)/med/)([0-9]{1,9})(?:[/?#]|$)",
    re.IGNORECASE,
)
_PMCID_URL = re.compile(
    r"^https?://(?:www\.)?(?:pmc\.ncbi\.nlm\.nih\.gov/articles/|ncbi\.nlm\.nih\.gov/pmc/articles/|"
    r"europepmc\.org/(?:abstract|article)/pmc/)(pmc[0-9]{1,9})(?:[/?#]|$)",
    re.IGNORECASE,
)
_PMCID = re.compile(r"^pmc[0-9]{1,9}$", re.IGNORECASE)
_DIGITS = re.compile(r"^[0-9]{1,9}$")
_DOI_START = re.compile(r"10\.[0-9]{4,9}/")
_QUOTES = "\"'“”‘’«»<>[]{}"
_TRAILING = ".,;:)]}>\"'”’"
# A saved PubMed search results page: its results list, or its title. Result items ("docsum-pmid") also list
# similar articles on an article page, which is one paper: they count only without an article's heading.
_RESULTS_MARKERS = ("search-results-chunk", "Search Results - PubMed")
_ITEM_MARKER = "docsum-pmid"
_ARTICLE_MARKERS = ('id="full-view-heading"', 'class="current-id"')


@dataclass(frozen=True)
class Identifier:
    """One paper identifier, normalised: ``pmid`` "12345678", ``doi`` "10.1000/xyz", ``pmcid`` "PMC1234567"."""

    kind: IdentifierKind
    value: str


def parse_identifiers(text: str) -> list[Identifier]:
    """The identifiers in ``text`` (a pasted list or a saved PubMed results page), in order, each once.

    Raises :class:`~recommender.errors.TooLargeError` for a text over :data:`MAX_TEXT_CHARS` characters or
    with more than :data:`MAX_IDENTIFIERS` identifiers: a partial list would silently drop papers.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise TooLargeError(f"identifier list longer than {MAX_TEXT_CHARS // 1024 // 1024} MB; split it")
    if is_results_page(text):
        found: Iterable[Identifier] = (Identifier("pmid", pmid) for pmid in results_page_pmids(text))
    else:
        tokens = _tokens(text)
        head = list(islice(tokens, _SNIFF_TOKENS))  # decides whether bare numbers are PMIDs
        found = _identifiers(chain(head, tokens), bare_numbers=_list_share(head) >= LIST_SHARE)
    identifiers = _unique(found)
    if len(identifiers) > MAX_IDENTIFIERS:
        raise TooLargeError(f"more than {MAX_IDENTIFIERS:,} identifiers in one list; split it")
    return identifiers


def looks_like_identifier_list(text: str) -> bool:
    """Whether ``text`` (a file's head will do) is a list of identifiers or a PubMed results page rather than
    a paper: at least one identifier, and :data:`LIST_SHARE` of its tokens (labels aside) identifiers."""
    if is_results_page(text):
        return True
    return _list_share(list(islice(_tokens(text), _SNIFF_TOKENS))) >= LIST_SHARE


def is_results_page(text: str) -> bool:
    """A PubMed search results page saved as HTML (its result items, not one article's page)."""
    head = text[:SNIFF_CHARS]
    if "<" not in head:
        return False
    if any(marker in head for marker in _RESULTS_MARKERS):
        return True
    return _ITEM_MARKER in head and not any(marker in head for marker in _ARTICLE_MARKERS)


def results_page_pmids(html: str) -> list[str]:
    """The PMIDs of a saved PubMed results page, in page order.

    Each result shows ``<span class="docsum-pmid">123</span>`` and its title link carries
    ``data-article-id="123"``; the page's chunk lists them in ``data-chunk-ids``, and the "PMID" display format
    puts them one a line in ``<pre class="search-results-chunk">``. The first of those that gives any is used.
    """
    soup = BeautifulSoup(html, "lxml")
    sources: list[Iterator[str]] = [
        (span.get_text() for span in soup.select(".docsum-pmid")),
        (str(tag.get("data-article-id")) for tag in soup.select("[data-article-id]")),
        (part for tag in soup.select("[data-chunk-ids]") for part in str(tag.get("data-chunk-ids")).split(",")),
        (part for pre in soup.select("pre.search-results-chunk") for part in pre.get_text().split()),
    ]
    for values in sources:
        pmids = [pmid for pmid in (normalize_pmid(value.strip()) for value in values) if pmid]
        if pmids:
            return list(dict.fromkeys(pmids))
    return []


def classify(token: str, *, bare_numbers: bool = True) -> Identifier | None:
    """The identifier one token is ("PMID:123", "PMC456", "doi:10.1/x", a doi.org or PubMed link, a bare DOI,
    and a bare number when ``bare_numbers``), else ``None``."""
    token = token.strip(_QUOTES).lstrip("(")
    if not token:
        return None
    prefixed = _PREFIXED.match(token)
    if prefixed:
        return _prefixed(prefixed.group(1).lower(), prefixed.group(2))
    lowered = token.lower()
    if lowered.startswith(("http://", "https://")):
        return _from_url(token)
    bare = token.rstrip(_TRAILING)
    if _PMCID.match(bare):
        return _made("pmcid", normalize_pmcid(bare))
    if bare_numbers and _DIGITS.match(bare):
        return _made("pmid", normalize_pmid(bare))
    if _DOI_START.match(token):
        return _made("doi", normalize_doi(token))
    return None


def _prefixed(prefix: str, value: str) -> Identifier | None:
    value = value.strip(_QUOTES)
    if prefix in ("pmid", "pubmed"):
        return _made("pmid", normalize_pmid(value.rstrip(_TRAILING)))
    if prefix in ("pmcid", "pmc"):
        return _made("pmcid", normalize_pmcid(value.rstrip(_TRAILING)))
    return _made("doi", normalize_doi(value))


def _from_url(url: str) -> Identifier | None:
    pmid = _PMID_URL.match(url)
    if pmid:
        return _made("pmid", normalize_pmid(pmid.group(1)))
    pmcid = _PMCID_URL.match(url)
    if pmcid:
        return _made("pmcid", normalize_pmcid(pmcid.group(1)))
    return _made("doi", normalize_doi(url)) if _DOI_START.search(url) else None


def _made(kind: IdentifierKind, value: str | None) -> Identifier | None:
    return Identifier(kind, value) if value else None


def _tokens(text: str) -> Iterator[str]:
    """Whitespace-separated chunks, split further at ',' or ';' where another identifier follows."""
    for chunk in text.split():
        for piece in _SEPARATOR.split(chunk) if ("," in chunk or ";" in chunk) else (chunk,):
            token = piece.strip(",;").strip(_QUOTES).lstrip("(")
            if token:
                yield token


def _is_label(token: str) -> bool:
    """ "PMID:", "doi", "PMID-" and the like: the name of an identifier standing before it, not a word of prose."""
    return token.rstrip(":-").lower() in _LABELS


def _list_share(tokens: list[str]) -> float:
    """Share of identifiers among the tokens that are not labels (0 when there is no identifier)."""
    identifiers = others = 0
    for token in tokens:
        if _is_label(token):
            continue
        if classify(token) is None:
            others += 1
        else:
            identifiers += 1
    return identifiers / (identifiers + others) if identifiers else 0.0


def _identifiers(tokens: Iterable[str], *, bare_numbers: bool) -> Iterator[Identifier]:
    """Identifiers in token order; a number right after a "PMID:" label is a PMID even in prose. A token seen
    before is not classified again (a list of one number repeated a million times costs a million lookups)."""
    label = ""
    known: dict[tuple[str, str], Identifier | object | None] = {}
    for token in tokens:
        if _is_label(token):
            label = token.rstrip(":-").lower()
            continue
        found = known.get((label, token), _UNSEEN)
        if found is _UNSEEN:
            found = classify(token, bare_numbers=bare_numbers)
            if found is None and label:
                found = classify(f"{label}:{token}")
            if len(known) < _CACHED_TOKENS:
                known[label, token] = found
        label = ""
        if isinstance(found, Identifier):
            yield found


def _unique(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """Each identifier once, in first-seen order; stops counting past the limit (the caller refuses it)."""
    seen: dict[Identifier, None] = {}
    for identifier in identifiers:
        seen.setdefault(identifier, None)
        if len(seen) > MAX_IDENTIFIERS:
            break
    return list(seen)
