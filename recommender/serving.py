"""Which index version answers queries: the one ``CURRENT`` names, loaded once, swapped when a new one is
published, and never a broken one.

Readers only ever see whole versions: a build publishes a new version by renaming ``CURRENT`` (see
:mod:`recommender.versions`), and every query asks :meth:`Serving.current`, which compares ``CURRENT`` with
the loaded version and loads the new one when they differ. So any number of processes (several ``serve``
processes on one shared index folder, command-line queries) read one index while one writer builds, and each
picks up a new version on its next query. While a version loads, queries keep the loaded one: only the first
query of a fresh process waits. A version that fails to load (damaged files, another model) is not served:
the loaded version stays, or on a fresh start the newest kept version that loads, and the reason is kept in
:attr:`Serving.problem` for ``/ready`` and ``status``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal, overload

from .errors import IndexCorruptError, IndexMismatchError, RecommenderError
from .snapshot import Snapshot
from .vector_index import set_threads
from .versions import VersionStore

log = logging.getLogger(__name__)


class Serving:
    """The loaded version of one index, kept in step with ``CURRENT``."""

    def __init__(
        self,
        versions: VersionStore,
        *,
        check: Callable[[Snapshot], None],
        missing: Callable[[], RecommenderError],
        search_threads: int = 0,
    ) -> None:
        """``check`` raises :class:`IndexMismatchError` for a version this service must not serve (another
        model than configured); ``missing`` is the error for an index without any version."""
        self.versions = versions
        self._check = check
        self._missing = missing
        self._search_threads = search_threads
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # short holds only: the swap of the loaded version
        self._load_lock = threading.Lock()  # one load at a time; other queries keep the loaded version meanwhile
        #: Set while a background job builds and then loads a version: queries keep the loaded one meanwhile
        #: instead of loading the new version themselves in the gap between its publication and the job's load.
        self.building = threading.Event()
        self._failed_version: str | None = None
        #: Why the version served is not the one ``CURRENT`` names, if it is not (reported by ready/status).
        self.problem: str | None = None

    @property
    def loaded(self) -> Snapshot | None:
        """The version loaded now, without touching the disk (None before the first query)."""
        return self._snapshot

    @overload
    def current(self, *, required: Literal[True] = True) -> Snapshot: ...

    @overload
    def current(self, *, required: bool) -> Snapshot | None: ...

    def current(self, *, required: bool = True) -> Snapshot | None:
        """The version ``CURRENT`` names, loaded once and reloaded when a new version is published; None for an
        index without versions unless ``required`` (then the ``missing`` error)."""
        build_id = self.versions.current_id()
        if build_id is None:
            if not required:
                return None
            raise self._missing()
        serving = self._snapshot
        if serving is not None and serving.manifest.build_id == build_id:
            return serving
        if serving is not None and (self.building.is_set() or build_id == self._failed_version):
            return serving  # a job will load the new version (or it failed to load): keep answering from this one
        if serving is not None and not self._load_lock.acquire(blocking=False):
            return serving  # the new version is being loaded by another query: keep answering
        if serving is None:
            self._load_lock.acquire()
        try:
            return self._load(build_id)
        finally:
            self._load_lock.release()

    def switch_to(self, snapshot: Snapshot) -> None:
        """Serve ``snapshot`` now (a rollback loads and checks its target before publishing it)."""
        with self._lock:
            self._snapshot = snapshot
            self.problem = None

    def load_version(self, build_id: str) -> Snapshot:
        """Load a kept version (a delta version on the loaded base reuses it: only the delta is read)."""
        return Snapshot.load(self.versions.path(build_id), base_of=self._base_of)

    def _base_of(self, build_id: str) -> Snapshot:
        """The full version ``build_id``: the one loaded (or under the loaded delta) if it is that one."""
        loaded = self._snapshot
        for candidate in (loaded, loaded.base if loaded is not None else None):
            if candidate is not None and candidate.base is None and candidate.manifest.build_id == build_id:
                return candidate
        if not self.versions.path(build_id).is_dir():
            raise IndexCorruptError(f"version {build_id}, which a delta version adds to, is missing")
        return Snapshot.load(self.versions.path(build_id))

    def _load(self, build_id: str) -> Snapshot:
        """Load the version ``CURRENT`` names; if it is unusable, keep serving the one already loaded."""
        with self._lock:
            if self._snapshot is not None and self._snapshot.manifest.build_id == build_id:
                return self._snapshot
        try:
            folder = self.versions.current_path()
            if folder is None:
                raise self._missing()
            snapshot = Snapshot.load(folder, base_of=self._base_of)
            set_threads(self._search_threads)
            self._check(snapshot)
        except (IndexCorruptError, IndexMismatchError) as error:
            fallback = self._snapshot
            if fallback is None and isinstance(error, IndexCorruptError):
                fallback = self._last_good(build_id)
            if fallback is None:
                raise
            log.error(
                "index version %s is unusable, serving %s: %s", build_id, fallback.manifest.build_id, error.message
            )
            self._failed_version = build_id
            with self._lock:
                self._snapshot = fallback
                self.problem = (
                    f"version {build_id} is unusable ({error.message}); serving version "
                    f"{fallback.manifest.build_id}. Run `recommender build` (or POST /rebuild) to publish a good "
                    "version, or `recommender rollback`."
                )
            return fallback
        self.switch_to(snapshot)
        return snapshot

    def _last_good(self, broken: str) -> Snapshot | None:
        """The newest kept version other than ``broken`` that loads: what a restarted server serves from when
        ``CURRENT`` names a damaged version (``CURRENT`` itself is left for the operator or the next build)."""
        for build_id in reversed(self.versions.build_ids()):
            if build_id == broken:
                continue
            try:
                snapshot = self.load_version(build_id)
                self._check(snapshot)
            except (IndexCorruptError, IndexMismatchError):
                continue
            return snapshot
        return None
