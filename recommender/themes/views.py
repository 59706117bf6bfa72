"""The two views of a corpus that themes are clustered on, and how much each counts for this corpus.

- **The related-papers graph**: each paper linked to its most related papers, ranked exactly as ``related``
  ranks them (dense embeddings + BM25 fused; :func:`recommender.retrieval.neighbour_graph`), or a cosine
  k-nearest-neighbour graph of the embeddings when no such graph is given. It carries the embedding model's
  sense of topic: disease, organ, clinical setting.
- **The lexical view**: TF-IDF of each paper's index terms (stems, gene and protein symbols kept whole, two-word
  phrases; sublinear term frequency; terms used by at least two papers and at most half of them), reduced to
  50 dimensions by truncated SVD (latent semantic analysis), and its cosine nearest-neighbour graph. It
  carries the words a field names its mechanisms with: "anoikis", "telomerase", "IL-6", "glycolysis".

The two graphs are summed with a weight ``w`` for the first and ``1 - w`` for the second, and the sum is what
spectral clustering cuts. Which view should lead depends on the corpus, and is decided without labels by
:func:`dense_weight`: a general-English sentence model knows diseases and clinical settings well, but gene and
protein symbols are fragments of word pieces to it. So the share of the corpus's words that are symbols with a
digit (IL-6, STAT3, TP53, CD8, miR-21) sets the weight: clinical corpora (1.2% such words or fewer) are
clustered on the related-papers graph (w = 1: it already carries BM25's lexical evidence), molecular and
cancer-biology corpora (3% and more) lean on the words (w = 0.25), linearly in between. The evidence
(``scripts/bench_themes.py --grid``) is in the README: on Ohsumed-23 (clinical, 1.05%) every added share of the
lexical view lowers NMI, on Hallmarks-of-Cancer abstracts (3.6%) the word-led mix wins by 0.1 NMI, and no
structural criterion tried (stability under resampling, agreement between clusterings, eigengaps, per-view
reliability, cluster describability) chose the right side on every corpus.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from ..symbols import molecular_position

#: Dimensions of the lexical view (LSA); fewer for small corpora. 50 clustered better than 100 on every
#: cancer-biology subset measured (mean of 5 seeds), and the clinical corpora do not use the view.
LEXICAL_DIMENSIONS = 50
#: The weight of the related-papers graph at the clinical and the molecular end (:mod:`recommender.symbols`).
GRAPH_WEIGHT_CLINICAL = 1.0
GRAPH_WEIGHT_MOLECULAR = 0.25


#: Similarities computed at once when finding nearest neighbours (rows × papers; 4 bytes each).
BLOCK_CELLS = 50_000_000


def _identity(terms: Sequence[str]) -> Sequence[str]:
    return terms


@dataclass
class LexicalView:
    """TF-IDF of the index terms and its LSA reduction.

    ``tfidf`` keeps every term (rare ones too: a seed theme or a label may name a term only two papers use);
    ``vectors`` (row-normalised LSA) is built from the terms used by at least two papers and at most half.
    """

    vectorizer: TfidfVectorizer
    tfidf: sparse.csr_matrix
    vocabulary: list[str]
    vectors: np.ndarray

    @property
    def presence(self) -> sparse.csr_matrix:
        """Papers × terms, 1 where a paper uses the term."""
        matrix = self.tfidf.copy()
        matrix.data[:] = 1.0
        return matrix

    def transform(self, terms: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """TF-IDF rows for other texts' terms (seed themes), with this corpus's IDF."""
        return self.vectorizer.transform(list(terms))


def lexical_view(terms: Sequence[Sequence[str]], random_state: int = 0) -> LexicalView | None:
    """The lexical view of papers given as their index terms; ``None`` when the corpus is too small or has no
    shared terms (fewer than 4 papers, or no term used by two papers)."""
    n = len(terms)
    if n < 4:
        return None
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float32)
    try:
        tfidf = vectorizer.fit_transform(list(terms)).tocsr()
    except ValueError:  # no term at all
        return None
    document_frequency = np.diff(tfidf.tocsc().indptr)
    shared = np.flatnonzero((document_frequency >= 2) & (document_frequency <= max(2, n // 2)))
    if len(shared) < 2:
        return None
    reduced = tfidf[:, shared]
    dimensions = min(LEXICAL_DIMENSIONS, n - 1, len(shared) - 1)
    with warnings.catch_warnings():  # an all-zero row (a paper with no shared term) is expected
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        vectors = TruncatedSVD(dimensions, random_state=random_state).fit_transform(normalize(reduced))
    vocabulary = [str(term) for term in vectorizer.get_feature_names_out()]
    return LexicalView(vectorizer, tfidf, vocabulary, normalize(vectors).astype(np.float32))


def dense_weight(share: float) -> float:
    """The related-papers graph's weight for a corpus with this symbol share (see the module docstring)."""
    return GRAPH_WEIGHT_CLINICAL + molecular_position(share) * (GRAPH_WEIGHT_MOLECULAR - GRAPH_WEIGHT_CLINICAL)


