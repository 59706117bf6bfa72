"""The theme maps of one index as requests get them: from memory, one fit at a time, and as result-card chips.

:class:`~.fitting.ThemeWorkflow` fits, keeps and extends a map (:mod:`.fitted`); this module adds what a server
sharing one index between threads needs on top: the last :data:`THEME_CACHE_SIZE` fitted maps in memory,
one fit at a time (a request that would need a second is answered busy at once instead of holding a thread),
and each paper's theme for result cards without ever fitting. The workflow and the report renderer need
scikit-learn and jinja2, so they are imported when a request needs them, not with this module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import check_choice, check_seed_names, check_theme_k
from ..errors import BusyError, IndexCorruptError, InvalidInputError
from ..retrieval import RetrievalConfig
from ..settings import Settings
from ..snapshot import Snapshot
from ..terms_cache import TermsCache
from ..tokenizer import index_terms
from . import METHODS
from .fitted import FILENAME as THEME_MAP_FILE
from .fitted import FittedThemes

if TYPE_CHECKING:
    from .fitting import EncodeNames, ThemeWorkflow

#: Fitted theme maps kept in memory (different k, method or version); each is a few MB at 20,000 papers.
THEME_CACHE_SIZE = 8
#: A fitted map's cache key: version, k asked, method, named themes.
ThemeKey = tuple[str, int | None, str, tuple[str, ...]]
#: Seconds a theme request refused as busy is told to wait (a fit of 500 papers takes a few seconds).
THEME_RETRY_AFTER = 5
#: Each themed paper's chip ({"id", "label"}) by paper id.
Chips = dict[str, dict[str, Any]]


class ThemeMaps:
    """The fitted maps of one index, shared between threads (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        retrieval: RetrievalConfig,
        encode_names: Callable[[Snapshot], EncodeNames],
    ) -> None:
        """``encode_names`` gives the encoder of named themes for a snapshot (its query encoder)."""
        self.settings = settings
        self.retrieval = retrieval
        self._encode_names = encode_names
        #: Fitted theme maps by (version, k, method), least recently used first, at most THEME_CACHE_SIZE.
        self._cache: OrderedDict[ThemeKey, FittedThemes] = OrderedDict()
        self._chips: tuple[tuple[object, ...], Chips, FittedThemes | None] | None = None
        self._points: tuple[tuple[str, int], dict[str, Any], FittedThemes] | None = None
        self._lock = threading.Lock()  # short holds only: the cache and the chips
        #: Theme fits take seconds: one at a time, under their own lock, which nobody waits for — searches and
        #: version switches never need it, and a theme request that finds it taken is answered ``busy``.
        self._fit_lock = threading.RLock()

    def get(
        self,
        snapshot: Snapshot,
        k: int | None = None,
        *,
        method: str = "spectral",
        refit: bool = False,
        within: int | None = None,
        seed_themes: Sequence[str] = (),
    ) -> FittedThemes:
        """The map of ``snapshot`` that a request names (see :meth:`recommender.service.Recommender.themes`):
        from memory when fitted already, else fitted now unless another fit runs (:class:`BusyError`)."""
        check_theme_k(k, snapshot.size)
        check_choice("theme method", method, METHODS)
        seeds = check_seed_names(seed_themes)
        if seeds and within is not None:
            raise InvalidInputError("named themes apply to the whole corpus, not to the sub-themes of one theme")
        if k is not None and k < len(seeds):
            raise InvalidInputError(f"{len(seeds)} named themes need k of at least {len(seeds)}")
        key = (snapshot.manifest.build_id, k, method, seeds)
        if within is None and not refit and (cached := self._cached(key)) is not None:
            return cached
        if not self._fit_lock.acquire(blocking=False):
            raise BusyError(
                "another theme map is being fitted; try again in a few seconds (maps already fitted answer at once)",
                retry_after=THEME_RETRY_AFTER,
            )
        try:
            if within is not None:
                return self.workflow().sub_themes(snapshot, within, k, method)
            if not refit and (cached := self._cached(key)) is not None:
                return cached  # fitted by the request that held the lock just before this one
            fitted = None if refit else self._kept(snapshot, k, method, seeds)
            if fitted is None:
                fitted = self.workflow().current(snapshot, k, method, refit, seeds)
            with self._lock:
                self._cache[key] = fitted
                self._cache.move_to_end(key)
                while len(self._cache) > THEME_CACHE_SIZE:
                    self._cache.popitem(last=False)
            return fitted
        finally:
            self._fit_lock.release()

    def _kept(self, snapshot: Snapshot, k: int | None, method: str, seeds: tuple[str, ...]) -> FittedThemes | None:
        """The kept map when it answers the request, brought up to ``snapshot``'s build, read without the
        fitting workflow (which imports scikit-learn, seconds): listing a kept map needs no clustering."""
        try:
            stored = FittedThemes.load(self.settings.index_path)
        except IndexCorruptError:
            return None  # the workflow logs it and fits again
        if stored is None or not stored.matches(k, method, snapshot.manifest.model, seeds):
            return None
        return stored.up_to_date(snapshot, self.settings.index_path)

    def _cached(self, key: ThemeKey) -> FittedThemes | None:
        with self._lock:
            fitted = self._cache.get(key)
            if fitted is not None:
                self._cache.move_to_end(key)
            return fitted

    def workflow(self) -> ThemeWorkflow:
        """The fitting workflow over this index's kept map, reading terms through the build's terms cache."""
        from .fitting import ThemeWorkflow

        terms_cache = TermsCache(self.settings.cache_path)
        return ThemeWorkflow(
            self.settings.index_path,
            self.retrieval,
            terms_of=lambda texts: terms_cache.terms(texts, index_terms),
            encode_names=self._encode_names,
            progress=self.settings.progress,
        )

    def theme_of_row(self, snapshot: Snapshot, themes: Sequence[int]) -> np.ndarray:
        """Each row's theme id in the default map (-1 for none), for a theme filter; unknown ids refused."""
        theme_map = self.get(snapshot)
        known = {theme.id for theme in theme_map.themes}
        unknown = sorted(set(themes) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown theme id {unknown[0]}; themes are {sorted(known)} (see `recommender themes`)"
            )
        theme_of_row = np.full(snapshot.size, -1)
        for theme in theme_map.themes:
            theme_of_row[[snapshot.row_of[paper_id] for paper_id in theme.papers]] = theme.id
        return theme_of_row

    def points(self, snapshot: Snapshot, theme_map: FittedThemes) -> dict[str, Any]:
        """The 2-D map as columns, for drawing (see :func:`recommender.themes.points.theme_points`); the last
        answer is kept (a map of a large corpus takes seconds to sample, and the page asks again after each
        visit)."""
        from .points import theme_points

        stamp = (snapshot.manifest.build_id, id(theme_map))
        with self._lock:
            if self._points is not None and self._points[0] == stamp:
                return self._points[1]
        answer = theme_points(theme_map, snapshot)
        with self._lock:
            self._points = (stamp, answer, theme_map)  # the map is held so that its id is not reused
        return answer

    def report(self, snapshot: Snapshot, theme_map: FittedThemes, fmt: str) -> str:
        """The themes as a shareable report (HTML, Markdown, JSON or CSV; see :mod:`.report`)."""
        from .report import render

        papers = {paper.id: paper for paper in snapshot.papers}
        return render(theme_map, papers, fmt, title=f"index '{self.settings.index_name}'")

    def chips(self, snapshot: Snapshot) -> Chips:
        """Each paper's theme ({"id", "label"}) in the index's default theme map, when one has been fitted:
        from memory, else the kept map (read once per version and map file). Never fits one: a search must
        not wait for a theme fit."""
        fitted = self._cached((snapshot.manifest.build_id, None, "spectral", ()))
        stamp: tuple[object, ...]
        if fitted is not None:
            stamp = ("memory", id(fitted))
        else:
            path = self.settings.index_path / THEME_MAP_FILE
            try:
                stamp = ("kept", path.stat().st_mtime_ns, snapshot.manifest.build_id)
            except OSError:
                return {}
        with self._lock:
            if self._chips is not None and self._chips[0] == stamp:
                return self._chips[1]
        if fitted is None:
            try:  # the kept map read directly: the theme workflow would import scikit-learn (seconds)
                fitted = FittedThemes.load(self.settings.index_path)
            except IndexCorruptError:
                fitted = None
            if fitted is None or not fitted.matches(None, "spectral", snapshot.manifest.model):
                fitted = None
        chips = {} if fitted is None else fitted.chips()
        with self._lock:
            self._chips = (stamp, chips, fitted)  # the map is held so that its id is not reused
        return chips
