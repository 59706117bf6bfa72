"""The theme workflow for an index version: fit, keep, extend, refit, divide, and draw.

:class:`ThemeWorkflow` is what the façade's theme maps (:mod:`.maps`) and the evaluation call:
it builds the related-papers graph of a snapshot's papers, reads their index terms (from the build's terms
cache), embeds named themes, fits a :class:`~.model.ThemeModel`, and turns it into a :class:`~.fitted.FittedThemes`
with timelines. The kept map (``themes.json``) answers later requests, is brought up to new builds by placing
new papers in their nearest theme, and is refitted on request with the old themes as a warm start and a
report of which new theme continues which old one. Concurrency (one fit at a time, the in-memory cache) is
:mod:`.maps`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError, InvalidInputError
from ..progress import Progress
from ..retrieval import RetrievalConfig, neighbour_graph
from ..snapshot import Snapshot
from ..tokenizer import index_terms
from .fitted import FittedThemes
from .guided import SeedThemes
from .matching import match
from .model import METHODS, ThemeModel, neighbours_for
from .theme import Theme
from .timeline import theme_timelines

log = logging.getLogger(__name__)

TermsOf = Callable[[list[str]], list[list[str]]]
EncodeNames = Callable[[list[str]], np.ndarray]
#: A refit keeps the earlier number of themes unless the corpus grew (or shrank) by more than this share.
KEEP_K_CHANGE = 0.2


#: Papers themes are fitted on at most; the others are assigned to the nearest theme (see ThemeWorkflow.fit).
THEME_SAMPLE = 50_000


class _RowsOf:
    """``vectors[rows[i]]`` for ``i``: the vectors of some rows, indexed by position, read when asked."""

    def __init__(self, vectors: Any, rows: Sequence[int]) -> None:
        self._vectors = vectors
        self._rows = np.asarray(rows, dtype=np.int64)

    def __getitem__(self, positions: Any) -> np.ndarray:
        return np.asarray(self._vectors[self._rows[np.asarray(positions, dtype=np.int64)]], dtype=np.float32)


class ThemeWorkflow:
    """Themes of one index's versions (see the module docstring)."""

    def __init__(
        self,
        index_path: Path,
        retrieval: RetrievalConfig,
        *,
        terms_of: TermsOf | None = None,
        encode_names: Callable[[Snapshot], EncodeNames] | None = None,
        progress: bool = False,
    ) -> None:
        self.index_path = Path(index_path)
        self.retrieval = retrieval
        self.terms_of = terms_of or (lambda texts: [index_terms(text) for text in texts])
        self.encode_names = encode_names
        self.progress = progress

    # ------------------------------------------------------------------------------------------ fit
    def fit(
        self,
        snapshot: Snapshot,
        rows: Sequence[int],
        k: int | None,
        method: str,
        seeds: tuple[str, ...] = (),
        previous: FittedThemes | None = None,
    ) -> FittedThemes:
        """A new map of ``rows`` of the snapshot (all papers, or one theme's for sub-themes).

        Beyond :data:`THEME_SAMPLE` papers the themes are fitted on an evenly spaced sample of that many (a
        deterministic choice) and every other paper joins the theme whose centre is nearest, drawn near it
        on the map: the approach BERTopic's maintainers recommend for large corpora. The map records the
        sample's size."""
        if method not in METHODS:
            raise InvalidInputError(f"unknown theme method {method!r}; choose one of {', '.join(METHODS)}")
        rows = list(rows)
        if len(rows) > THEME_SAMPLE:
            step = len(rows) / THEME_SAMPLE
            sample = [rows[int(i * step)] for i in range(THEME_SAMPLE)]
            fitted = self._fit(snapshot, sample, k, method, seeds, previous)
            papers = [snapshot.papers[row] for row in rows]
            extended = fitted.extend(
                snapshot.manifest.build_id,
                [paper.id for paper in papers],
                {paper.id: paper.display_title for paper in papers},
                {paper.id: paper.year for paper in papers},
                _RowsOf(snapshot.embeddings, rows),
            )
            extended.sample = len(sample)
            return extended
        return self._fit(snapshot, rows, k, method, seeds, previous)

    def _fit(
        self,
        snapshot: Snapshot,
        rows: list[int],
        k: int | None,
        method: str,
        seeds: tuple[str, ...],
        previous: FittedThemes | None,
    ) -> FittedThemes:
        papers = [snapshot.papers[row] for row in rows]
        texts = [paper.text for paper in papers]
        progress = Progress(bars=self.progress)
        with progress.step("related-papers graph", total=len(rows), unit=" papers") as step:
            graph = neighbour_graph(snapshot, self.retrieval, k=neighbours_for(len(rows)), rows=rows)
            step.advance(len(rows))
        with progress.step("index terms", total=len(rows), unit=" papers") as step:
            terms = self.terms_of(texts)
            step.advance(len(rows))
        named = self._named(snapshot, seeds)
        earlier = self._previous_labels(previous, papers, k)
        with progress.step("themes (cluster, label, map)", total=len(rows), unit=" papers") as step:
            model = ThemeModel(n_themes=k, method=method).fit(
                np.asarray(snapshot.embeddings[rows]), texts, graph=graph, terms=terms, seeds=named, previous=earlier
            )
            step.advance(len(rows))
        theme_map = to_theme_map(model, snapshot, rows, k, method, seeds)
        if previous is not None:
            theme_map = renumber_after_refit(theme_map, previous)
        return theme_map

    def _named(self, snapshot: Snapshot, seeds: tuple[str, ...]) -> SeedThemes | None:
        if not seeds:
            return None
        if self.encode_names is None:
            raise InvalidInputError("named themes need the embedding model, which this workflow was not given")
        vectors = np.asarray(self.encode_names(snapshot)(list(seeds)), dtype=np.float32)
        return SeedThemes(seeds, vectors, tuple(tuple(index_terms(name)) for name in seeds))

    @staticmethod
    def _previous_labels(previous: FittedThemes | None, papers: Sequence[Any], k: int | None) -> np.ndarray | None:
        """Each paper's theme in the earlier map (-1 if new), when the refit should start from it: same number
        of themes asked for, and the corpus changed by at most :data:`KEEP_K_CHANGE`."""
        if previous is None or previous.seed_themes:
            return None
        if k is None and abs(len(papers) - previous.papers) > KEEP_K_CHANGE * max(previous.papers, 1):
            return None
        theme_of = previous.theme_of()
        labels = np.array([theme_of.get(paper.id, -1) for paper in papers], dtype=np.int64)
        known = len(set(labels[labels >= 0].tolist()))
        if (labels >= 0).sum() < len(papers) / 2 or (k is not None and known != k):
            return None
        return labels

    # -------------------------------------------------------------------------------- the kept map
    def current(
        self, snapshot: Snapshot, k: int | None, method: str, refit: bool, seeds: tuple[str, ...] = ()
    ) -> FittedThemes:
        """The kept map (extended to new papers) if it answers the request, else a new one, kept.

        A refit of a kept map for the same request starts from its themes and reports the matching."""
        stored = self.stored()
        same = stored is not None and stored.matches(k, method, snapshot.manifest.model, seeds)
        if same and stored is not None and not refit:
            return stored.up_to_date(snapshot, self.index_path)
        fitted = self.fit(snapshot, range(snapshot.size), k, method, seeds, previous=stored if same else None)
        fitted.save(self.index_path)
        return fitted

    def stored(self) -> FittedThemes | None:
        """The kept theme map; a damaged one is only a lost cache: logged, then fitted again."""
        try:
            return FittedThemes.load(self.index_path)
        except IndexCorruptError as error:
            log.warning("ignoring the kept theme map: %s", error.message)
            return None

    def sub_themes(self, snapshot: Snapshot, within: int, k: int | None, method: str) -> FittedThemes:
        """Themes inside one theme of the map the user last saw (the kept one, brought up to this build)."""
        stored = self.stored()
        if stored is not None:
            parent = self.current(
                snapshot, stored.requested_k, stored.method, refit=False, seeds=tuple(stored.seed_themes)
            )
        else:
            parent = self.current(snapshot, None, method, refit=False)
        theme = next((t for t in parent.themes if t.id == within), None)
        if theme is None:
            raise InvalidInputError(f"unknown theme id {within}; themes are {[t.id for t in parent.themes]}")
        rows = [snapshot.row_of[paper_id] for paper_id in theme.papers if paper_id in snapshot.row_of]
        if len(rows) < 4:
            raise InvalidInputError(f"theme {within} has {len(rows)} papers: too few to divide")
        if k is not None and k > len(rows):
            raise InvalidInputError(f"theme {within} has only {len(rows)} papers")
        return self.fit(snapshot, rows, k, method)


