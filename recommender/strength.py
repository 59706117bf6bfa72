"""How strong a match is: a calibrated probability that a hit is relevant, and a word for it.

A fused score ranks well but means nothing on its own: it is comparable within one result list only, and the
tenth hit of a query with three relevant papers looks like the tenth hit of a query with fifty. So each hit
also gets the probability that a reader would judge it relevant, from the two parts of its score, by a
logistic model fitted on labelled corpora (``scripts/calibrate_strength.py`` prints the fit and its
reliability on held-out queries):

- ``dense``: the cosine of the hit with the query, as a z-score against the cosines of random pairs of papers
  in the same index (:attr:`recommender.snapshot.Snapshot.similarity_baseline`), so that it means the same
  for any model and corpus ("far more similar than two papers picked at random");
- ``lexical``: the hit's BM25 score as a share of the most the query's terms could give (0-1).

Text queries (questions, claims) are calibrated on SciFact's training claims; paper queries (a paper, example
papers, a pasted abstract) on PubMedQA papers, relevant when they share a specific MeSH descriptor. The
probability is then named: ``strong`` (at least :data:`STRONG`), ``related`` (at least :data:`RELATED`),
``weak`` below: a list that turns weak says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Probability thresholds of the named strengths.
STRONG = 0.5
RELATED = 0.2
LEVELS = ("strong", "related", "weak")


@dataclass(frozen=True)
class Calibration:
    """Logistic coefficients: probability = sigmoid(intercept + dense * z + lexical * share)."""

    intercept: float
    dense: float
    lexical: float

    def probability(self, dense_z: float, lexical_share: float) -> float:
        logit = self.intercept + self.dense * dense_z + self.lexical * min(max(lexical_share, 0.0), 1.0)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))


#: Fitted by ``scripts/calibrate_strength.py`` with the bundled model (see the README for the reliability).
CALIBRATIONS = {
    "text": Calibration(intercept=-7.768, dense=1.032, lexical=7.907),
    "paper": Calibration(intercept=-2.656, dense=0.733, lexical=9.568),
}


def level(probability: float) -> str:
    """The named strength of a probability."""
    if probability >= STRONG:
        return "strong"
    if probability >= RELATED:
        return "related"
    return "weak"


def check_level(name: str) -> str:
    """A strength name given by a user, or ValueError naming the choices."""
    if name not in LEVELS:
        raise ValueError(f"unknown strength {name!r}; choose one of {', '.join(LEVELS)}")
    return name


def at_least(name: str, wanted: str) -> bool:
    """Whether strength ``name`` is ``wanted`` or stronger."""
    return LEVELS.index(name) <= LEVELS.index(wanted)
