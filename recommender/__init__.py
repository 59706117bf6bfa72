"""Find related biomedical papers and map a literature into labelled themes.

The public entry points are :class:`Library` (the Python API for notebooks and scripts, with its answers
:class:`Results` and :class:`Themes`), :class:`Recommender` (the façade every front end calls) and
:class:`Settings`.

Importing the package is cheap: the service and what it needs (numpy, FAISS, scikit-learn, the model) are
imported on first use of :class:`Recommender`, :class:`Hit` or :class:`IngestReport`, or when a
:class:`Library` is opened, so ``from recommender import Library`` takes milliseconds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import RecommenderError
from .library import Library
from .paper import Paper
from .results import Results, Themes
from .settings import Settings

if TYPE_CHECKING:  # the lazy names below (_LAZY), as the type checker sees them
    from .hit import Hit
    from .service import IngestReport, Recommender

__all__ = [
    "Hit",
    "IngestReport",
    "Library",
    "Paper",
    "Recommender",
    "RecommenderError",
    "Results",
    "Settings",
    "Themes",
]
__version__ = "0.1.0"

#: Names imported on first access (PEP 562) because their module is heavy, and where they live.
_LAZY = {"Hit": ".hit", "IngestReport": ".service", "Recommender": ".service"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