def to_theme_map(
    model: ThemeModel, snapshot: Snapshot, rows: Sequence[int], k: int | None, method: str, seeds: tuple[str, ...]
) -> FittedThemes:
    """A fitted model as the map the API returns and the index keeps."""
    papers = [snapshot.papers[row] for row in rows]
    timelines = theme_timelines([theme.rows for theme in model.themes_], [paper.year for paper in papers])
    themes = [
        Theme(
            id=theme.theme_id,
            label=theme.label,
            terms=theme.terms,
            size=len(theme.rows),
            papers=[papers[row].id for row in theme.rows],
            titles=[papers[row].display_title for row in theme.rows],
            confidence=list(theme.confidence),
            seed=theme.seed,
            label_rule=theme.label_rule,
            timeline=timeline,
        )
        for theme, timeline in zip(model.themes_, timelines, strict=True)
    ]
    return FittedThemes(
        build_id=snapshot.manifest.build_id,
        model=snapshot.manifest.model,
        method=method,
        requested_k=k,
        k=model.n_themes_,
        papers=len(rows),
        silhouette=model.silhouette_,
        themes=themes,
        unassigned=[papers[row].id for row in model.unassigned_],
        unassigned_reasons={papers[row].id: reason for row, reason in model.unassigned_reasons_.items()},
        hierarchy=model.hierarchy_,
        similarity=np.round(model.similarity_, 4).tolist(),
        centroids=np.round(model.centroids_, 6).tolist(),
        coordinates={paper.id: np.round(xy, 5).tolist() for paper, xy in zip(papers, model.coordinates_, strict=True)},
        seed_themes=list(seeds),
        view_weight=round(float(model.view_weight_), 4),
        symbol_share=model.symbol_share_,
    )


