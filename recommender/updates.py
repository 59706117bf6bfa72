"""What changes the version that answers: full builds, delta versions, background updates and rollbacks.

Every new version goes through one publish protocol (:meth:`Updates.publish`): written into a staging folder
under the index's exclusive lock, published by renaming ``CURRENT``, old versions pruned. A build that fails
at any point leaves the previous version current. Papers stored since the last update are collected as
:class:`PendingChanges` until a background job takes them: a few are indexed as a delta version
(:mod:`recommender.segments`) in a time proportional to them; many, or changes without ids, make a full build.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .embedding import Embedder
from .encoders import Encoders
from .errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotBuiltError,
    NotFoundError,
    StorageError,
    failure_reason,
)
from .indexing import Corpus, delta_limit, index_delta, index_papers
from .jobs import Job, JobRunner
from .manifest import Manifest, same_corpus
from .model_profiles import ModelConfig
from .paper import Paper
from .progress import Progress
from .serving import Serving
from .settings import Settings
from .snapshot import Snapshot
from .store import PaperStore
from .terms_cache import TermsCache
from .versions import VersionInfo, VersionStore, exclusive_lock, new_build_id, summary

log = logging.getLogger(__name__)


@dataclass
class PendingChanges:
    """Paper ids stored or removed since the last update job took them; ``full`` when only a full build will do."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    full: bool = False

    def note(self, added: Iterable[str], removed: Iterable[str]) -> None:
        added, removed = set(added), set(removed)
        if not added and not removed:
            self.full = True  # a change without ids: only a full build knows what it covers
        self.added = (self.added - removed) | added
        self.removed = (self.removed - added) | removed


def build_key(full: bool) -> str:
    """Jobs with equal keys do the same work (see :mod:`recommender.jobs`): a full build re-embeds everything."""
    return "build-full" if full else "build"


