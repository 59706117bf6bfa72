"""Ingest: turning files in any supported format into normalised :class:`~recommender.paper.Paper` records.

:func:`read_paths` (in :mod:`.reading`) expands folders and globs, recognises each file's format from its
content (:mod:`.detect`) and streams ``(source, position, Paper | Rejected)`` from the matching reader; readers
never raise on bad content, they yield a :class:`Rejected` with the reason.

The names below are imported on first use (PEP 562): the readers bring bs4, lxml, rdflib and pypdf, which a
command that only looks up field names or identifiers (``recommender related``, ``collection``) must not load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ imports them
    from .reading import MAX_PAGE_BYTES as MAX_PAGE_BYTES
    from .reading import MAX_PDF_BYTES as MAX_PDF_BYTES
    from .reading import READERS as READERS
    from .reading import expand_paths, read_file, read_paths, read_records
    from .records import RawRecord, Rejected

_LAZY = {
    "RawRecord": ".records",
    "Rejected": ".records",
    "expand_paths": ".reading",
    "read_file": ".reading",
    "read_paths": ".reading",
    "read_records": ".reading",
    "READERS": ".reading",
    "MAX_PAGE_BYTES": ".reading",
    "MAX_PDF_BYTES": ".reading",
}

__all__ = ["RawRecord", "Rejected", "expand_paths", "read_file", "read_paths", "read_records"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
