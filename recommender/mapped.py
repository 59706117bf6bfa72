"""Files read through memory maps for random access: only the pages a query touches become resident.

Why: the big parts of a version (vectors, BM25 postings, records) are read a few rows at a time. Mapped
rather than loaded, they cost no anonymous memory and no load time, and the kernel may drop their pages under
pressure (they stay in the page cache for the next reader, or the next ``serve`` process on the same folder).
The kernel's default read-ahead would fault in up to a few hundred kilobytes around every row read; random
access advice keeps the resident set to what was read.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np

#: Bytes scanned for newlines at a time (bounds the scan's temporary arrays).
SCAN_CHUNK = 1 << 26


def advise_random(buffer: Any) -> None:
    """Ask the kernel not to read ahead around each access (a no-op where ``madvise`` is missing)."""
    advise = getattr(buffer, "madvise", None)
    if advise is not None and hasattr(mmap, "MADV_RANDOM"):
        advise(mmap.MADV_RANDOM)


def release(buffer: Any) -> None:
    """Drop this process's resident pages of a mapping after a sequential pass (the page cache keeps them)."""
    advise = getattr(buffer, "madvise", None)
    if advise is not None and hasattr(mmap, "MADV_DONTNEED"):
        advise(mmap.MADV_DONTNEED)


def map_array(path: Path) -> np.ndarray:
    """A ``.npy`` array memory-mapped read-only, advised for random access."""
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    advise_random(getattr(array, "_mmap", None))  # numpy keeps the mmap object of a memmap there
    return array


def line_bounds(buffer: Any) -> np.ndarray:
    """The start of every line and the end of the last (``n + 1`` offsets) of a JSON-lines buffer.

    A final line without its newline still counts; blank lines are not expected (our writers never make
    them) and show up as unreadable records."""
    data = np.frombuffer(buffer, dtype=np.uint8) if len(buffer) else np.zeros(0, dtype=np.uint8)
    ends = [np.flatnonzero(data[start : start + SCAN_CHUNK] == 10) + start for start in range(0, len(data), SCAN_CHUNK)]
    newlines = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
    bounds = np.concatenate(([0], newlines + 1)).astype(np.int64)
    if len(data) and (not len(newlines) or newlines[-1] != len(data) - 1):
        bounds = np.append(bounds, len(data))
    return bounds


def map_lines(path: Path) -> tuple[Any, np.ndarray]:
    """A text file of lines mapped read-only, and its :func:`line_bounds`. The scan touches every page once;
    they are given back afterwards, and later reads fault in only the lines they read."""
    with path.open("rb") as handle:
        if not path.stat().st_size:
            return b"", np.zeros(1, dtype=np.int64)  # an empty file cannot be mapped
        buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    bounds = line_bounds(buffer)
    release(buffer)
    advise_random(buffer)
    return buffer, bounds
