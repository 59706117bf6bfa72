"""Themes: clustering paper embeddings with scikit-learn and naming each cluster by its distinctive terms.

:class:`ThemeModel` follows the scikit-learn estimator contract: ``__init__`` only stores parameters,
:meth:`ThemeModel.fit` learns and returns ``self``, learned attributes end in ``_``. Clusters come from
KMeans on the L2-normalised embeddings (cosine geometry); when the number of themes is not given it is
chosen by the best silhouette over a bounded range. Labels come from class-based TF-IDF (c-TF-IDF, as in
BERTopic) over unigrams and bigrams of the biomedical tokenizer, with abstract boilerplate ("results",
"patients", "study") removed and terms that most papers of the theme share preferred.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from .tokenizer import BOILERPLATE, STOPWORDS, segments

# Labels also skip generic biology that names no theme on its own.
LABEL_STOPWORDS = (
    STOPWORDS
    | BOILERPLATE
    | frozenset(
        "cells cell human expression activity activation regulation regulated induced promote promotes promoted".split()
    )
)


def label_analyzer(text: str) -> list[str]:
    """Unigrams and adjacent-word bigrams, lower-cased, without stop or boilerplate words.

    Bigrams are formed only from words adjacent in the text and not separated by punctuation, so
    "resistance of cells" and "fibroblasts (CAFs)" yield no bigram.
    """
    grams: list[str] = []
    pairs: list[str] = []
    for run in segments(text):
        words = [word.lower() for word in run]
        keep = [_usable(word) for word in words]
        grams.extend(word for word, ok in zip(words, keep, strict=True) if ok)
        pairs.extend(
            f"{a} {b}" for a, b, ok_a, ok_b in zip(words, words[1:], keep, keep[1:], strict=False) if ok_a and ok_b
        )
    return grams + pairs


def _usable(word: str) -> bool:
    return len(word) > 1 and not word.replace(".", "").isdigit() and word not in LABEL_STOPWORDS


@dataclass
class Theme:
    """One theme: label, distinctive terms, and member rows sorted by closeness to the centre."""

    theme_id: int
    label: str
    terms: list[str]
    rows: list[int]


class ThemeModel:
    """Cluster embeddings into themes and label them from the papers' texts."""

    def __init__(
        self,
        n_themes: int | None = None,
        *,
        min_themes: int = 2,
        max_themes: int = 15,
        min_theme_size: int = 2,
        n_terms: int = 8,
        random_state: int = 0,
    ) -> None:
        self.n_themes = n_themes
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.min_theme_size = min_theme_size
        self.n_terms = n_terms
        self.random_state = random_state

    def fit(self, embeddings: np.ndarray, texts: Sequence[str]) -> ThemeModel:
        """Learn ``labels_``, ``n_themes_``, ``themes_`` (and ``silhouette_`` when k was chosen)."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        if len(vectors) != len(texts):
            raise ValueError("embeddings and texts must have the same length")
        if len(vectors) == 0:
            raise ValueError("cannot find themes in an empty corpus")
        if self.n_themes is not None and not 1 <= self.n_themes <= len(vectors):
            raise ValueError(f"the number of themes must be between 1 and the number of papers ({len(vectors)})")
        self.silhouette_: float | None = None
        k = self.n_themes if self.n_themes is not None else self._choose_k(vectors)
        self.labels_ = self._cluster(vectors, k)
        self.n_themes_ = int(self.labels_.max()) + 1
        self.themes_ = self._describe(vectors, texts)
        return self

    def _cluster(self, vectors: np.ndarray, k: int) -> np.ndarray:
        if k == 1:
            return np.zeros(len(vectors), dtype=np.int64)
        model = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
        labels = model.fit_predict(vectors)
        # Number themes by size (largest first), ties by first member, so output order is reproducible.
        sizes = Counter(labels.tolist())
        first = {label: int(np.argmax(labels == label)) for label in sizes}
        order = sorted(sizes, key=lambda label: (-sizes[label], first[label]))
        remap = {old: new for new, old in enumerate(order)}
        return np.array([remap[label] for label in labels], dtype=np.int64)

    def _choose_k(self, vectors: np.ndarray) -> int:
        """Best silhouette (cosine) over k in [min_themes, max_themes], capped by the corpus size.

        A k whose clustering leaves a theme with fewer than ``min_theme_size`` papers is not considered: one
        paper is not a theme, and silhouette is biased towards singletons (their score is 0 by definition).
        With no acceptable k, the corpus is one theme.
        """
        upper = min(self.max_themes, len(vectors) // max(self.min_theme_size, 1))
        best_k, best_score = 1, -1.0
        sample = min(len(vectors), 5000)
        for k in range(self.min_themes, upper + 1):
            labels = self._cluster(vectors, k)
            sizes = np.bincount(labels)
            if len(sizes) < 2 or sizes.min() < self.min_theme_size:
                continue
            score = float(
                silhouette_score(vectors, labels, metric="cosine", sample_size=sample, random_state=self.random_state)
            )
            if score > best_score + 1e-9:
                best_k, best_score = k, score
        self.silhouette_ = best_score if best_k > 1 else None
        return best_k

    def _describe(self, vectors: np.ndarray, texts: Sequence[str]) -> list[Theme]:
        terms = class_tfidf_terms(texts, self.labels_, self.n_themes_, self.n_terms)
        themes = []
        for theme_id in range(self.n_themes_):
            rows = np.flatnonzero(self.labels_ == theme_id)
            centre = vectors[rows].mean(axis=0)
            closeness = vectors[rows] @ centre
            ordered = [int(row) for row in rows[np.argsort(-closeness, kind="stable")]]
            spellings = _spellings([texts[row] for row in rows])
            shown = [display_term(term, spellings) for term in terms[theme_id]]
            themes.append(Theme(theme_id, make_label(shown), shown, ordered))
        return themes


def class_tfidf_terms(texts: Sequence[str], labels: np.ndarray, n_classes: int, n_terms: int) -> list[list[str]]:
    """Top c-TF-IDF terms per class, weighted by how many of the class's papers use each term and by how
    exclusive the term is to the class."""
    vectorizer = CountVectorizer(analyzer=label_analyzer, min_df=1)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # no usable term at all
        return [[] for _ in range(n_classes)]
    vocabulary = np.array(vectorizer.get_feature_names_out())
    membership = sparse.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(n_classes, len(labels))
    )
    class_counts = (membership @ counts).toarray().astype(np.float64)
    class_docs = (membership @ (counts > 0).astype(np.float64)).toarray()
    sizes = np.bincount(labels, minlength=n_classes).astype(np.float64)[:, None]
    term_totals = class_counts.sum(axis=0)
    average_words = class_counts.sum() / max(n_classes, 1)
    tf = class_counts / np.maximum(class_counts.sum(axis=1, keepdims=True), 1.0)
    idf = np.log1p(average_words / np.maximum(term_totals, 1.0))
    coverage = class_docs / np.maximum(sizes, 1.0)
    # Exclusivity: the share of the term's uses that fall in this class ("cancer" is everywhere in an
    # oncology corpus and names no theme; "anoikis" may belong to one).
    exclusivity = class_counts / np.maximum(term_totals, 1.0)
    weights = tf * idf * coverage * exclusivity
    result = []
    for row in weights:
        order = np.argsort(-row, kind="stable")
        result.append([str(vocabulary[i]) for i in order[: n_terms * 3] if row[i] > 0])
    return [_dedupe(terms)[:n_terms] for terms in result]


def _dedupe(terms: list[str]) -> list[str]:
    """Merge overlapping terms: a bigram takes the place of the unigrams it contains ("anoikis" +
    "anoikis resistance" → "anoikis resistance"); a unigram already said by a chosen bigram is skipped."""
    chosen: list[str] = []
    for term in terms:
        words = term.split()
        if len(words) == 1:
            if not any(term in other.split() for other in chosen):
                chosen.append(term)
            continue
        inside = [i for i, other in enumerate(chosen) if other in words]
        if inside:
            chosen[inside[0]] = term
            chosen = [other for i, other in enumerate(chosen) if i not in inside[1:]]
        elif term not in chosen:
            chosen.append(term)
    return chosen


def _spellings(texts: Sequence[str]) -> dict[str, str]:
    """Most frequent original spelling of each lower-cased word (``il-6`` → ``IL-6``)."""
    counts: dict[str, Counter[str]] = {}
    for text in texts:
        for word in (word for run in segments(text) for word in run):
            counts.setdefault(word.lower(), Counter())[word] += 1
    return {lower: counter.most_common(1)[0][0] for lower, counter in counts.items()}


def display_term(term: str, spellings: dict[str, str]) -> str:
    return " ".join(spellings.get(word, word) for word in term.split())


def make_label(terms: Sequence[str], size: int = 3) -> str:
    """A short label: the top distinctive terms, joined."""
    return ", ".join(terms[:size]) if terms else "(no distinctive terms)"
