"""Answers of the Python API (:mod:`recommender.library`) in the shapes a notebook wants.

:class:`Results` is a sequence of the service's :class:`~recommender.service.Hit` objects (typed attributes
kept) that prints as a table and turns into a pandas DataFrame; :class:`Themes` wraps a fitted
:class:`~recommender.themes.fitted.FittedThemes` the same way. Both are views over what the service answered: no
ranking or clustering happens here, so the CLI, the HTTP API and a notebook always see the same results.

This module imports neither the service nor pandas at import time: ``import recommender`` stays light, and
pandas is an optional extra (``pip install 'recommender[pandas]'``), imported by the ``to_pandas`` methods
only, which raise an :class:`ImportError` saying how to install it when it is missing.
"""

from __future__ import annotations

import dataclasses
import html
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from .hit import Hit

if TYPE_CHECKING:
    import pandas

    from .themes.fitted import FittedThemes
    from .themes.theme import Theme

#: Longest cell shown in the text and HTML tables (the data itself is never cut).
MAX_CELL = 72
#: Theme fields that hold one value per paper: they go to :meth:`Themes.papers_frame`, not to the theme rows.
PER_PAPER_KEYS = ("papers", "titles", "confidence")


def require_pandas(caller: str) -> Any:
    """pandas, or an ImportError that says how to get it (it is an optional extra, not a dependency)."""
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            f"{caller} needs pandas, an optional extra of recommender: pip install 'recommender[pandas]'"
        ) from error
    return pandas


