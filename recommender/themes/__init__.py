"""Themes: a literature clustered into named groups, on the related-papers graph fused with a lexical view.

One module a concept: :mod:`.views` (the two views and their per-corpus weight), :mod:`.model` (the estimator),
:mod:`.labels` (the label rule), :mod:`.guided` (named themes), :mod:`.timeline` (themes over time),
:mod:`.matching` (old themes to new after a refit), :mod:`.map` (the fitted map kept with an index),
:mod:`.report` (shareable reports) and :mod:`.fitting` (the workflow the façade delegates to).
"""

from .guided import SeedThemes
from .map import ThemeMap
from .model import METHODS, NOISE, Theme, ThemeModel, neighbours_for

__all__ = ["METHODS", "NOISE", "SeedThemes", "Theme", "ThemeMap", "ThemeModel", "neighbours_for"]
