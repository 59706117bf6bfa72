"""The shapes of a fitted theme map's parts: a theme, its timeline, a merge of the hierarchy, a refit's changes.

Each is a dataclass whose fields are, in order, the keys of its JSON: ``to_dict`` (``dataclasses.asdict``) gives
exactly the object that ``themes.json``, ``GET /themes`` and ``themes --json`` have always held, so kept maps
and clients read them unchanged. ``from_dict`` reads that JSON back and checks its shape, because it comes
from a file or a server that may be damaged or hostile: a wrong shape is a :class:`ValueError`, never a theme
that fails later, somewhere else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypeGuard


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    """An int or a float (JSON's numbers), not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise ValueError(f"{key}: a list of strings expected")
    return list(value)


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not _is_int(value):
        raise ValueError(f"{key}: an integer expected, got {value!r}")
    return value


def _optional(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"{key}: {kind.__name__} or null expected, got {value!r}")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what}: a JSON object expected")
    return value


@dataclass
class Timeline:
    """A theme over time (:mod:`.timeline`): papers and share of each year's papers by year (years as strings,
    ascending), papers without a year, the slope of the share per year and its ``trend`` word."""

    counts: dict[str, int] = field(default_factory=dict)
    share: dict[str, float] = field(default_factory=dict)
    undated: int = 0
    slope: float | None = None
    #: "growing", "shrinking", "steady", or None with too few dated years.
    trend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Timeline:
        data = _object(data, "timeline")
        counts, share = _object(data.get("counts", {}), "counts"), _object(data.get("share", {}), "share")
        if not all(_is_int(count) for count in counts.values()) or not all(map(_is_number, share.values())):
            raise ValueError("timeline: counts must be integers and shares numbers")
        slope = data.get("slope")
        if slope is not None and not _is_number(slope):
            raise ValueError(f"slope: a number or null expected, got {slope!r}")
        return cls(dict(counts), dict(share), _int(data, "undated"), slope, _optional(data, "trend", str))


@dataclass
class Theme:
    """One theme of a fitted map (:class:`~.fitted.FittedThemes`), its papers by id."""

    id: int
    label: str
    #: Distinctive terms, most distinctive first (those the label rule allows: :mod:`.labels`).
    terms: list[str]
    #: ``len(papers)``: kept as a field because it is a key of the JSON clients read.
    size: int
    #: Paper ids, most representative first (papers placed after the fit are appended).
    papers: list[str]
    #: Display titles, aligned with ``papers``.
    titles: list[str] = field(default_factory=list)
    #: How surely each paper belongs (0–1), aligned with ``papers``; None for a paper placed after the fit.
    confidence: list[float | None] = field(default_factory=list)
    #: The name the researcher gave, for a named theme (:mod:`.guided`); else None.
    seed: str | None = None
    #: Which tier of the label rule its terms meet: "strict", "broad" or None (see :mod:`.labels`).
    label_rule: str | None = None
    timeline: Timeline | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Theme:
        data = _object(data, "theme")
        label = data.get("label")
        if not isinstance(label, str):
            raise ValueError(f"label: a string expected, got {label!r}")
        confidence = data.get("confidence") or []
        if not (isinstance(confidence, list) and all(c is None or _is_number(c) for c in confidence)):
            raise ValueError("confidence: a list of numbers or nulls expected")
        timeline = data.get("timeline")
        return cls(
            id=_int(data, "id"),
            label=label,
            terms=_strings(data, "terms"),
            size=_int(data, "size"),
            papers=_strings(data, "papers"),
            titles=_strings(data, "titles"),
            confidence=list(confidence),
            seed=_optional(data, "seed", str),
            label_rule=_optional(data, "label_rule", str),
            timeline=None if timeline is None else Timeline.from_dict(timeline),
        )


@dataclass
class Merge:
    """One step of the themes' hierarchy (average linkage of the centres, scipy's order): ids below k are
    themes, id k+i is the group formed by step i; ``size`` is the themes in the group formed."""

    left: int
    right: int
    distance: float
    size: int

    @classmethod
    def from_dict(cls, data: object) -> Merge:
        data = _object(data, "merge")
        distance = data.get("distance")
        if not _is_number(distance):
            raise ValueError(f"distance: a number expected, got {distance!r}")
        return cls(_int(data, "left"), _int(data, "right"), distance, _int(data, "size"))


@dataclass
class ThemeChange:
    """A refitted theme: the old theme it continues (None: a new theme), the papers they share, their Jaccard."""

    id: int
    previous_id: int | None
    shared_papers: int
    jaccard: float

    @classmethod
    def from_dict(cls, data: object) -> ThemeChange:
        data = _object(data, "theme change")
        previous, jaccard = data.get("previous_id"), data.get("jaccard")
        if (previous is not None and not _is_int(previous)) or not _is_number(jaccard):
            raise ValueError("a theme change of an unexpected shape")
        return cls(_int(data, "id"), previous, _int(data, "shared_papers"), jaccard)


@dataclass
class Changes:
    """What a refit changed (:mod:`.matching`): papers both maps hold, their adjusted Rand index (1.0: the same
    grouping), each new theme's predecessor, the old themes that ended, and the version compared with."""

    papers_compared: int
    ari: float
    themes: list[ThemeChange]
    ended: list[int]
    compared_with: str | None = None

    @classmethod
    def from_dict(cls, data: object) -> Changes:
        data = _object(data, "changes")
        ari, themes, ended = data.get("ari"), data.get("themes"), data.get("ended")
        if not _is_number(ari) or not isinstance(themes, list):
            raise ValueError("changes of an unexpected shape")
        if not (isinstance(ended, list) and all(map(_is_int, ended))):
            raise ValueError("ended: a list of theme ids expected")
        return cls(
            _int(data, "papers_compared"),
            ari,
            [ThemeChange.from_dict(item) for item in themes],
            list(ended),
            _optional(data, "compared_with", str),
        )