class Results(Sequence["Hit"]):
    """Ranked hits of ``related``, ``search`` or ``recommend``, best first.

    A sequence of :class:`~recommender.service.Hit` (``results[0].title``, ``for hit in results``,
    ``len(results)``; a slice is again a :class:`Results`). ``query`` says what was asked, for the table's
    caption. In a notebook the object shows as a table; :meth:`to_pandas` gives a DataFrame.
    """

    __slots__ = ("_hits", "query")

    def __init__(self, hits: Iterable[Hit], query: str = "") -> None:
        self._hits: tuple[Hit, ...] = tuple(hits)
        self.query = query

    def __len__(self) -> int:
        return len(self._hits)

    @overload
    def __getitem__(self, index: int) -> Hit: ...

    @overload
    def __getitem__(self, index: slice) -> Results: ...

    def __getitem__(self, index: int | slice) -> Hit | Results:
        if isinstance(index, slice):
            return Results(self._hits[index], self.query)
        return self._hits[index]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self._hits)

    def __eq__(self, other: object) -> bool:
        """Equal to results with the same hits (the caption aside), or to a list or tuple of those hits."""
        if isinstance(other, Results):
            return self._hits == other._hits
        if isinstance(other, list | tuple):
            return list(self._hits) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    @property
    def ids(self) -> list[str]:
        """The hits' paper ids, best first: what ``recommend``, ``export(ids=...)`` and filters take."""
        return [hit.id for hit in self._hits]

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts, one per hit: the JSON the CLI's ``--json`` and the HTTP API answer with."""
        return [hit.to_dict() for hit in self._hits]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per hit, indexed by ``rank`` (1 = best), one column per field of :class:`Hit`, in order.

        The columns are read from ``dataclasses.fields(Hit)``, so a field added to hits later appears here
        without a change: ``id``, ``title``, ``score`` (the fused score), ``dense`` and ``lexical`` (its
        parts), ``shared_terms``, ``journal``, ``year``, ``doi``, ``pmid``, ``strength`` (calibrated
        probability; NaN outside the hybrid mode), ``match`` (strong / related / weak), ``snippet``, and
        whatever else a hit carries (see :class:`~recommender.hit.Hit`). Types follow the fields':
        integer fields are nullable ``Int64`` (a year is 2017, not 2017.0; a missing one ``<NA>``), float
        fields ``float64``; lists and dicts stay Python objects rather than being joined into strings, so
        nothing is lost: ``frame.explode("shared_terms")``, ``frame.snippet.str.get("text")``.
        """
        pandas = require_pandas("Results.to_pandas()")
        columns = [item.name for item in dataclasses.fields(Hit)]
        rows = [[getattr(hit, name) for name in columns] for hit in self._hits]
        index = pandas.RangeIndex(1, len(rows) + 1, name="rank")
        frame = pandas.DataFrame(rows, columns=columns, index=index, dtype=object)
        return _typed_columns(frame, {item.name: item.type for item in dataclasses.fields(Hit)})

    def __repr__(self) -> str:
        return _text_table(self._caption(), *self._table())

    def _repr_html_(self) -> str:
        """The table as HTML, for Jupyter (every value escaped: titles are corpus text)."""
        return _html_table(self._caption(), *self._table())

    def _caption(self) -> str:
        about = f" for {self.query}" if self.query else ""
        return f"Results: {len(self._hits)} hit{'s' if len(self._hits) != 1 else ''}{about}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        matched = any(hit.match for hit in self._hits)
        header = ["#", "score", *(["match"] if matched else []), "id", "year", "title"]
        rows = [
            [
                str(rank),
                f"{hit.score:.3f}",
                *([hit.match or ""] if matched else []),
                hit.id,
                "" if hit.year is None else str(hit.year),
                hit.title,
            ]
            for rank, hit in enumerate(self._hits, start=1)
        ]
        return header, rows


class Themes(Sequence["Theme"]):
    """A fitted theme map: a sequence of its themes (:class:`~recommender.themes.theme.Theme`), in id order.

    Each theme has ``id``, ``label``, ``terms``, ``size``, ``papers`` (most representative first),
    ``titles``, ``confidence`` (per paper), ``seed`` (the name of a named theme, else None), ``label_rule``
    and ``timeline`` (see :mod:`recommender.themes.fitted`); ``theme.to_dict()`` is its JSON, as the HTTP API
    answers. ``map`` is the whole
    :class:`~recommender.themes.fitted.FittedThemes` (``k``, ``silhouette``, ``unassigned`` and its reasons,
    ``hierarchy``, ``similarity``, ...).
    """

    __slots__ = ("map",)

    def __init__(self, theme_map: FittedThemes) -> None:
        self.map = theme_map

    def __len__(self) -> int:
        return len(self.map.themes)

    @overload
    def __getitem__(self, index: int) -> Theme: ...

    @overload
    def __getitem__(self, index: slice) -> list[Theme]: ...

    def __getitem__(self, index: int | slice) -> Theme | list[Theme]:
        return self.map.themes[index]

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.map.themes)

    @property
    def k(self) -> int:
        return self.map.k

    @property
    def labels(self) -> dict[int, str]:
        """Theme id → label: what ``themes=[...]`` filters and ``export(theme=...)`` refer to."""
        return {theme.id: theme.label for theme in self.map.themes}

    def theme_of(self) -> dict[str, int]:
        """Paper id → theme id, for every paper in a theme (unassigned papers are in ``map.unassigned``)."""
        return self.map.theme_of()

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI's ``themes --json`` and ``GET /themes`` answer with."""
        return self.map.to_dict()

    def to_pandas(self) -> pandas.DataFrame:
        """One row per theme, indexed by theme ``id``.

        Columns: ``label``, ``size``, ``terms`` (a list, most distinctive first), ``seed`` (name of a named
        theme, else None), ``trend`` (growing / steady / shrinking, None with too few dated years),
        ``papers`` (a list of ids, most representative first), then every other single-valued key a theme
        has (``label_rule`` today; fields added later appear too). One row per paper: :meth:`papers_frame`.
        """
        pandas = require_pandas("Themes.to_pandas()")
        rows = [_theme_row(theme) for theme in self.map.themes]
        first = ["label", "size", "terms", "seed", "trend", "papers"]
        columns = list(dict.fromkeys([*first, *(key for row in rows for key in row if key != "id")]))
        index = pandas.Index([theme.id for theme in self.map.themes], name="id", dtype="int64")
        frame = pandas.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns, index=index)
        return frame.astype({"size": "int64"}) if len(frame) else frame

    def papers_frame(self) -> pandas.DataFrame:
        """One row per (theme, paper), themes in order and each theme's papers most representative first.

        Columns: ``theme`` (id), ``label``, ``rank`` (1 = most representative), ``id``, ``title``,
        ``confidence`` (how surely the paper belongs, NaN for one placed after the fit) and ``placed``
        (True when the paper joined the theme after the fit, by nearest centre). Papers in no theme are
        not rows: they are in ``map.unassigned``, with reasons in ``map.unassigned_reasons``.
        """
        pandas = require_pandas("Themes.papers_frame()")
        placed = set(self.map.incremental)
        rows = []
        for theme in self.map.themes:
            confidence = list(theme.confidence)
            confidence += [None] * (len(theme.papers) - len(confidence))
            for rank, (paper_id, title, sure) in enumerate(
                zip(theme.papers, theme.titles, confidence, strict=False), start=1
            ):
                rows.append([theme.id, theme.label, rank, paper_id, title, sure, paper_id in placed])
        columns = ["theme", "label", "rank", "id", "title", "confidence", "placed"]
        frame = pandas.DataFrame(rows, columns=columns)
        dtypes = {"theme": "int64", "rank": "int64", "confidence": "float64", "placed": "bool"}
        return frame.astype(dtypes)

    def __repr__(self) -> str:
        return _text_table(self._caption(), *self._table())

    def _repr_html_(self) -> str:
        return _html_table(self._caption(), *self._table())

    def _caption(self) -> str:
        found = self.map
        chosen = "" if found.silhouette is None else f", silhouette {found.silhouette:.3f}"
        loose = f"; {len(found.unassigned)} papers in no theme" if found.unassigned else ""
        return f"Themes: {found.k} over {found.papers} papers ({found.method}{chosen}){loose}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        rows = [[str(theme.id), str(theme.size), theme.label, ", ".join(theme.terms[:5])] for theme in self.map.themes]
        return ["id", "size", "label", "terms"], rows


