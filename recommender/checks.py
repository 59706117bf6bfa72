"""The input rules of the façade's requests: one function a rule, and the limits they enforce.

Every caller (the CLI, the web API, the Python library) reaches the same checks through
:class:`~recommender.service.Recommender`, so a request refused on one front end is refused on all. The web
layer's schemas (:mod:`recommender.web.schemas`) read the limits defined here, so ``/openapi.json`` publishes
the very bounds that are enforced. The paper-id rule belongs to the record (:func:`recommender.paper.check_reference`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, TypeGuard

from .cards import check_page
from .errors import InvalidInputError
from .settings import MAX_K
from .strength import check_level

if TYPE_CHECKING:
    from .retrieval import Filters

#: Longest free-text query: a pasted abstract fits many times over; a pasted book does not.
MAX_QUERY_CHARS = 20000
#: Most example papers (positive and negative together) one recommendation takes.
MAX_EXAMPLES = 100
#: Plausible publication years: a filter outside them is a typo, not a wish.
MIN_YEAR = 1000
MAX_YEAR = 3000
#: Longest label an uploaded file's name becomes.
MAX_LABEL_CHARS = 200
#: Longest name of a named theme (characters) and the most names per request.
MAX_THEME_NAME_CHARS = 200
MAX_SEED_THEMES = 20

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_int(value: object) -> TypeGuard[int]:
    """A true integer: ``True`` is an ``int`` to Python but never a count, a year or a theme id."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_k(k: object) -> int:
    """``k`` must be an integer in [1, MAX_K]; anything else is the caller's error."""
    if _is_int(k) and 1 <= k <= MAX_K:
        return k
    raise InvalidInputError(f"k must be an integer between 1 and {MAX_K}")


def check_paging(k: object, offset: object, sort: object) -> tuple[int, int, str]:
    """The page a ranked list is cut to, checked: ``(offset, k, sort)`` (see :mod:`recommender.cards`)."""
    checked_k = check_k(k)
    checked_offset, checked_sort = check_page(offset, sort, checked_k)
    return checked_offset, checked_k, checked_sort


def check_filters(filters: Filters) -> None:
    """Plausible years in order, and strings/ints where they belong."""
    for name in ("year_min", "year_max"):
        value = getattr(filters, name)
        if value is not None and (not _is_int(value) or not MIN_YEAR <= value <= MAX_YEAR):
            raise InvalidInputError(f"{name} must be a year such as 2019")
    if filters.year_min is not None and filters.year_max is not None and filters.year_min > filters.year_max:
        raise InvalidInputError("year_min is after year_max")
    if not all(isinstance(journal, str) and journal.strip() for journal in filters.journals):
        raise InvalidInputError("journals must be non-empty strings")
    if not all(_is_int(theme) for theme in filters.themes):
        raise InvalidInputError("themes must be theme ids (integers)")
    if not all(isinstance(paper_id, str) for paper_id in filters.exclude):
        raise InvalidInputError("exclude must be a list of paper ids")
    if filters.min_strength is not None:
        try:
            check_level(filters.min_strength)
        except ValueError as error:
            raise InvalidInputError(str(error)) from None


def check_search_text(text: object) -> str:
    """A search is non-empty text of at most :data:`MAX_QUERY_CHARS` characters."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("search text must be a non-empty string")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"search text is longer than {MAX_QUERY_CHARS} characters")
    return text


def check_examples(positive: Sequence[str], negative: Sequence[str]) -> None:
    """Example papers come as lists (a bare string would be read letter by letter), at least one positive,
    at most :data:`MAX_EXAMPLES` in all; each reference is checked when it is looked up."""
    if isinstance(positive, str) or isinstance(negative, str):
        raise InvalidInputError("positive and negative must be lists of paper ids")
    if not positive:
        raise InvalidInputError("give at least one positive example paper")
    if len(positive) + len(negative) > MAX_EXAMPLES:
        raise InvalidInputError(f"at most {MAX_EXAMPLES} example papers")


def check_negative(negative: Sequence[str]) -> None:
    """The negative examples beside a collection's papers: a list of at most :data:`MAX_EXAMPLES`."""
    if isinstance(negative, str) or len(negative) > MAX_EXAMPLES:
        raise InvalidInputError(f"negative must be a list of at most {MAX_EXAMPLES} paper ids")


def check_choice(what: str, value: object, choices: Collection[str]) -> str:
    """One of a fixed set of names (a theme method, a report or export format), else an error naming them."""
    if value not in choices:
        raise InvalidInputError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return str(value)


def check_theme_k(k: object, papers: int) -> int | None:
    """A number of themes: ``None`` (chosen automatically) or an integer from 1 to the number of papers."""
    if k is None or (_is_int(k) and 1 <= k <= papers):
        return k
    raise InvalidInputError(f"k must be an integer between 1 and the number of papers ({papers})")


def check_seed_names(names: Sequence[object]) -> tuple[str, ...]:
    """Named themes as given, checked: text, 1–200 characters, no control characters, at most 20, distinct.
    (Here rather than with the themes' fitting, so that listing a kept map never imports scikit-learn.)"""
    if len(names) > MAX_SEED_THEMES:
        raise InvalidInputError(f"at most {MAX_SEED_THEMES} named themes, got {len(names)}")
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise InvalidInputError("a named theme must be text")
        text = " ".join(name.split())
        if not text:
            raise InvalidInputError("a named theme must not be empty")
        if len(text) > MAX_THEME_NAME_CHARS:
            raise InvalidInputError(f"a named theme is at most {MAX_THEME_NAME_CHARS} characters")
        if any(unicodedata.category(ch).startswith("C") for ch in text):
            raise InvalidInputError("a named theme must not contain control characters")
        if text.lower() in (other.lower() for other in checked):
            raise InvalidInputError(f"the named theme {text!r} is given twice")
        checked.append(text)
    return tuple(checked)


def upload_label(name: object) -> str:
    """A client's file name reduced to a harmless label: its last part, printable, at most
    :data:`MAX_LABEL_CHARS` characters. It only names the papers' ``source``; it is never a path."""
    text = name if isinstance(name, str) else ""
    text = _CONTROL.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return text[:MAX_LABEL_CHARS] or "upload"
