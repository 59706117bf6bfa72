"""Index versions on disk and the atomic switch between them.

Layout of one index folder::

    indexes/NAME/
        papers.sqlite          the paper store (see store.py)
        versions/<build-id>/   one complete built version each (manifest.json + data files)
        CURRENT                the build id readers use

A build writes into ``versions/.tmp-<id>/``, fsyncs, renames the folder to ``versions/<id>/`` and only then
replaces ``CURRENT`` (write to a temporary file + ``os.replace``, atomic on POSIX). A crash at any moment
leaves ``CURRENT`` naming a complete version; leftover temporary folders are ignored and cleaned later.
The previous version is kept so a rollback is possible.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import BusyError, IndexCorruptError
from .fileio import atomic_write_text, fsync_dir, fsync_tree
from .manifest import Manifest

CURRENT = "CURRENT"
VERSIONS = "versions"
_TMP_PREFIX = ".tmp-"


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:6]


def summary(manifest: Manifest) -> dict[str, Any]:
    """What callers want to know about a version (the manifest minus its file list)."""
    return manifest.model_dump(exclude={"files", "model_settings"})


@dataclass(frozen=True)
class VersionInfo:
    """One kept version as ``recommender versions`` and ``GET /versions`` list it: its manifest when the
    version is usable (readable and with all its files), else why it is not."""

    id: str
    current: bool
    manifest: Manifest | None = None
    problem: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.manifest is not None else "unusable"

    def to_dict(self) -> dict[str, Any]:
        """The id, whether it is current, the manifest's facts (:func:`summary`) and ``status``, or the
        ``problem`` of an unusable version."""
        entry: dict[str, Any] = {"id": self.id, "current": self.current}
        if self.manifest is None:
            return {**entry, "status": self.status, "problem": self.problem}
        return {**entry, **summary(self.manifest), "status": self.status}


class VersionStore:
    """The built versions of one index and which of them is current."""

    def __init__(self, index_path: Path) -> None:
        self.root = Path(index_path)
        self.versions = self.root / VERSIONS

    def current_id(self) -> str | None:
        try:
            value = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return value or None

    def path(self, build_id: str) -> Path:
        return self.versions / build_id

    def current_path(self) -> Path | None:
        build_id = self.current_id()
        if build_id is None:
            return None
        folder = self.path(build_id)
        if not folder.is_dir():
            raise IndexCorruptError(f"CURRENT names version {build_id}, which does not exist; rebuild the index")
        return folder

    def build_ids(self) -> list[str]:
        if not self.versions.is_dir():
            return []
        return sorted(p.name for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(_TMP_PREFIX))

    @contextmanager
    def staging(self, build_id: str) -> Iterator[Path]:
        """A private folder to write a version into; published only if the block completes."""
        self.versions.mkdir(parents=True, exist_ok=True)
        staging = self.versions / f"{_TMP_PREFIX}{build_id}"
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_tree(staging)
        os.rename(staging, self.path(build_id))
        fsync_dir(self.versions)

    def base_of(self, build_id: str) -> str | None:
        """The full version a delta version adds to (None for a full version, or an unreadable manifest)."""
        try:
            data = json.loads((self.path(build_id) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        base = data.get("base") if isinstance(data, dict) else None
        return base if isinstance(base, str) else None

    def publish(self, build_id: str) -> None:
        """Make ``build_id`` current in one atomic step."""
        if not self.path(build_id).is_dir():
            raise IndexCorruptError(f"cannot publish missing version {build_id}")
        atomic_write_text(self.root / CURRENT, build_id + "\n")

    def prune(self, keep: int = 2) -> list[str]:
        """Delete old versions (never the current one, nor the base a kept delta version adds to) and
        abandoned staging folders."""
        current = self.current_id()
        names = self.build_ids()
        kept = set(names[-keep:] if keep else []) | ({current} if current else set())
        needed = kept | {base for name in kept if (base := self.base_of(name)) is not None}
        removed = []
        for name in names:
            if name not in needed:
                shutil.rmtree(self.path(name), ignore_errors=True)
                removed.append(name)
        if self.versions.is_dir():
            for leftover in self.versions.glob(f"{_TMP_PREFIX}*"):
                shutil.rmtree(leftover, ignore_errors=True)
        return removed


@contextmanager
def exclusive_lock(index_path: Path, what: str = "build") -> Iterator[None]:
    """One writer of versions at a time per index; a second one fails fast instead of racing."""
    index_path.mkdir(parents=True, exist_ok=True)
    with (index_path / f".{what}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(f"another {what} of index {index_path.name!r} is running; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
