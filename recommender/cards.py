"""Result cards: what a researcher needs to judge a hit at a glance, beside its score.

The first authors (three, then "et al."), links out to the DOI, PubMed and PubMed Central, a short opening
of the abstract when no matching sentence explains the hit, and the order and page of a result list
(by relevance, or by year among the most relevant). Plain functions of a :class:`~recommender.paper.Paper`
and ranked rows, shared by the JSON answer, the CLI and the web page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from .errors import InvalidInputError
from .paper import Paper
from .settings import MAX_K

#: Authors a card names before "et al." (the convention of reference lists and PubMed's results).
AUTHORS_SHOWN = 3
#: Characters of an abstract's opening shown when no sentence carries the matching terms (about two lines).
OPENING_CHARS = 280
SORTS = ("relevance", "year")
#: A year-sorted list orders at least this many of the most relevant hits (more when paging beyond them):
#: sorting every paper by year would list the corpus's newest papers, related or not.
YEAR_POOL = 100
#: Deepest result a list can page to.
MAX_OFFSET = MAX_K

Item = TypeVar("Item")


def first_authors(paper: Paper) -> list[str]:
    return list(paper.authors[:AUTHORS_SHOWN])


def links(paper: Paper) -> dict[str, str]:
    """Where the paper can be read: doi.org, PubMed and PMC pages, for the identifiers it has.

    A DOI may hold characters that mean something in a URL (``#``, ``?``, ``%``, ``<``): they are escaped,
    so the link always lands on the DOI resolver with the whole DOI."""
    found = {}
    if paper.doi:
        found["doi"] = "https://doi.org/" + quote(paper.doi, safe="/:;()._-")
    if paper.pmid:
        found["pubmed"] = f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}/"
    if paper.pmcid:
        found["pmc"] = f"https://pmc.ncbi.nlm.nih.gov/articles/{paper.pmcid}/"
    return found


def opening(paper: Paper) -> dict[str, Any] | None:
    """The abstract's opening, cut at a word, as a snippet without highlights (the shape of
    :meth:`recommender.snippets.Snippet.to_dict`)."""
    text = " ".join(paper.abstract.split()[:200])
    if not text:
        return None
    if len(text) > OPENING_CHARS:
        cut = text.rfind(" ", 0, OPENING_CHARS)
        text = text[: cut if cut > OPENING_CHARS // 2 else OPENING_CHARS].rstrip(",;: ") + " …"
    return {"text": text, "highlights": []}


def check_page(offset: object, sort: object, k: int) -> tuple[int, str]:
    """``offset`` a whole number with ``offset + k`` at most :data:`MAX_OFFSET`; ``sort`` one of :data:`SORTS`."""
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidInputError("offset must be a whole number (0 for the first page)")
    if offset + k > MAX_OFFSET:
        raise InvalidInputError(f"offset + k must be at most {MAX_OFFSET}: lists page to their first {MAX_OFFSET}")
    if sort not in SORTS:
        raise InvalidInputError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    return offset, str(sort)


def depth(offset: int, k: int, sort: str) -> int:
    """How many hits to rank for a page: through its end, or the whole year-sorting pool."""
    return offset + k if sort == "relevance" else min(MAX_OFFSET, max(YEAR_POOL, offset + k))


def page(items: Sequence[Item], offset: int, k: int, sort: str, year: Callable[[Item], int | None]) -> list[Item]:
    """One page of ranked items: by rank, or newest first (undated last, rank breaking ties)."""
    if sort == "year":
        items = sorted(items, key=lambda item: -(year(item) or 0))  # stable: rank order within a year
    return list(items[offset : offset + k])
