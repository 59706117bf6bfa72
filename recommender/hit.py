"""A hit of a result list: the related paper as every front end shows it (CLI, JSON, web, Python API).

Its own small module, without numpy or the service, so the command line can print hits answered by a running
server (:mod:`recommender.remote`) without importing what a local answer needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any


@dataclass
class Hit:
    """A related paper as callers see it: identity, score, the score's parts, the shared terms, and what a
    result card shows (first authors, links out, a snippet, the paper's theme)."""

    id: str
    title: str
    score: float
    dense: float
    lexical: float
    shared_terms: list[str]
    journal: str | None
    year: int | None
    doi: str | None
    pmid: str | None
    #: Calibrated probability of relevance and its name: strong / related / weak (None outside hybrid mode).
    strength: float | None = None
    match: str | None = None
    #: The hit's sentence carrying the shared terms: {"text": ..., "highlights": [[start, end], ...]}; when no
    #: sentence carries them, the abstract's opening without highlights.
    snippet: dict[str, Any] | None = None
    #: The first three authors, and how many the paper has (a card writes "et al." when more).
    authors: list[str] = field(default_factory=list)
    author_count: int = 0
    pmcid: str | None = None
    #: doi.org, PubMed and PMC pages of the paper, for the identifiers it has.
    links: dict[str, str] = field(default_factory=dict)
    #: The paper's theme in the index's theme map, when one has been fitted: {"id": 3, "label": "..."}.
    theme: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Hit:
        """A hit from :meth:`to_dict`'s JSON (a server's answer); fields it does not know are ignored, so a
        newer server's extra fields do not break an older command line. A field of the wrong type, or a
        missing one, is a ``ValueError``: the answer comes from another process, which may be anything that
        wrote an announcement in the index folder, and must not crash the printing."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name not in record:
                if item.default is MISSING and item.default_factory is MISSING:
                    raise ValueError(f"a hit without {item.name!r}")
                continue
            value = record[item.name]
            if not _CHECKS[str(item.type)](value):
                raise ValueError(f"a hit whose {item.name!r} is not {item.type}")
            values[item.name] = value
        return cls(**values)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_string_list(value: Any) -> bool:
    """A JSON list of strings (what a server's answer must hold where a field is ``list[str]``)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


#: A check per field type written in :class:`Hit` (a test keeps every field covered).
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda value: isinstance(value, str),
    "float": _number,
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "str | None": lambda value: value is None or isinstance(value, str),
    "int | None": lambda value: value is None or (isinstance(value, int) and not isinstance(value, bool)),
    "float | None": lambda value: value is None or _number(value),
    "list[str]": is_string_list,
    "dict[str, str]": lambda value: isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
    "dict[str, Any] | None": lambda value: value is None or isinstance(value, dict),
}
