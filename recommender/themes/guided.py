"""Guided themes: themes the researcher names ("anoikis resistance", "CAF IL-6 STAT3 signalling").

How well a paper fits a named theme is measured on both views, each on a 0–1 scale, and averaged:

- **words**: the share of the name's terms the paper uses, each term weighted by its IDF in this corpus (a
  paper about "anoikis resistance" uses both words and the phrase: 1.0; a paper on insulin resistance uses only
  the common word: 0.25);
- **meaning**: how far the paper's embedding stands above the corpus's typical paper in cosine similarity to
  the embedded name, in robust standard deviations (median and MAD), reaching 1 at :data:`DENSE_Z_FULL`.

A paper **fits** a named theme when its fit is at least :data:`FIT_CORE` (0.5: half of the full evidence, e.g.
every word of the name, or most of them and a clear likeness in meaning) and no other named theme fits it
better. The rest of the corpus is clustered as usual; then a paper that fits a named theme at least weakly
(:data:`FIT_WEAK`) moves there if it is closer to that theme's centre than to its discovered theme's centre, and
at least half as close to it as the theme's founding papers are.
Papers that fit a name only weakly are therefore never pulled out of a discovered theme that suits them better,
and a name no paper fits gives an empty theme, reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..checks import MAX_SEED_THEMES as MAX_SEED_THEMES  # named here too, for the web schemas
from ..checks import MAX_THEME_NAME_CHARS
from .views import LexicalView, unit_centres

#: Fit (0–1) a paper needs to found a named theme, and to be moved into one from a discovered theme.
FIT_CORE = 0.5
FIT_WEAK = 0.2
#: How close to a named theme's centre a weakly fitting paper must be, relative to the theme's least close
#: founding paper, to move there.
MIN_CLOSENESS = 0.5
#: Robust z-score of the dense similarity that counts as full evidence of meaning.
DENSE_Z_FULL = 6.0
#: Smallest robust spread of dense similarities (guards tiny or uniform corpora against dividing by ~0).
MIN_SPREAD = 0.03
#: Longest name of a named theme (characters) and the most names per request (checked before any fit).
MAX_NAME_LENGTH = MAX_THEME_NAME_CHARS


@dataclass(frozen=True)
class SeedThemes:
    """Named themes: their names, the names' embeddings (encoded as queries) and index terms."""

    names: tuple[str, ...]
    vectors: np.ndarray
    terms: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.names)


def word_coverage(view: LexicalView | None, terms: Sequence[Sequence[str]], n_papers: int) -> np.ndarray:
    """Papers × names: the IDF-weighted share of each name's terms that the paper uses."""
    coverage = np.zeros((n_papers, len(terms)))
    if view is None:
        return coverage
    column = {term: i for i, term in enumerate(view.vocabulary)}
    idf = view.vectorizer.idf_
    presence = view.presence.tocsc()
    for j, name_terms in enumerate(terms):
        known = [column[term] for term in dict.fromkeys(name_terms) if term in column]
        if not known:
            continue
        weights = idf[known]
        coverage[:, j] = np.asarray(presence[:, known] @ weights).ravel() / weights.sum()
    return coverage


def dense_evidence(embeddings: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Papers × names: robust z-score of each paper's cosine to the name, scaled to 0–1."""
    similarity = np.asarray(embeddings, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T
    median = np.median(similarity, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(similarity - median), axis=0), MIN_SPREAD)
    return np.clip((similarity - median) / spread / DENSE_Z_FULL, 0.0, 1.0)


def seed_fit(embeddings: np.ndarray, view: LexicalView | None, seeds: SeedThemes) -> np.ndarray:
    """Papers × names: how well each paper fits each named theme (0–1; see the module docstring)."""
    words = word_coverage(view, seeds.terms, len(embeddings))
    meaning = dense_evidence(embeddings, seeds.vectors)
    return 0.5 * words + 0.5 * meaning


def core_members(fit: np.ndarray) -> np.ndarray:
    """For each paper, the named theme it founds (its best fit, when at least :data:`FIT_CORE`), else -1."""
    if fit.shape[1] == 0:
        return np.full(len(fit), -1)
    best = np.argmax(fit, axis=1)
    return np.where(fit[np.arange(len(fit)), best] >= FIT_CORE, best, -1)


def pull_weak_members(
    space: np.ndarray, labels: np.ndarray, n_seeds: int, fit: np.ndarray, core: np.ndarray
) -> np.ndarray:
    """Move papers that fit a named theme at least weakly into it when they are closer to its centre than to
    their discovered theme's centre (or have no theme) and at least :data:`MIN_CLOSENESS` as close to it as its
    founding papers are. Theme ids below ``n_seeds`` are the named themes."""
    labels = labels.copy()
    centres = unit_centres(space, labels, int(labels.max()) + 1 if (labels >= 0).any() else 0)
    best = np.argmax(fit, axis=1) if fit.shape[1] else np.zeros(len(fit), dtype=int)
    founders = {
        seed: float(np.min(space[core == seed] @ centres[seed])) if (core == seed).any() else 0.0
        for seed in range(min(n_seeds, len(centres)))
    }
    for row in np.flatnonzero(core < 0):
        seed = int(best[row])
        if fit[row, seed] < FIT_WEAK or seed >= len(centres) or not np.any(centres[seed]):
            continue
        own = labels[row]
        here = float(space[row] @ centres[own]) if own >= 0 else -np.inf
        there = float(space[row] @ centres[seed])
        if there > here and there >= MIN_CLOSENESS * founders[seed]:
            labels[row] = seed
    return labels
