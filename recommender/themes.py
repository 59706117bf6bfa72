"""Themes: clustering a literature into named groups, with scikit-learn, on the related-papers graph.

What is clustered is the graph of each paper's most related papers (dense + BM25 fused, exactly as
``related`` ranks them; see :func:`recommender.retrieval.neighbour_graph`), so themes agree with "related
papers" and inherit both signals: the embedding's sense of clinical topic and the lexical index's gene, pathway
and process terms. Measured in ``scripts/bench_themes.py``: on Ohsumed this graph clusters as well as the
dense-only graph, on PubMedQA MeSH topics better than either signal alone, and far better than KMeans on
TF-IDF or on raw embeddings.

:class:`ThemeModel` follows the scikit-learn estimator contract (``__init__`` stores parameters, ``fit``
returns ``self``, learned attributes end in ``_``). Methods, on the graph's spectral embedding:
``spectral`` (KMeans on it: spectral clustering, the default), ``agglomerative`` (Ward) and ``hdbscan``
(density-based: papers that fit no theme get label -1 instead of being forced into one); ``kmeans`` clusters
the embeddings directly (MiniBatch for large corpora). Without ``n_themes``, k is chosen by the best
silhouette over a bounded range (from ``min_themes``, one more per 1,000 papers up to 10, to ``max_themes``),
never accepting themes of fewer than ``min_theme_size`` papers.

Labels come from class-based TF-IDF over the index's stemmed words and phrases: terms most papers of the theme
use and few papers outside it do, abstract boilerplate excluded, shown in the papers' own spelling.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import linkage
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.manifold import spectral_embedding
from sklearn.metrics import silhouette_score
from sklearn.neighbors import kneighbors_graph

from .tokenizer import BOILERPLATE, BOILERPLATE_TERMS, STOPWORDS, common_spellings, display, index_terms, segments, stem

METHODS = ("spectral", "kmeans", "agglomerative", "hdbscan")
NOISE = -1
# Labels also skip generic biology that names no theme on its own.
GENERIC_WORDS = "cells cell human expression activity activation regulation regulated induced promote promotes promoted"
LABEL_STOPWORDS = STOPWORDS | BOILERPLATE | frozenset(GENERIC_WORDS.split())
_LABEL_SKIP_TERMS = BOILERPLATE_TERMS | frozenset(stem(word) for word in GENERIC_WORDS.split())


@dataclass
class Theme:
    """One theme: label, distinctive terms, and member rows sorted by closeness to the centre."""

    theme_id: int
    label: str
    terms: list[str]
    rows: list[int]


def neighbours_for(n_papers: int) -> int:
    """Neighbours per paper in the theme graph: 15, fewer for small corpora so groups stay separable."""
    return max(1, min(15, n_papers // 4))


def affinity(graph: sparse.spmatrix) -> sparse.csr_matrix:
    """Symmetric affinity from a k-nearest-neighbour graph: 1 for mutual neighbours, 0.5 for one-sided."""
    binary = sparse.csr_matrix(graph, dtype=np.float64, copy=True)
    binary.data[:] = 1.0
    return (0.5 * (binary + binary.T)).tocsr()


class ThemeModel:
    """Cluster papers into themes and describe them."""

    def __init__(
        self,
        n_themes: int | None = None,
        *,
        method: str = "spectral",
        min_themes: int = 2,
        max_themes: int = 15,
        min_theme_size: int = 2,
        n_terms: int = 8,
        random_state: int = 0,
    ) -> None:
        self.n_themes = n_themes
        self.method = method
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.min_theme_size = min_theme_size
        self.n_terms = n_terms
        self.random_state = random_state

    # ------------------------------------------------------------------------------------------- fit
    def fit(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str],
        *,
        graph: sparse.spmatrix | None = None,
        term_matrix: sparse.spmatrix | None = None,
        vocabulary: Sequence[str] | None = None,
    ) -> ThemeModel:
        """Learn ``labels_`` (-1: no theme), ``n_themes_``, ``themes_``, ``centroids_``, ``similarity_``,
        ``hierarchy_``, ``coordinates_`` (a 2-D map) and ``silhouette_`` (when k was chosen).

        ``graph`` is the related-papers graph (a cosine kNN graph of the embeddings if not given);
        ``term_matrix`` (papers × terms, nonzero where a paper uses a term) and ``vocabulary`` give the terms
        for labels (counted from ``texts`` if not given).
        """
        vectors = np.asarray(embeddings, dtype=np.float32)
        n = len(vectors)
        if n != len(texts):
            raise ValueError("embeddings and texts must have the same length")
        if n == 0:
            raise ValueError("cannot find themes in an empty corpus")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.n_themes is not None and not 1 <= self.n_themes <= n:
            raise ValueError(f"the number of themes must be between 1 and the number of papers ({n})")
        self.silhouette_: float | None = None
        if graph is None and n > 1:
            graph = kneighbors_graph(vectors, neighbours_for(n), metric="cosine", include_self=False)
        self._vectors = vectors
        self.representation_ = self._representation(vectors, graph)
        k = self.n_themes if self.n_themes is not None else self._choose_k()
        self.labels_ = self._number_by_size(self._cluster(k))
        self.n_themes_ = int(self.labels_.max()) + 1 if (self.labels_ >= 0).any() else 0
        self._describe(vectors, texts, term_matrix, vocabulary)
        return self

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """The nearest theme centre for each new paper (incremental assignment, no re-clustering)."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        if not len(self.centroids_):
            return np.full(len(vectors), NOISE)
        return np.argmax(vectors @ self.centroids_.T, axis=1)

    # ------------------------------------------------------------------------------------ clustering
    def _representation(self, vectors: np.ndarray, graph: sparse.spmatrix | None) -> np.ndarray:
        """What the clusterer sees: the embeddings for ``kmeans``, else the graph's spectral embedding."""
        n = len(vectors)
        if self.method == "kmeans" or graph is None or n < 3:
            return vectors
        dimensions = min(n - 1, max(self.max_themes, self.n_themes or 0) + 1)
        # Algebraic multigrid solves large graphs in seconds where ARPACK's shift-invert factorisation takes
        # minutes (scripts/bench_themes.py: 2.9 s for 20,000 papers); small graphs use the exact default.
        solver = "amg" if n > 2000 else None
        with warnings.catch_warnings():  # separate groups of papers are expected, not a problem
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            warnings.filterwarnings("ignore", message="Exited")  # lobpcg within 2e-4 of its tolerance is plenty
            embedded = spectral_embedding(
                affinity(graph),
                n_components=dimensions,
                eigen_solver=solver,
                random_state=self.random_state,
                drop_first=False,
            )
        norms = np.linalg.norm(embedded, axis=1, keepdims=True)
        return embedded / np.where(norms > 0, norms, 1.0)

    def _cluster(self, k: int, *, n_init: int = 10) -> np.ndarray:
        n = len(self.representation_)
        if k <= 1 or n < 2:
            return np.zeros(n, dtype=np.int64)
        space = self.representation_
        if self.method != "kmeans":
            space = space[:, : max(k, 2)]
            norms = np.linalg.norm(space, axis=1, keepdims=True)
            space = space / np.where(norms > 0, norms, 1.0)
        if self.method == "agglomerative":
            return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(space)
        if self.method == "hdbscan":
            size = max(self.min_theme_size, n // (4 * k))
            return HDBSCAN(min_cluster_size=size, copy=True).fit_predict(space)
        if self.method == "kmeans" and n > 10000:
            return MiniBatchKMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit_predict(space)
        return KMeans(n_clusters=k, n_init=n_init, random_state=self.random_state).fit_predict(space)

    def _choose_k(self) -> int:
        """Best silhouette over k in [min_themes, max_themes]; themes smaller than min_theme_size disqualify.

        Silhouettes are measured on the embeddings (cosine) for every k: in the spectral space, whose useful
        dimensions grow with k, they would not compare across k."""
        n = len(self.representation_)
        upper = min(self.max_themes, n // max(self.min_theme_size, 1), n - 1)
        best_k, best_score = 1, -1.0
        sample = min(n, 2000)
        for k in range(min(self.smallest_k(n), upper), upper + 1):
            labels = self._cluster(k, n_init=3)
            assigned = labels[labels >= 0]
            sizes = np.bincount(assigned) if len(assigned) else np.array([])
            if len(sizes) < 2 or sizes.min() < self.min_theme_size or len(set(assigned.tolist())) < 2:
                continue
            space = self._vectors  # the embeddings: one space for every k and method, so scores compare
            mask = labels >= 0
            score = float(
                silhouette_score(
                    space[mask], labels[mask], metric="cosine", sample_size=min(sample, int(mask.sum())),
                    random_state=self.random_state,
                )
            )  # fmt: skip
            if score > best_score + 1e-9:
                best_k, best_score = k, score
        self.silhouette_ = best_score if best_k > 1 else None
        return best_k

    def smallest_k(self, n: int) -> int:
        """The fewest themes worth proposing: ``min_themes``, rising with corpus size (one per 1,000 papers,
        up to 10): silhouette favours the coarsest split, and two themes for 20,000 papers map nothing."""
        return max(self.min_themes, min(10, n // 1000))

    @staticmethod
    def _number_by_size(labels: np.ndarray) -> np.ndarray:
        """Renumber themes largest first (ties: earliest paper first) so output order is reproducible."""
        labels = np.asarray(labels, dtype=np.int64)
        sizes = Counter(labels[labels >= 0].tolist())
        first = {label: int(np.argmax(labels == label)) for label in sizes}
        order = sorted(sizes, key=lambda label: (-sizes[label], first[label]))
        remap = {old: new for new, old in enumerate(order)}
        return np.array([remap.get(label, NOISE) for label in labels], dtype=np.int64)

    # ------------------------------------------------------------------------------------ description
    def _describe(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        term_matrix: sparse.spmatrix | None,
        vocabulary: Sequence[str] | None,
    ) -> None:
        k = self.n_themes_
        centroids = []
        for theme_id in range(k):
            centre = vectors[self.labels_ == theme_id].mean(axis=0)
            centroids.append(centre / max(float(np.linalg.norm(centre)), 1e-12))
        self.centroids_ = np.array(centroids, dtype=np.float32).reshape(k, vectors.shape[1])
        if term_matrix is None or vocabulary is None:
            term_matrix, vocabulary = _term_matrix(texts)
        terms = class_terms(term_matrix, vocabulary, self.labels_, k, self.n_terms)
        self.themes_ = []
        for theme_id in range(k):
            rows = np.flatnonzero(self.labels_ == theme_id)
            closeness = vectors[rows] @ self.centroids_[theme_id]
            ordered = [int(row) for row in rows[np.argsort(-closeness, kind="stable")]]
            forms = common_spellings(texts[row] for row in ordered[:30])
            shown = [display(term, forms) for term in terms[theme_id]]
            self.themes_.append(Theme(theme_id, make_label(shown), shown, ordered))
        self.unassigned_ = [int(row) for row in np.flatnonzero(self.labels_ == NOISE)]
        self.similarity_ = self.centroids_ @ self.centroids_.T if k else np.zeros((0, 0))
        self.hierarchy_ = _hierarchy(self.centroids_)
        self.coordinates_ = _map(self.representation_, self.random_state)


def _term_matrix(texts: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """Papers × index terms (stemmed words and phrases), for corpora given as texts only."""
    vectorizer = CountVectorizer(analyzer=index_terms, binary=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no usable term at all
        return sparse.csr_matrix((len(texts), 0)), []
    return matrix, list(vectorizer.get_feature_names_out())


def class_terms(
    term_matrix: sparse.spmatrix, vocabulary: Sequence[str], labels: np.ndarray, k: int, n_terms: int
) -> list[list[str]]:
    """Class-based TF-IDF: coverage (share of the theme's papers using the term) × exclusivity (share of the
    term's papers inside the theme) × IDF × (1 + how strongly those papers use it, from the term matrix's
    weights); boilerplate never labels a theme."""
    weights_in_papers = sparse.csr_matrix(term_matrix, dtype=np.float64)
    presence = weights_in_papers.copy()
    presence.data[:] = 1.0
    n, n_vocabulary = presence.shape
    if k == 0 or n_vocabulary == 0:
        return [[] for _ in range(k)]
    assigned = np.flatnonzero(labels >= 0)
    membership = sparse.csr_matrix(
        (np.ones(len(assigned)), (labels[assigned], assigned)), shape=(k, n)
    )  # fmt: skip
    class_docs = (membership @ presence).toarray()
    # How strongly the theme's papers use the term (BM25 weights grow with repetition): the "TF" of c-TF-IDF.
    strength = np.log1p((membership @ weights_in_papers).toarray() / np.maximum(class_docs, 1.0))
    doc_freq = np.asarray(presence.sum(axis=0)).ravel()
    sizes = np.bincount(labels[assigned], minlength=k).astype(np.float64)[:, None]
    coverage = class_docs / np.maximum(sizes, 1.0)
    exclusivity = class_docs / np.maximum(doc_freq, 1.0)
    idf = np.log1p(n / np.maximum(doc_freq, 1.0))
    usable = np.array([not _LABEL_SKIP_TERMS.intersection(term.split()) for term in vocabulary])
    weights = coverage * exclusivity * idf * (1.0 + strength) * usable
    result = []
    for row in weights:
        order = np.argsort(-row, kind="stable")
        result.append(_dedupe([str(vocabulary[i]) for i in order[: n_terms * 3] if row[i] > 0])[:n_terms])
    return result


def label_analyzer(text: str) -> list[str]:
    """Unigrams and adjacent-word bigrams, lower-cased, without stop or boilerplate words (unstemmed).

    Bigrams are formed only from words adjacent in the text and not separated by punctuation, so
    "resistance of cells" and "fibroblasts (CAFs)" yield no bigram.
    """
    grams: list[str] = []
    pairs: list[str] = []
    for run in segments(text):
        words = [word.lower() for word in run]
        keep = [len(w) > 1 and not w.replace(".", "").isdigit() and w not in LABEL_STOPWORDS for w in words]
        grams.extend(word for word, ok in zip(words, keep, strict=True) if ok)
        pairs.extend(
            f"{a} {b}" for a, b, ok_a, ok_b in zip(words, words[1:], keep, keep[1:], strict=False) if ok_a and ok_b
        )
    return grams + pairs


def _dedupe(terms: list[str]) -> list[str]:
    """Merge overlapping terms: a bigram takes the place of the unigrams it contains ("anoikis" +
    "anoikis resistance" → "anoikis resistance"); a unigram already said by a chosen bigram is skipped, and so
    is a part of a hyphenated symbol that is itself a candidate ("hif" beside "hif-1alpha")."""
    compound_parts = {part for term in terms for word in term.split() if "-" in word for part in word.split("-")}
    chosen: list[str] = []
    for term in terms:
        words = term.split()
        if len(words) == 1:
            if term not in compound_parts and not any(term in other.split() for other in chosen):
                chosen.append(term)
            continue
        inside = [i for i, other in enumerate(chosen) if other in words]
        if inside:
            chosen[inside[0]] = term
            chosen = [other for i, other in enumerate(chosen) if i not in inside[1:]]
        elif term not in chosen:
            chosen.append(term)
    return chosen


def make_label(terms: Sequence[str], size: int = 3) -> str:
    """A short label: the top distinctive terms, joined."""
    return ", ".join(terms[:size]) if terms else "(no distinctive terms)"


def _hierarchy(centroids: np.ndarray) -> list[dict[str, float | int]]:
    """Which themes merge first (average linkage on centre cosine distance), scipy's linkage order.

    Ids below k are themes; id k+i is the group formed by merge i.
    """
    if len(centroids) < 2:
        return []
    merges = linkage(centroids, method="average", metric="cosine")
    return [{"left": int(a), "right": int(b), "distance": round(float(d), 4), "size": int(s)} for a, b, d, s in merges]


def _map(representation: np.ndarray, random_state: int) -> np.ndarray:
    """2-D coordinates for the theme map: the first two principal components of the clustered space."""
    n = len(representation)
    if n < 3:
        return np.zeros((n, 2))
    components = PCA(n_components=2, random_state=random_state).fit_transform(representation)
    return np.asarray(components, dtype=np.float64)