def _theme_row(theme: Theme) -> dict[str, Any]:
    """A theme's single values (and its terms and papers), without the per-paper lists or the timeline."""
    values = ((item.name, getattr(theme, item.name)) for item in dataclasses.fields(theme))
    row: dict[str, Any] = {
        key: value
        for key, value in values
        if key not in PER_PAPER_KEYS and (value is None or isinstance(value, str | int | float | bool))
    }
    row["terms"] = list(theme.terms)
    row["papers"] = list(theme.papers)
    row["trend"] = theme.timeline.trend if theme.timeline else None
    return row


def _typed_columns(frame: pandas.DataFrame, annotations: dict[str, Any]) -> pandas.DataFrame:
    """Nullable ``Int64`` for integer fields and ``float64`` for float fields; other columns as inferred."""
    dtypes: dict[str, str] = {}
    for name, annotation in annotations.items():
        kinds = _type_names(annotation)
        if "int" in kinds:
            dtypes[name] = "Int64"
        elif "float" in kinds:
            dtypes[name] = "float64"
    return frame.infer_objects().astype(dtypes)


def _type_names(annotation: Any) -> set[str]:
    """``int | None`` → {"int", "None"}, from a type or from the string a postponed annotation is.

    Read without evaluating the string: a field typed with a name imported only for type checkers must not
    break ``to_pandas``. A container (``list[int]``) is not its items' type, so it names only itself.
    """
    if isinstance(annotation, str):
        return {part.strip() for part in annotation.split("|")} if "[" not in annotation else {annotation}
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return {getattr(arg, "__name__", str(arg)) for arg in typing.get_args(annotation)}
    return {getattr(annotation, "__name__", str(annotation))}


def _cell(value: str) -> str:
    """One line, at most MAX_CELL characters: a table row must stay a row."""
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _text_table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    """A caption and a left-aligned plain-text table (what ``print`` and a notebook without HTML show)."""
    cells = [[_cell(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([caption, *lines]) if rows else caption


def _html_table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    """The same table as HTML for Jupyter; every value is escaped (titles and labels are corpus text)."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(value))}</td>" for value in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