def binary_affinity(graph: sparse.spmatrix) -> sparse.csr_matrix:
    """Symmetric affinity from a nearest-neighbour graph: 1 for mutual neighbours, 0.5 for one-sided."""
    binary = sparse.csr_matrix(graph, dtype=np.float64, copy=True)
    binary.eliminate_zeros()
    binary.data[:] = 1.0
    return (0.5 * (binary + binary.T)).tocsr()


def knn_affinity(vectors: np.ndarray, n_neighbours: int, chunk: int | None = None) -> sparse.csr_matrix:
    """The binary symmetric affinity of each row's ``n_neighbours`` most cosine-similar rows (rows are unit
    vectors; exact, one matrix product per chunk). Rows with no positive similarity are not linked: a paper that
    shares no term with any other has no lexical neighbours."""
    n = len(vectors)
    k = min(n_neighbours, n - 1)
    if k < 1:
        return sparse.csr_matrix((n, n), dtype=np.float64)
    vectors = np.asarray(vectors, dtype=np.float32)
    chunk = chunk or max(1, min(2048, BLOCK_CELLS // n))  # one block of similarities stays near 200 MB
    columns, linked = [], []
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk] @ vectors.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        nearest = np.argpartition(block, n - k, axis=1)[:, n - k :]  # the k largest, without negating a copy
        columns.append(nearest)
        linked.append(np.take_along_axis(block, nearest, axis=1) > 1e-6)
    nearest, keep = np.vstack(columns), np.vstack(linked)
    rows = np.repeat(np.arange(n), k)
    graph = sparse.csr_matrix((keep.ravel().astype(np.float64), (rows, nearest.ravel())), shape=(n, n))
    return binary_affinity(graph)


def fused_affinity(dense: sparse.csr_matrix, lexical: sparse.csr_matrix | None, weight: float) -> sparse.csr_matrix:
    """``weight`` × the related-papers affinity + (1 - ``weight``) × the lexical affinity."""
    if lexical is None:
        return dense
    return (weight * dense + (1.0 - weight) * lexical).tocsr()


def concatenated(dense: np.ndarray, lexical: np.ndarray | None, weight: float) -> np.ndarray:
    """Both views side by side, scaled so that the cosine of two rows is ``weight`` × the dense cosine +
    (1 - ``weight``) × the lexical cosine: the vector space for KMeans, silhouettes and seed themes."""
    if lexical is None:
        return np.asarray(dense, dtype=np.float32)
    return np.hstack([np.sqrt(weight) * dense, np.sqrt(1.0 - weight) * lexical]).astype(np.float32)


def unit_centres(space: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Unit-length mean of each theme's rows of ``space`` (zeros for an empty theme)."""
    centres = np.zeros((k, space.shape[1]), dtype=np.float32)
    for theme in range(k):
        members = space[labels == theme]
        if len(members):
            centre = members.mean(axis=0)
            centres[theme] = centre / max(float(np.linalg.norm(centre)), 1e-12)
    return centres
