"""Themes: a literature clustered into named groups, on the related-papers graph fused with a lexical view.

One module a concept: :mod:`.views` (the two views and their per-corpus weight), :mod:`.model` (the estimator),
:mod:`.labels` (the label rule), :mod:`.guided` (named themes), :mod:`.timeline` (themes over time),
:mod:`.matching` (old themes to new after a refit), :mod:`.fitted` (the fitted map kept with an index),
:mod:`.theme` (the shapes of its parts: a theme, its timeline, the hierarchy, a refit's changes),
:mod:`.report` (shareable reports), :mod:`.fitting` (the workflow) and :mod:`.maps` (the maps as requests
get them: from memory, one fit at a time, chips on result cards; what the façade delegates to).

The names below are imported on first use (PEP 562): the estimator needs scikit-learn, a 2-3 s import that
a command answering from a built index (``recommender related``) must not pay for the label rule alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ imports them
    from .fitted import FittedThemes
    from .guided import SeedThemes
    from .model import ThemeCluster, ThemeModel, neighbours_for
    from .theme import Theme

#: Clustering methods (the estimator's, :class:`.model.ThemeModel`) and the label of a paper in no theme.
METHODS = ("spectral", "kmeans", "agglomerative", "hdbscan")
NOISE = -1
#: Formats of a themes report (:mod:`.report`, which needs jinja2: named here for the CLI's and API's choices).
REPORT_FORMATS = ("html", "md", "json", "csv")
#: Report file extensions and the format each means (any other extension needs an explicit format).
REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".json": "json", ".csv": "csv"}
#: The media type of each report format (HTTP answers and the OpenAPI document).
REPORT_TYPES = {"html": "text/html", "md": "text/markdown", "json": "application/json", "csv": "text/csv"}

_LAZY = {
    "SeedThemes": ".guided",
    "FittedThemes": ".fitted",
    "Theme": ".theme",
    "ThemeCluster": ".model",
    "ThemeModel": ".model",
    "neighbours_for": ".model",
}

__all__ = [
    "METHODS",
    "NOISE",
    "REPORT_FORMATS",
    "REPORT_SUFFIXES",
    "REPORT_TYPES",
    "FittedThemes",
    "SeedThemes",
    "Theme",
    "ThemeCluster",
    "ThemeModel",
    "neighbours_for",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
