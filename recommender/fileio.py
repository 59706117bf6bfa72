"""Writes that readers never see half done: a temporary file beside the target, flushed to disk, renamed over it.

One rule for every file the program publishes (the ``CURRENT`` pointer, fitted themes, fetched PubMed batches,
exports, server announcements, Ray shard manifests, the backend choice): ``os.replace`` within one folder is
atomic, so a reader sees the old content or the new, and a crash leaves at most a dot-named temporary file. The
data is fsynced before the rename and the folder after it, so a power cut cannot publish an empty file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, TextIO, cast


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(folder: Path) -> None:
    """Flush every file and the folder itself, so a rename publishes data that is really on disk."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def temporary_beside(path: Path) -> Path:
    """A fresh dot-named temporary path in ``path``'s folder: same file system (so the rename is atomic), unique
    (concurrent writers do not share it), hidden from globs such as ``*.xml``. Not ``tempfile.mkstemp``: its 0600
    mode would leave finished files unreadable to other users."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def _replacing(path: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """A handle on a fresh temporary file that replaces ``path`` if the block finishes without error."""
    temporary = temporary_beside(path)
    try:
        with temporary.open(mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_dir(path.parent)


def atomic_writer(path: Path, *, newline: str | None = None) -> AbstractContextManager[TextIO]:
    """Write text to ``path`` through a handle; ``path`` changes only if the block finishes without error."""
    return cast("AbstractContextManager[TextIO]", _replacing(path, "x", encoding="utf-8", newline=newline))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old content or the new one, never a mix."""
    with _replacing(path, "xb") as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
