"""Which stored papers an export writes, and the tags each gets: ids given, a theme, a collection, a whole map.

A selection is the ids it picks, in order, and for each the tags it adds (a theme's label, a collection's
name), so a reference manager can filter on them. Selections combine: their ids are joined (each written
once, in the order first given) and their tags added up. Every reference is resolved before anything is
written, so an unknown one is the caller's error rather than half a file. The writers are
:mod:`recommender.export` (imported when an export runs: it needs rispy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .collection import Collections
from .errors import InvalidInputError, NotFoundError
from .paper import check_reference
from .store import PaperStore

if TYPE_CHECKING:
    from .themes.fitted import FittedThemes

#: The ids a selection picks, in order, and the tags it adds to each.
Selection = tuple[list[str], dict[str, list[str]]]


def theme_selection(theme_map: FittedThemes, theme: int) -> Selection:
    """One theme's papers, tagged with its label."""
    found = next((item for item in theme_map.themes if item.id == theme), None)
    if found is None:
        raise InvalidInputError(f"unknown theme id {theme}; see `recommender themes`")
    return list(found.papers), {paper_id: [found.label] for paper_id in found.papers}


def map_selection(theme_map: FittedThemes) -> Selection:
    """Every themed paper of a map, theme by theme, tagged with its theme's label."""
    ids = [paper_id for theme in theme_map.themes for paper_id in theme.papers]
    return ids, {paper_id: [theme.label] for theme in theme_map.themes for paper_id in theme.papers}


def collection_selection(collections: Collections, store: PaperStore, name: str) -> Selection:
    """A collection's papers still stored (a removed one cannot be written), tagged with its name."""
    info = collections.info(name)
    ids: list[str] = collections.paper_ids(info.name)
    stored = store.resolve_many(ids)
    ids = [paper_id for paper_id in ids if stored[paper_id] is not None]
    return ids, {paper_id: [info.name] for paper_id in ids}


def export_selected(
    store: PaperStore,
    fmt: str,
    out: TextIO,
    ids: Sequence[str],
    selections: Sequence[Selection | None],
    *,
    index: str,
) -> int:
    """Write the papers of ``ids`` and of the ``selections`` made (``None`` for one not asked for) to ``out``;
    with neither, every stored paper. Returns the number written."""
    from .export import export_papers

    chosen = list(ids)
    tags: dict[str, list[str]] = {}
    for selection in selections:
        if selection is not None:
            chosen += selection[0]
            for paper_id, labels in selection[1].items():
                tags.setdefault(paper_id, []).extend(labels)
    if not chosen and all(selection is None for selection in selections):
        return export_papers(store.papers(), fmt, out, tags=tags)
    references = list(dict.fromkeys(check_reference(reference) for reference in chosen))
    found = store.resolve_many(references)
    unknown = [reference for reference, paper in found.items() if paper is None]
    if unknown:
        raise NotFoundError(f"no paper {unknown[0]!r} in index {index!r}")
    papers = list({paper.id: paper for paper in found.values() if paper is not None}.values())
    return export_papers(papers, fmt, out, tags=tags)
