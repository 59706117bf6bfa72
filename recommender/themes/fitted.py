"""A fitted theme map of one index: what ``themes`` returns, what reports draw, and what is kept on disk.

The map is saved beside the index (``indexes/NAME/themes.json``, written atomically) so that themes are
reproducible and cheap to show, and so papers added by later builds can be placed in the existing themes —
each goes to the theme with the nearest centre — without re-clustering; ``refit`` clusters again (and says
which new theme continues which old one: ``changes``).

Each theme is a :class:`~.theme.Theme`: ``id``, ``label``, ``terms``, ``size``, ``papers`` (most representative
first), ``titles``, ``confidence`` (per paper, aligned with ``papers``; ``null`` for papers placed
incrementally), ``seed`` (the name of a named theme, else ``null``), ``label_rule`` and ``timeline`` (papers and
share per year, trend). The hierarchy is a list of :class:`~.theme.Merge` and a refit's report is
:class:`~.theme.Changes`. Their fields are the JSON's keys in order, so :meth:`FittedThemes.to_dict` is the JSON
kept maps and clients have always read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import IndexCorruptError
from ..fileio import atomic_write_text
from .theme import Changes, Merge, Theme
from .timeline import theme_timelines

if TYPE_CHECKING:
    from ..snapshot import Snapshot

FILENAME = "themes.json"
#: New papers assigned to themes per matrix product (bounds the memory of assigning a million).
ASSIGN_CHUNK = 20_000
#: Maps kept by older versions (before views, named themes and timelines) are fitted again, not read.
FORMAT = 2


@dataclass
class FittedThemes:
    """Themes of an index, with everything a report needs."""

    build_id: str
    model: str
    method: str
    requested_k: int | None
    k: int
    papers: int
    silhouette: float | None
    themes: list[Theme]
    unassigned: list[str] = field(default_factory=list)
    unassigned_reasons: dict[str, str] = field(default_factory=dict)
    hierarchy: list[Merge] = field(default_factory=list)
    similarity: list[list[float]] = field(default_factory=list)
    centroids: list[list[float]] = field(default_factory=list)
    coordinates: dict[str, list[float]] = field(default_factory=dict)
    incremental: list[str] = field(default_factory=list)
    seed_themes: list[str] = field(default_factory=list)
    view_weight: float | None = None
    symbol_share: float | None = None
    changes: Changes | None = None
    #: Papers the themes were fitted on, when fewer than all (a large corpus: the rest were assigned).
    sample: int | None = None
    format: int = FORMAT

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """The JSON answer; ``full`` adds the centres and map coordinates (for storage and reports)."""
        data = asdict(self)
        if not full:
            data.pop("centroids")
            data.pop("coordinates")
            data.pop("format")
        return data

    @classmethod
    def from_dict(cls, data: object) -> FittedThemes:
        """A map from its JSON (:meth:`to_dict`, with or without ``full``), shape checked: a :class:`ValueError`
        or :class:`TypeError` for anything else (a damaged file, a server answering something unexpected)."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in fields(cls)}
        known = {key: value for key, value in data.items() if key in names}
        themes, hierarchy, changes = known.get("themes"), known.get("hierarchy", []), known.get("changes")
        if not isinstance(themes, list) or not isinstance(hierarchy, list):
            raise ValueError("themes and hierarchy must be lists")
        known["themes"] = [Theme.from_dict(theme) for theme in themes]
        known["hierarchy"] = [Merge.from_dict(merge) for merge in hierarchy]
        known["changes"] = None if changes is None else Changes.from_dict(changes)
        return cls(**known)

    def chips(self) -> dict[str, dict[str, Any]]:
        """Each themed paper's theme as a result card shows it: ``{"id": 3, "label": "..."}`` (the card's JSON)."""
        return {paper_id: {"id": theme.id, "label": theme.label} for theme in self.themes for paper_id in theme.papers}

    def theme_of(self) -> dict[str, int]:
        return {paper_id: theme.id for theme in self.themes for paper_id in theme.papers}

    def matches(self, requested_k: int | None, method: str, model: str, seeds: tuple[str, ...] = ()) -> bool:
        """Whether this stored map answers a request (same k asked, method, embedding model, named themes)."""
        return (
            self.requested_k == requested_k
            and self.method == method
            and self.model == model
            and tuple(self.seed_themes) == tuple(seeds)
        )

    def save(self, index_path: Path) -> None:
        atomic_write_text(Path(index_path) / FILENAME, json.dumps(self.to_dict(full=True), ensure_ascii=False))

    @classmethod
    def load(cls, index_path: Path) -> FittedThemes | None:
        """The kept map, or ``None`` when there is none or it was kept in an older format (fitted again)."""
        path = Path(index_path) / FILENAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if data.get("format", 1) != FORMAT:
                return None
            return cls.from_dict(data)
        except (OSError, ValueError, TypeError) as error:
            raise IndexCorruptError(f"cannot read {path}: {error}; run `recommender themes --refit`") from None

    def up_to_date(self, snapshot: Snapshot, index_path: Path) -> FittedThemes:
        """This kept map for ``snapshot``'s build: itself when it is that build's, else extended to the build
        (see :meth:`extend`) and kept again. Needs no clustering, so it imports no scikit-learn."""
        if self.build_id == snapshot.manifest.build_id:
            return self
        ids = snapshot.columns.ids  # ids and years from the columns; titles in one pass over the records
        extended = self.extend(
            snapshot.manifest.build_id,
            ids,
            dict(zip(ids, (paper.display_title for paper in snapshot.papers), strict=True)),
            {paper_id: int(year) or None for paper_id, year in zip(ids, snapshot.columns.years, strict=True)},
            snapshot.embeddings,
        )
        extended.save(index_path)
        return extended

    def extend(
        self, build_id: str, ids: list[str], titles: dict[str, str], years: dict[str, int | None], vectors: Any
    ) -> FittedThemes:
        """This map for a newer build: vanished papers dropped, new papers (``ids``, with their ``vectors``, an
        array or anything indexed by a list of rows) assigned to the theme whose centre is nearest, each drawn
        near that theme's centre on the map (as it was before the new papers)."""
        present = set(titles)
        centres = np.asarray(self.centroids, dtype=np.float32)
        themes = []
        for theme in self.themes:
            kept = [(p, c) for p, c in zip(theme.papers, theme.confidence, strict=False) if p in present]
            themes.append(replace(theme, papers=[p for p, _ in kept], confidence=[c for _, c in kept]))
        known = set(self.theme_of()) | set(self.unassigned)
        new_ids = [paper_id for paper_id in ids if paper_id not in known]
        coordinates = {paper_id: xy for paper_id, xy in self.coordinates.items() if paper_id in present}
        usable = np.flatnonzero(np.any(centres, axis=1)) if len(centres) else np.array([], dtype=int)
        if new_ids and len(usable):
            rows = {paper_id: i for i, paper_id in enumerate(ids)}
            anchors = {theme_id: _theme_centre(themes[theme_id].papers, coordinates) for theme_id in usable.tolist()}
            spread = np.random.default_rng(0)
            for start in range(0, len(new_ids), ASSIGN_CHUNK):  # bounded memory at any number of new papers
                chunk = new_ids[start : start + ASSIGN_CHUNK]
                block = np.asarray(vectors[[rows[paper_id] for paper_id in chunk]], dtype=np.float32)
                nearest = usable[np.argmax(block @ centres[usable].T, axis=1)]
                jitter = spread.normal(scale=0.01, size=(len(chunk), 2))
                for paper_id, theme_id, offset in zip(chunk, nearest.tolist(), jitter, strict=True):
                    themes[theme_id].papers.append(paper_id)
                    themes[theme_id].confidence.append(None)
                    coordinates[paper_id] = (anchors[theme_id] + offset).round(5).tolist()
        order = {paper_id: row for row, paper_id in enumerate(ids)}
        year_list = [years.get(paper_id) for paper_id in ids]
        timelines = theme_timelines([[order[p] for p in theme.papers] for theme in themes], year_list)
        for theme, timeline in zip(themes, timelines, strict=True):
            theme.size = len(theme.papers)
            theme.titles = [titles[p] for p in theme.papers]
            theme.timeline = timeline
        return FittedThemes(
            **{
                **{f.name: getattr(self, f.name) for f in fields(self)},
                "build_id": build_id,
                "papers": len(present),
                "themes": themes,
                "unassigned": [p for p in self.unassigned if p in present],
                "unassigned_reasons": {p: r for p, r in self.unassigned_reasons.items() if p in present},
                "coordinates": coordinates,
                "incremental": [p for p in self.incremental if p in present] + new_ids,
            }
        )


def _theme_centre(paper_ids: list[str], coordinates: dict[str, list[float]]) -> np.ndarray:
    points = [coordinates[p] for p in paper_ids if p in coordinates]
    return np.mean(points, axis=0) if points else np.zeros(2)
