"""The theme estimator: cluster papers into themes on the fused views, name them, place them on a map.

:class:`ThemeModel` follows the scikit-learn estimator contract (``__init__`` stores parameters, ``fit``
returns ``self``, learned attributes end in ``_``). What it clusters is the sum of two graphs (see
:mod:`.views`): the related-papers graph and the lexical (TF-IDF + SVD) neighbour graph, weighted per corpus.
Methods, on that graph's spectral embedding: ``spectral`` (KMeans on it: spectral clustering, the default),
``agglomerative`` (Ward) and ``hdbscan`` (density-based); ``kmeans`` clusters the two views side by side
directly (MiniBatch for large corpora). Without ``n_themes``, k is the one with the best silhouette (cosine, in
the fused space, so scores compare across k) between ``min_themes`` (one more per 1,000 papers, up to 10) and
``max_themes``, never accepting a theme of fewer than ``min_theme_size`` papers.

Every paper in a theme gets a **confidence**: the share of its graph neighbours (weighted) in the same theme,
times how close it is to the theme's centre relative to the theme's typical paper (capped at 1). With
``hdbscan``, papers the density clustering leaves out are given to the theme most of their neighbours are in
(their confidence says how little), unless they lie far from its centre; those stay unassigned with the reason.
Named themes (``seeds``) are founded first (:mod:`.guided`); the rest of the corpus is clustered as usual.
``previous`` (each paper's theme in an earlier map, -1 for new papers) makes a refit keep the map recognisable:
links inside earlier themes weigh double and KMeans starts from the earlier themes.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import linkage
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.manifold import spectral_embedding
from sklearn.metrics import silhouette_score

from ..symbols import symbol_share
from ..tokenizer import index_terms
from . import METHODS, NOISE  # defined in the package, which imports nothing heavy
from .guided import SeedThemes, core_members, pull_weak_members, seed_fit
from .labels import make_label, theme_terms
from .theme import Merge
from .views import (
    LexicalView,
    binary_affinity,
    concatenated,
    dense_weight,
    fused_affinity,
    knn_affinity,
    lexical_view,
    unit_centres,
)

#: How close to a theme's centre a left-out paper must be to be taken in (hdbscan, named themes), relative to
#: the theme's typical paper.
MIN_CLOSENESS = 0.5
#: The member cosine to its theme's centre that counts as typical (a quarter of the members are farther).
TYPICAL_QUANTILE = 0.25
#: How much more a link between two papers that shared a theme in the earlier map counts in a refit.
HISTORY_WEIGHT = 1.0
#: Representative texts read per theme for its label (spellings, abbreviations).
LABEL_TEXTS = 30


@dataclass
class ThemeCluster:
    """One theme as the estimator finds it: label, distinctive terms, member rows of its input (most
    representative first) and their confidence. The fitted map names papers by id instead: :class:`.theme.Theme`."""

    theme_id: int
    label: str
    terms: list[str]
    rows: list[int]
    confidence: list[float] = field(default_factory=list)
    seed: str | None = None
    #: Which tier of the label rule its terms meet: "strict", "broad" or None (see :mod:`.labels`).
    label_rule: str | None = None


def neighbours_for(n_papers: int) -> int:
    """Neighbours per paper in the theme graphs: 15, fewer for small corpora so groups stay separable."""
    return max(1, min(15, n_papers // 4))


class ThemeModel:
    """Cluster papers into themes and describe them."""

    def __init__(
        self,
        n_themes: int | None = None,
        *,
        method: str = "spectral",
        view_weight: float | None = None,
        min_themes: int = 2,
        max_themes: int = 15,
        min_theme_size: int = 2,
        n_terms: int = 8,
        random_state: int = 0,
    ) -> None:
        self.n_themes = n_themes
        self.method = method
        self.view_weight = view_weight
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
        terms: Sequence[Sequence[str]] | None = None,
        seeds: SeedThemes | None = None,
        previous: np.ndarray | None = None,
    ) -> ThemeModel:
        """Learn ``labels_`` (-1: no theme), ``confidence_``, ``n_themes_``, ``themes_``, ``centroids_`` (in
        the embedding space, for placing new papers), ``similarity_``, ``hierarchy_``, ``coordinates_`` (the
        2-D map), ``silhouette_`` (when k was chosen), ``view_weight_`` and ``symbol_share_`` (how the views
        were mixed, and why), ``unassigned_`` and ``unassigned_reasons_``.

        ``graph`` is the related-papers graph (a cosine kNN graph of the embeddings if not given); ``terms``
        are the papers' index terms (tokenised from ``texts`` if not given); ``seeds`` are named themes;
        ``previous`` warm-starts from an earlier map's themes.
        """
        vectors: np.ndarray = np.asarray(embeddings, dtype=np.float32)
        n = len(vectors)
        self._check(n, texts, seeds, previous)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
        terms = [index_terms(text) for text in texts] if terms is None else terms
        self._views(vectors, texts, terms, graph)
        self._clustering_affinity = _with_history(self.affinity_, previous)
        n_seeds = len(seeds) if seeds is not None else 0
        labels = np.full(n, NOISE, dtype=np.int64)
        fit = core = None
        if seeds is not None and n_seeds:
            fit = seed_fit(vectors, self.lexical_view_, seeds)
            core = core_members(fit)
            labels[core >= 0] = core[core >= 0]
        self.silhouette_: float | None = None
        self.unassigned_reasons_: dict[int, str] = {}
        self._full_embedding: np.ndarray | None = None
        free = np.flatnonzero(labels < 0)
        wanted = None if self.n_themes is None else self.n_themes - n_seeds
        if len(free) and (wanted is None or wanted > 0):
            found = self._discover(free, wanted, None if previous is None else np.asarray(previous)[free])
            labels[free[found >= 0]] = found[found >= 0] + n_seeds
        if fit is not None and core is not None:
            labels = self._dissolve_small(labels, n_seeds)
            labels = pull_weak_members(self.space_, labels, n_seeds, fit, core)
        if self.method == "hdbscan" or n_seeds:
            labels = self._take_in_outliers(labels, fit)
        self.labels_ = self._number_by_size(labels, n_seeds)
        self.n_themes_ = max(n_seeds, int(self.labels_.max()) + 1 if (self.labels_ >= 0).any() else 0)
        self._describe(vectors, texts, seeds)
        return self

    def _check(self, n: int, texts: Sequence[str], seeds: SeedThemes | None, previous: np.ndarray | None) -> None:
        if n != len(texts):
            raise ValueError("embeddings and texts must have the same length")
        if n == 0:
            raise ValueError("cannot find themes in an empty corpus")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.n_themes is not None and not 1 <= self.n_themes <= n:
            raise ValueError(f"the number of themes must be between 1 and the number of papers ({n})")
        if seeds is not None and self.n_themes is not None and self.n_themes < len(seeds):
            raise ValueError(f"{len(seeds)} named themes need at least {len(seeds)} themes in all")
        if self.view_weight is not None and not 0.0 <= self.view_weight <= 1.0:
            raise ValueError("the view weight must be between 0 and 1")
        if previous is not None and len(previous) != n:
            raise ValueError("previous themes must give one theme (or -1) per paper")

    # ------------------------------------------------------------------------------------------ views
    def _views(
        self, vectors: np.ndarray, texts: Sequence[str], terms: Sequence[Sequence[str]], graph: sparse.spmatrix | None
    ) -> None:
        n = len(vectors)
        view: LexicalView | None = lexical_view(terms, self.random_state)
        self.lexical_view_ = view
        self.symbol_share_: float | None = None
        if view is None:
            weight = 1.0
        elif self.view_weight is not None:
            weight = float(self.view_weight)
        else:
            self.symbol_share_ = round(symbol_share(texts), 5)
            weight = dense_weight(self.symbol_share_)
        self.view_weight_ = weight
        neighbours = neighbours_for(n)
        dense = binary_affinity(graph) if graph is not None else knn_affinity(vectors, neighbours)
        lexical = knn_affinity(view.vectors, neighbours) if view is not None and weight < 1.0 else None
        self.affinity_ = fused_affinity(dense, lexical, weight)
        self.space_ = concatenated(vectors, view.vectors if view is not None else None, weight)

    # ------------------------------------------------------------------------------------ clustering
    def _discover(self, rows: np.ndarray, k: int | None, previous: np.ndarray | None) -> np.ndarray:
        """Themes among ``rows`` (numbered from 0; -1 for papers left out), k chosen when ``None``."""
        n = len(rows)
        if n < 2 or k == 1:
            return np.zeros(n, dtype=np.int64)
        space = self.space_[rows]
        representation = self._representation(rows, max(self.max_themes, k or 0) + 1)
        if k is None:
            k = self._choose_k(representation, space, previous)
        return self._cluster(representation, space, min(k, n), previous)

    def _representation(self, rows: np.ndarray, dimensions: int) -> np.ndarray:
        """What the clusterer sees: the fused space for ``kmeans``, else the fused graph's spectral embedding."""
        n = len(rows)
        if self.method == "kmeans" or n < 3:
            return self.space_[rows]
        affinity = self._clustering_affinity
        if n == len(self.space_):
            self._full_embedding = _spectral(affinity, min(n - 1, dimensions), self.random_state)
            return self._full_embedding
        return _spectral(affinity[rows][:, rows], min(n - 1, dimensions), self.random_state)

    def _cluster(
        self, representation: np.ndarray, space: np.ndarray, k: int, previous: np.ndarray | None, *, n_init: int = 10
    ) -> np.ndarray:
        n = len(representation)
        if k <= 1 or n < 2:
            return np.zeros(n, dtype=np.int64)
        points = representation
        if self.method != "kmeans":
            points = representation[:, : max(k, 2)]
            norms = np.linalg.norm(points, axis=1, keepdims=True)
            points = points / np.where(norms > 0, norms, 1.0)
        if self.method == "agglomerative":
            return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(points)
        if self.method == "hdbscan":
            size = max(self.min_theme_size, n // (4 * k))
            return HDBSCAN(min_cluster_size=size, copy=True).fit_predict(points)
        start = _warm_start(points, previous, k)
        if start is not None:
            return KMeans(n_clusters=k, init=start, n_init=1, random_state=self.random_state).fit_predict(points)
        if self.method == "kmeans" and n > 10000:
            return MiniBatchKMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit_predict(points)
        return KMeans(n_clusters=k, n_init=n_init, random_state=self.random_state).fit_predict(points)

    def _choose_k(self, representation: np.ndarray, space: np.ndarray, previous: np.ndarray | None) -> int:
        """Best silhouette over k in [smallest, max_themes]; themes smaller than min_theme_size disqualify.

        Silhouettes are measured in the fused space (cosine) for every k and method, so scores compare; a
        warm start from ``previous`` keeps its number of themes."""
        n = len(representation)
        if previous is not None and (previous >= 0).any():
            return len(set(previous[previous >= 0].tolist()))
        upper = min(self.max_themes, n // max(self.min_theme_size, 1), n - 1)
        best_k, best_score = 1, -1.0
        sample = min(n, 2000)
        for k in range(min(self.smallest_k(n), upper), upper + 1):
            labels = self._cluster(representation, space, k, None, n_init=3)
            assigned = labels[labels >= 0]
            sizes = np.bincount(assigned) if len(assigned) else np.array([])
            if len(sizes) < 2 or sizes.min() < self.min_theme_size or len(set(assigned.tolist())) < 2:
                continue
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

    def _dissolve_small(self, labels: np.ndarray, n_seeds: int) -> np.ndarray:
        """Discovered themes smaller than ``min_theme_size`` are undone (their papers may join a named theme
        or a neighbour's theme next)."""
        labels = labels.copy()
        for theme, size in Counter(labels[labels >= n_seeds].tolist()).items():
            if size < self.min_theme_size:
                labels[labels == theme] = NOISE
        return labels

    def _take_in_outliers(self, labels: np.ndarray, fit: np.ndarray | None) -> np.ndarray:
        """Give each left-out paper a theme, with the low confidence it deserves, unless it is genuinely apart.

        The candidate is the theme holding most of its graph neighbours (weighted), else the theme with the
        nearest centre; it is taken in when it is at least :data:`MIN_CLOSENESS` as close to that centre as the
        theme's typical paper. A few rounds, so chains of neighbours are reached; a named theme only takes
        papers that fit its name at least weakly. Records why the others stay out."""
        from .guided import FIT_WEAK

        labels = labels.copy()
        affinity = self.affinity_.tocsr()
        n_seeds = fit.shape[1] if fit is not None else 0
        reasons: dict[int, str] = {}
        for _ in range(3):
            centres, typical = self._centres_and_typical(labels)
            if not len(centres):
                break
            allowed = np.ones((len(labels), len(centres)), dtype=bool)
            if fit is not None:
                allowed[:, :n_seeds] = fit[:, : min(n_seeds, len(centres))] >= FIT_WEAK
            changed = False
            for row in np.flatnonzero(labels < 0):
                start, end = affinity.indptr[row], affinity.indptr[row + 1]
                votes: dict[int, float] = {}  # theme → summed weight of the edges into it
                for column, weight in zip(affinity.indices[start:end], affinity.data[start:end], strict=True):
                    theme = int(labels[column])
                    if theme >= 0 and allowed[row, theme]:
                        votes[theme] = votes.get(theme, 0.0) + float(weight)
                closeness = (self.space_[row] @ centres.T) / typical
                closeness[~allowed[row]] = -np.inf
                if votes:
                    theme = max(votes.items(), key=lambda item: (item[1], -item[0]))[0]
                    why = "it lies far from the centre of the theme its related papers are in"
                else:
                    theme = int(np.argmax(closeness))
                    why = "no related paper of it is in a theme, and it lies far from every theme's centre"
                if closeness[theme] >= MIN_CLOSENESS:
                    labels[row] = theme
                    changed = True
                else:
                    reasons[int(row)] = why
            if not changed:
                break
        self.unassigned_reasons_ = {row: reason for row, reason in reasons.items() if labels[row] < 0}
        return labels

    def _centres_and_typical(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each theme's centre in the fused space and its typical member's cosine to it (the
        :data:`TYPICAL_QUANTILE` quantile: most members are at least this close)."""
        k = int(labels.max()) + 1 if (labels >= 0).any() else 0
        centres = unit_centres(self.space_, labels, k)
        typical = np.ones(k)
        for theme in range(k):
            members = np.flatnonzero(labels == theme)
            if len(members):
                typical[theme] = max(float(np.quantile(self.space_[members] @ centres[theme], TYPICAL_QUANTILE)), 1e-6)
        return centres, typical

    @staticmethod
    def _number_by_size(labels: np.ndarray, n_seeds: int = 0) -> np.ndarray:
        """Named themes keep ids 0..n_seeds-1; discovered ones follow, largest first (ties: earliest paper)."""
        labels = np.asarray(labels, dtype=np.int64)
        sizes = Counter(labels[labels >= n_seeds].tolist())
        first = {label: int(np.argmax(labels == label)) for label in sizes}
        order = sorted(sizes, key=lambda label: (-sizes[label], first[label]))
        remap = {old: new for new, old in enumerate(order, start=n_seeds)} | {seed: seed for seed in range(n_seeds)}
        return np.array([remap.get(label, NOISE) for label in labels], dtype=np.int64)

    # ------------------------------------------------------------------------------------ description
    def _describe(self, vectors: np.ndarray, texts: Sequence[str], seeds: SeedThemes | None) -> None:
        k = self.n_themes_
        self.centroids_ = unit_centres(vectors, self.labels_, k)
        fused_centres = unit_centres(self.space_, self.labels_, k)
        self.confidence_ = self._confidence()
        ordered_rows = []
        for theme_id in range(k):
            rows = np.flatnonzero(self.labels_ == theme_id)
            closeness = self.space_[rows] @ fused_centres[theme_id]
            ordered_rows.append([int(row) for row in rows[np.argsort(-closeness, kind="stable")]])
        view = self.lexical_view_
        presence, vocabulary = (view.presence, view.vocabulary) if view is not None else _presence(texts)
        terms = theme_terms(
            presence, vocabulary, self.labels_, k,
            [[texts[row] for row in rows[:LABEL_TEXTS]] for rows in ordered_rows], self.n_terms,
            weights=view.tfidf if view is not None else None,
        )  # fmt: skip
        names = list(seeds.names) if seeds is not None else []
        self.themes_ = [
            ThemeCluster(
                theme_id,
                names[theme_id] if theme_id < len(names) else make_label(terms[theme_id][0]),
                terms[theme_id][0],
                rows,
                [round(float(self.confidence_[row]), 3) for row in rows],
                names[theme_id] if theme_id < len(names) else None,
                terms[theme_id][1],
            )
            for theme_id, rows in enumerate(ordered_rows)
        ]
        self.unassigned_ = [int(row) for row in np.flatnonzero(self.labels_ == NOISE)]
        reasons = self.unassigned_reasons_
        self.unassigned_reasons_ = {
            row: reasons.get(row, "the density clustering left it out") for row in self.unassigned_
        }
        self.similarity_ = fused_centres @ fused_centres.T if k else np.zeros((0, 0))
        self.hierarchy_ = _hierarchy(fused_centres)
        self.coordinates_ = self._map()

    def _confidence(self) -> np.ndarray:
        """Per paper: the weighted share of its graph neighbours in its own theme, times how close it is to the
        theme's centre relative to the theme's typical paper (capped at 1); 0 for unassigned papers."""
        affinity = self.affinity_.tocsr()
        labels = self.labels_
        centres, typical = self._centres_and_typical(labels)
        assigned = labels >= 0
        closeness = np.ones(len(labels))
        if assigned.any():
            own = np.einsum("ij,ij->i", self.space_[assigned], centres[labels[assigned]])
            closeness[assigned] = np.clip(own / typical[labels[assigned]], 0.0, 1.0)
        owners = np.repeat(np.arange(affinity.shape[0]), np.diff(affinity.indptr))
        agrees = labels[affinity.indices] == labels[owners]
        same_mass = np.bincount(owners, weights=affinity.data * agrees, minlength=affinity.shape[0])
        degree = np.asarray(affinity.sum(axis=1)).ravel()
        confidence = np.where(degree > 0, same_mass / np.where(degree > 0, degree, 1.0), 0.0) * closeness
        return np.where(assigned, confidence, 0.0)

    def _map(self) -> np.ndarray:
        """2-D coordinates for the theme map: the first two principal components of the fused graph's spectral
        embedding (of the fused space for ``kmeans``)."""
        n = len(self.space_)
        if n < 3:
            return np.zeros((n, 2))
        if self.method == "kmeans":
            points = self.space_
        elif self._full_embedding is not None:  # the embedding the themes were found in, when it covers all
            points = self._full_embedding[:, : max(self.n_themes_, 2) + 1]
        else:
            points = _spectral(self.affinity_, min(n - 1, max(self.n_themes_, 2) + 1), self.random_state)
        return np.asarray(PCA(n_components=2, random_state=self.random_state).fit_transform(points), dtype=np.float64)


def _spectral(affinity: sparse.spmatrix, dimensions: int, random_state: int) -> np.ndarray:
    """Row-normalised spectral embedding of an affinity graph (AMG solver for large graphs: seconds where
    ARPACK's shift-invert factorisation takes minutes)."""
    solver = "amg" if affinity.shape[0] > 2000 else None
    with warnings.catch_warnings():  # separate groups of papers are expected, not a problem
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        warnings.filterwarnings("ignore", message="Exited")  # lobpcg within 2e-4 of its tolerance is plenty
        embedded = spectral_embedding(
            affinity, n_components=dimensions, eigen_solver=solver, random_state=random_state, drop_first=False
        )
    norms = np.linalg.norm(embedded, axis=1, keepdims=True)
    return embedded / np.where(norms > 0, norms, 1.0)


def _with_history(affinity: sparse.csr_matrix, previous: np.ndarray | None) -> sparse.csr_matrix:
    """The affinity a refit clusters: links between papers that shared a theme in the earlier map count
    (1 + :data:`HISTORY_WEIGHT`) times (temporal smoothness, as in evolutionary spectral clustering: Chi et
    al., KDD 2007), so a few added papers do not reshuffle the map while real changes still can."""
    if previous is None or not (np.asarray(previous) >= 0).any():
        return affinity
    previous = np.asarray(previous)
    coo = affinity.tocoo()
    same = (previous[coo.row] == previous[coo.col]) & (previous[coo.row] >= 0)
    data = coo.data * np.where(same, 1.0 + HISTORY_WEIGHT, 1.0)
    return sparse.csr_matrix((data, (coo.row, coo.col)), shape=affinity.shape)


def _warm_start(points: np.ndarray, previous: np.ndarray | None, k: int) -> np.ndarray | None:
    """KMeans starting centres from an earlier map: the mean point of each earlier theme (when it had k)."""
    if previous is None:
        return None
    known = sorted(set(np.asarray(previous)[np.asarray(previous) >= 0].tolist()))
    if len(known) != k:
        return None
    return np.vstack([points[previous == theme].mean(axis=0) for theme in known])


def _presence(texts: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """Papers × index terms (1 where used), for corpora too small for a lexical view."""
    vocabulary: dict[str, int] = {}
    rows, columns = [], []
    for row, text in enumerate(texts):
        for term in set(index_terms(text)):
            rows.append(row)
            columns.append(vocabulary.setdefault(term, len(vocabulary)))
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(texts), len(vocabulary)))
    return matrix, list(vocabulary)


def _hierarchy(centroids: np.ndarray) -> list[Merge]:
    """Which themes merge first (average linkage on centre cosine distance), scipy's linkage order.

    Ids below k are themes; id k+i is the group formed by merge i. Empty named themes are left out."""
    if len(centroids) < 2 or not np.all(np.any(centroids, axis=1)):
        return []
    merges = linkage(centroids, method="average", metric="cosine")
    return [Merge(int(a), int(b), round(float(d), 4), int(s)) for a, b, d, s in merges]