def renumber_after_refit(theme_map: FittedThemes, previous: FittedThemes) -> FittedThemes:
    """New theme ids follow the old ones they continue (Hungarian matching); ``changes`` reports it."""
    fixed = len(theme_map.seed_themes)
    renumber, report = match(
        previous.theme_of(), theme_map.theme_of(), [theme.id for theme in theme_map.themes], fixed=fixed
    )
    report.compared_with = previous.build_id
    themes = sorted((replace(theme, id=renumber[theme.id]) for theme in theme_map.themes), key=lambda t: t.id)
    order = [theme.id for theme in theme_map.themes]
    position = {old: i for i, old in enumerate(order)}
    ranked = sorted(order, key=lambda old: renumber[old])
    similarity = [[theme_map.similarity[position[a]][position[b]] for b in ranked] for a in ranked]
    centroids = [theme_map.centroids[position[old]] for old in ranked]
    hierarchy = [
        replace(merge, left=_renumbered(merge.left, renumber), right=_renumbered(merge.right, renumber))
        for merge in theme_map.hierarchy
    ]
    theme_map.themes = themes
    theme_map.similarity = similarity
    theme_map.centroids = centroids
    theme_map.hierarchy = hierarchy
    theme_map.changes = report
    return theme_map


def _renumbered(node: int, renumber: dict[int, int]) -> int:
    """Hierarchy nodes below k are themes (renumbered); others are merge steps (kept)."""
    return renumber.get(node, node) if node < len(renumber) else node