class Updates:
    """The versions of one index and the jobs that make new ones (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        store: PaperStore,
        versions: VersionStore,
        serving: Serving,
        encoders: Encoders,
        jobs: JobRunner,
    ) -> None:
        self.settings = settings
        self.store = store
        self.versions = versions
        self.serving = serving
        self.encoders = encoders
        self.jobs = jobs
        #: Changes stored but not yet indexed, for the next update job (see :meth:`start_update`).
        self._pending = PendingChanges()
        self._lock = threading.Lock()  # short holds only: the pending changes

    # ------------------------------------------------------------------------------------------ builds
    def build(self, *, full: bool, embeddings: Path | None, progress: Progress) -> Manifest:
        """Index every stored paper as a new version and make it current in one atomic step; a failure to
        write is a :class:`StorageError` that says which version stays current."""
        try:
            return self._build(full=full, embeddings=embeddings, progress=progress)
        except (OSError, sqlite3.Error) as error:
            reason = failure_reason(error)
            current = self.versions.current_id()
            kept = f"version {current} stays current" if current else "no version was published"
            raise StorageError(
                f"the build of index {self.settings.index_name!r} could not write to disk ({reason}); {kept}. "
                "Cached embeddings are kept: free space and build again."
            ) from error

    def _build(self, *, full: bool, embeddings: Path | None, progress: Progress) -> Manifest:
        with exclusive_lock(self.settings.index_path):
            with self._lock:  # a full build indexes what the store holds now: every pending change included
                self._pending = PendingChanges()
            # The papers stream from the store (one read transaction): never all of them in memory at once.
            with self.store.reading_all() as (count, stored):
                if not count:
                    raise IndexNotBuiltError(
                        f"index {self.settings.index_name!r} has no papers; run `recommender ingest PATH` first"
                    )
                config = self.encoders.for_build()
                cache = self.encoders.cache(config)
                if embeddings is not None:
                    cache.import_shards(embeddings)
                return self.publish(
                    lambda folder, build_id: index_papers(
                        folder,
                        Corpus(count, stored),
                        config,
                        self._loader(config),
                        build_id=build_id,
                        cache=cache,
                        terms_cache=TermsCache(self.settings.cache_path),
                        full=full,
                        index_kind=self.settings.index_kind,
                        encoder=lambda: self.encoders.facts(config),
                        progress=progress,
                    )
                )

    def _loader(self, config: ModelConfig) -> Callable[[], Embedder]:
        """The model of ``config``, loaded only when a text is missing from the embedding cache."""
        return lambda: self.encoders.embedder(config)

    def publish(self, write: Callable[[Path, str], Manifest]) -> Manifest:
        """Write a new version with ``write(folder, build_id)`` into a staging folder, publish it atomically and
        prune old versions (the caller holds the index's exclusive lock)."""
        build_id = new_build_id()
        with self.versions.staging(build_id) as folder:
            manifest = write(folder, build_id)
        self.versions.publish(build_id)
        self.versions.prune(keep=self.settings.keep_versions)
        return manifest

    # ------------------------------------------------------------------------------------------ deltas
    def _publish_delta(self, progress: Progress) -> Manifest | None:
        """Publish the pending changes as a delta version; None when a full build must do it instead (no
        ids given, no current version, another model, a version from before deltas, or the merge is due).
        The changes are taken either way: the full build that follows indexes everything the store holds."""
        with self._lock:
            pending, self._pending = self._pending, PendingChanges()
        if pending.full or not (pending.added or pending.removed):
            return None
        try:
            with exclusive_lock(self.settings.index_path):
                return self._write_delta(pending, progress)
        except Exception:
            log.exception("adding papers as a delta version failed; building the whole index instead")
            return None

    def _write_delta(self, pending: PendingChanges, progress: Progress) -> Manifest | None:
        current = self.serving.current(required=False)
        if current is None or current.manifest.build_id != self.versions.current_id():
            return None
        base = current.base or current
        config = self.encoders.for_build()
        if not base.manifest.bm25 or config.name != base.manifest.model:
            return None
        if config.settings() != base.manifest.embedding_config().settings():
            return None
        added, removed = self._changes(current, pending)
        if not added and not removed:
            return current.manifest
        changing = {paper.id for paper in added} | removed
        in_delta = sum(1 for paper_id in changing if current.row_of.get(paper_id, -1) >= current.delta_start)
        if current.size - current.delta_start - in_delta + len(added) > delta_limit(base.size):
            return None  # the merge: a full build folds the delta into a new base
        return self.publish(
            lambda folder, build_id: index_delta(
                folder,
                current,
                added,
                removed,
                config,
                self._loader(config),
                build_id=build_id,
                cache=self.encoders.cache(config),
                terms_cache=TermsCache(self.settings.cache_path),
                progress=progress,
            )
        )

    def _changes(self, current: Snapshot, pending: PendingChanges) -> tuple[list[Paper], set[str]]:
        """The stored papers that ``current`` lacks or holds in another form, and the ids it must drop (removed,
        or added and deleted since)."""
        stored = self.store.resolve_many(sorted(pending.added))
        added = []
        for paper_id, paper in stored.items():
            if paper is None or paper.id != paper_id:
                continue
            row = current.row_of.get(paper.id)
            if row is None or paper != current.papers[row]:
                added.append(paper)
        gone = pending.removed | {paper_id for paper_id, paper in stored.items() if paper is None}
        kept = {paper.id for paper in added}
        return added, {paper_id for paper_id in gone if paper_id in current.row_of and paper_id not in kept}

    # -------------------------------------------------------------------------------- background jobs
    def start_rebuild(self, *, full: bool) -> Job:
        """A background build; queries keep using the current version until the new one is loaded."""
        with self._lock:
            self._pending.full = True
        work = lambda progress: self._build_and_load(progress, full=full)  # noqa: E731
        return self.jobs.submit("rebuild", work, merge_key=build_key(full))

    def start_update(self, kind: str, *, added: Iterable[str], removed: Iterable[str]) -> Job:
        """A background update covering ``added`` and ``removed`` (a delta, else a full build). An update and
        a plain rebuild share one queue slot (see :mod:`recommender.jobs`): a queued one absorbs this request,
        and the changes it must cover are collected here until a job takes them."""
        with self._lock:
            self._pending.note(added, removed)
        return self.jobs.submit(kind, lambda progress: self._build_and_load(progress), merge_key=build_key(False))

    def _build_and_load(self, progress: Progress, *, full: bool = False) -> dict[str, Any]:
        """Build, then load the new version in this (background) thread so no request waits for the load."""
        self.serving.building.set()
        try:
            manifest = None if full else self._publish_delta(progress)
            if manifest is None:
                manifest = self.build(full=full, embeddings=None, progress=progress)
        finally:
            self.serving.building.clear()
        with progress.step("load", total=1) as step:
            self.serving.current()
            step.advance()
        return summary(manifest)

    def pending_changes(self) -> bool:
        """Whether the store holds papers (or edits, or deletions) that the current version does not."""
        if self.store.count() == 0:
            return False
        try:
            current = self.versions.current_path()
            if current is None:
                return True
            indexed = Manifest.read(current).corpus_hash
        except (IndexCorruptError, IndexMismatchError):
            return True
        return not same_corpus(indexed, self.store.text_hashes())

    # ---------------------------------------------------------------------------------------- versions
    def list_versions(self) -> list[VersionInfo]:
        """Every kept version, oldest first, with its manifest and whether it is current."""
        current = self.versions.current_id()
        listed = []
        for build_id in self.versions.build_ids():
            try:
                manifest = Manifest.read(self.versions.path(build_id))
                manifest.check_files(self.versions.path(build_id))
            except (IndexCorruptError, IndexMismatchError) as error:
                listed.append(VersionInfo(build_id, build_id == current, problem=error.message))
            else:
                listed.append(VersionInfo(build_id, build_id == current, manifest))
        return listed

    def rollback(self, to: str | None) -> Manifest:
        """Make ``to`` current again, else the newest version older than the current one; the target is
        loaded and checked first."""
        with exclusive_lock(self.settings.index_path):
            kept = self.versions.build_ids()
            current = self.versions.current_id()
            if current not in kept:
                current = None  # CURRENT is damaged or names a removed version: every kept one is "older"
            if to is None:
                older = [build_id for build_id in kept if current is None or build_id < current]
                if not older:
                    raise NotFoundError(
                        f"index {self.settings.index_name!r} has no version older than the current one to go back to"
                    )
                to = older[-1]
            if to not in kept:
                raise NotFoundError(f"no version {to!r}; see `recommender versions`")
            snapshot = self.serving.load_version(to)
            snapshot.manifest.check_files(self.versions.path(to), checksums=True)
            self.versions.publish(to)
            self.serving.switch_to(snapshot)
        return snapshot.manifest
