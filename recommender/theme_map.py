"""A fitted theme map of one index: what ``themes`` returns, what reports draw, and what is kept on disk.

The map is saved beside the index (``indexes/NAME/themes.json``, written atomically) so that themes are
reproducible and cheap to show, and so papers added by later builds can be placed in the existing themes —
each goes to the theme with the nearest centre — without re-clustering; ``refit`` clusters again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError
from .versions import atomic_write_text

FILENAME = "themes.json"


@dataclass
class ThemeMap:
    """Themes of an index, with everything a report needs."""

    build_id: str
    model: str
    method: str
    requested_k: int | None
    k: int
    papers: int
    silhouette: float | None
    themes: list[dict[str, Any]]
    unassigned: list[str] = field(default_factory=list)
    hierarchy: list[dict[str, Any]] = field(default_factory=list)
    similarity: list[list[float]] = field(default_factory=list)
    centroids: list[list[float]] = field(default_factory=list)
    coordinates: dict[str, list[float]] = field(default_factory=dict)
    incremental: list[str] = field(default_factory=list)

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """The JSON answer; ``full`` adds the centres and map coordinates (for storage and reports)."""
        data = asdict(self)
        if not full:
            data.pop("centroids")
            data.pop("coordinates")
        return data

    def theme_of(self) -> dict[str, int]:
        return {paper_id: theme["id"] for theme in self.themes for paper_id in theme["papers"]}

    def matches(self, requested_k: int | None, method: str, model: str) -> bool:
        """Whether this stored map answers a request (same k asked, same method, same embedding model)."""
        return self.requested_k == requested_k and self.method == method and self.model == model

    def save(self, index_path: Path) -> None:
        atomic_write_text(Path(index_path) / FILENAME, json.dumps(self.to_dict(full=True), ensure_ascii=False))

    @classmethod
    def load(cls, index_path: Path) -> ThemeMap | None:
        path = Path(index_path) / FILENAME
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as error:
            raise IndexCorruptError(f"cannot read {path}: {error}; run `recommender themes --refit`") from None

    def extend(self, build_id: str, ids: list[str], titles: dict[str, str], vectors: np.ndarray) -> ThemeMap:
        """This map for a newer build: vanished papers dropped, new papers (``ids``, with their ``vectors``)
        assigned to the theme whose centre is nearest, each drawn near that theme on the map."""
        present = set(titles)
        centres = np.asarray(self.centroids, dtype=np.float32)
        themes = [
            {**theme, "papers": [p for p in theme["papers"] if p in present], "titles": []} for theme in self.themes
        ]
        new_ids = [paper_id for paper_id in ids if paper_id not in self.theme_of() and paper_id not in self.unassigned]
        coordinates = {paper_id: xy for paper_id, xy in self.coordinates.items() if paper_id in present}
        if new_ids and len(centres):
            rows = {paper_id: i for i, paper_id in enumerate(ids)}
            nearest = np.argmax(vectors[[rows[paper_id] for paper_id in new_ids]] @ centres.T, axis=1)
            spread = np.random.default_rng(0)
            for paper_id, theme_id in zip(new_ids, nearest.tolist(), strict=True):
                themes[theme_id]["papers"].append(paper_id)
                anchor = _theme_centre(themes[theme_id]["papers"], coordinates)
                coordinates[paper_id] = (anchor + spread.normal(scale=0.01, size=2)).tolist()
        for theme in themes:
            theme["size"] = len(theme["papers"])
            theme["titles"] = [titles[p] for p in theme["papers"]]
        return ThemeMap(
            build_id=build_id,
            model=self.model,
            method=self.method,
            requested_k=self.requested_k,
            k=self.k,
            papers=len(present),
            silhouette=self.silhouette,
            themes=themes,
            unassigned=[p for p in self.unassigned if p in present],
            hierarchy=self.hierarchy,
            similarity=self.similarity,
            centroids=self.centroids,
            coordinates=coordinates,
            incremental=[p for p in self.incremental if p in present] + new_ids,
        )


def _theme_centre(paper_ids: list[str], coordinates: dict[str, list[float]]) -> np.ndarray:
    points = [coordinates[p] for p in paper_ids if p in coordinates]
    return np.mean(points, axis=0) if points else np.zeros(2)
