"""Evaluation on labelled data: retrieval (scored with trec_eval) and clustering (NMI, ARI, V-measure).

Builds a throwaway index over the corpus (nothing is written to the user's indexes), ranks the top 100 papers
for every query in each mode (dense, lexical, hybrid), and scores the runs with ``pytrec_eval`` — the Python
binding of trec_eval, the reference implementation BEIR and TREC use — so the numbers are comparable with
published ones. Queries are free text (``text`` mode) or paper ids of the corpus (``paper`` mode: the paper
is the query and is excluded from its own results). Each mode's ranking can be written as a TREC run file
so any external scorer can check it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytrec_eval
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score
from sklearn.preprocessing import normalize
from tqdm import tqdm

from . import ingest
from .embedding import Embedder
from .embedding_cache import EmbeddingCache
from .errors import InvalidInputError
from .indexing import index_papers
from .paper import Paper
from .progress import Progress
from .retrieval import MODES, RetrievalConfig, Retriever
from .snapshot import Snapshot
from .terms_cache import TermsCache
from .themes.fitting import ThemeWorkflow
from .tokenizer import index_terms

RUN_DEPTH = 100
#: The trec_eval measures scored (pytrec_eval's names).
MEASURES = ("ndcg_cut_10", "recall_100", "map")
Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class ModeScores:
    """One ranking mode's scores: trec_eval's measures averaged over the judged queries, rounded."""

    ndcg_at_10: float
    recall_at_100: float
    map: float

    def to_dict(self) -> dict[str, float]:
        """The measures under their usual names ("ndcg@10" is no identifier, hence the attribute names)."""
        return {"ndcg@10": self.ndcg_at_10, "recall@100": self.recall_at_100, "map": self.map}


@dataclass(frozen=True)
class RetrievalEvaluation:
    """What :func:`evaluate_retrieval` answers: the scores per mode and what was evaluated."""

    modes: dict[str, ModeScores]
    queries: int
    corpus: int
    model: str

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``recommender evaluate retrieval --json``."""
        return {
            "modes": {mode: scores.to_dict() for mode, scores in self.modes.items()},
            "queries": self.queries,
            "corpus": self.corpus,
            "model": self.model,
        }


@dataclass(frozen=True)
class ClusteringScores:
    """One clustering's agreement with the reference labels."""

    nmi: float
    ari: float
    v_measure: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class ClusteringEvaluation:
    """What :func:`evaluate_clustering` answers: the themes' scores beside the two baselines', and what was
    clustered."""

    #: The themes' scores (``"model"`` in the JSON answer).
    themes: ClusteringScores
    #: TF-IDF + KMeans.
    baseline: ClusteringScores
    #: TF-IDF (words and two-word phrases) + SVD + KMeans.
    baseline_lsa: ClusteringScores
    k: int
    #: Papers with exactly one label (the ones scored); ``left_out`` had none or several.
    n: int
    left_out: int
    method: str
    embedding_model: str
    #: Papers the theme map left without a theme (scored as a cluster of their own).
    unassigned: int
    view_weight: float | None
    symbol_share: float | None

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``recommender evaluate clustering --json``."""
        return {
            "model": self.themes.to_dict(),
            "baseline": self.baseline.to_dict(),
            "baseline_lsa": self.baseline_lsa.to_dict(),
            "k": self.k,
            "n": self.n,
            "left_out": self.left_out,
            "method": self.method,
            "embedding_model": self.embedding_model,
            "unassigned": self.unassigned,
            "view_weight": self.view_weight,
            "symbol_share": self.symbol_share,
        }


@dataclass(frozen=True)
class Query:
    id: str
    text: str


def read_queries(path: Path) -> list[Query]:
    """JSONL with ``id`` and ``text`` (``text`` may be missing in paper mode)."""
    queries = []
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict) or "id" not in record:
                    raise InvalidInputError(f"{path}: line {number} is not a JSON object with an 'id'")
                queries.append(Query(str(record["id"]), str(record.get("text") or "")))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInputError(f"cannot read queries {path}: {error}") from None
    return queries


def read_qrels(path: Path) -> Qrels:
    """TSV ``query_id doc_id relevance`` (a header line is skipped; BEIR's files have one)."""
    qrels: Qrels = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InvalidInputError(f"cannot read qrels {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        parts = line.split("\t") if "\t" in line else line.split()
        if not parts or not line.strip():
            continue
        if len(parts) == 4:  # TREC qrels: qid iteration docid relevance
            parts = [parts[0], parts[2], parts[3]]
        try:
            qid, doc, relevance = parts[0], parts[1], int(float(parts[2]))
        except (IndexError, ValueError):
            if number == 1:
                continue  # header
            raise InvalidInputError(f"{path}: line {number} is not 'query_id<TAB>doc_id<TAB>relevance'") from None
        qrels.setdefault(qid, {})[doc] = relevance
    if not qrels:
        raise InvalidInputError(f"{path} holds no relevance judgements")
    return qrels


def score_run(qrels: Qrels, run: Run) -> ModeScores:
    """Mean nDCG@10, Recall@100 and MAP over every judged query; a query with no results counts as 0."""
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES))
    per_query = evaluator.evaluate({qid: docs for qid, docs in run.items() if docs})
    totals = dict.fromkeys(MEASURES, 0.0)
    for measures in per_query.values():
        for key in MEASURES:
            totals[key] += measures[key]
    mean = {key: round(total / len(qrels), 4) for key, total in totals.items()}
    return ModeScores(ndcg_at_10=mean["ndcg_cut_10"], recall_at_100=mean["recall_100"], map=mean["map"])


def write_run(path: Path, run: Run, tag: str) -> None:
    """TREC run format: ``qid Q0 docid rank score tag``, best first."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for qid, docs in run.items():
            ranked = sorted(docs.items(), key=lambda item: (-item[1], item[0]))
            for rank, (doc, score) in enumerate(ranked, start=1):
                handle.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def load_corpus(path: Path) -> list[Paper]:
    """Papers of a corpus file in any ingestible format; the first record of an id wins."""
    papers: dict[str, Paper] = {}
    for _, _, item in ingest.read_paths([path]):
        if isinstance(item, Paper):
            papers.setdefault(item.id, item)
    if not papers:
        raise InvalidInputError(f"no usable paper in corpus {path}")
    return list(papers.values())


def build_snapshot(
    papers: list[Paper],
    embedder: Embedder,
    folder: Path,
    *,
    progress: bool,
    cache: EmbeddingCache | None = None,
    terms_cache: TermsCache | None = None,
) -> Snapshot:
    """A throwaway index of ``papers`` in ``folder``; vectors and BM25 terms come from the caches when they
    have them (a second evaluation of the same corpus embeds and tokenizes nothing)."""
    index_papers(
        folder,
        papers,
        embedder.config,
        lambda: embedder,
        build_id="evaluation",
        cache=cache,
        terms_cache=terms_cache,
        index_kind="flat",  # exact scores: the measurement must not depend on an approximate index
        progress=Progress(bars=progress),
    )
    return Snapshot.load(folder)


def rank_all(
    snapshot: Snapshot,
    config: RetrievalConfig,
    queries: list[Query],
    query_vectors: np.ndarray | None,
    *,
    paper_mode: bool,
    progress: bool = False,
) -> Run:
    retriever = Retriever(snapshot, config)
    run: Run = {}
    for i, query in enumerate(tqdm(queries, desc=config.mode, unit=" queries", disable=not progress)):
        if paper_mode:
            row = snapshot.row_of[query.id]
            hits = retriever.rank(
                snapshot.embeddings[row], retriever.paper_query_tokens(row), RUN_DEPTH, exclude={row}, paper_query=True
            )
        else:
            vector = query_vectors[i] if query_vectors is not None else None
            hits = retriever.rank(vector, retriever.text_query_tokens(query.text), RUN_DEPTH)
        run[query.id] = {snapshot.papers[hit.row].id: hit.score for hit in hits}
    return run


def evaluate_retrieval(
    corpus: Path,
    queries_path: Path,
    qrels_path: Path,
    embedder: Embedder,
    *,
    config: RetrievalConfig | None = None,
    paper_mode: bool = False,
    run_dir: Path | None = None,
    modes: Iterable[str] = MODES,
    progress: bool = False,
    cache: EmbeddingCache | None = None,
    terms_cache: TermsCache | None = None,
) -> RetrievalEvaluation:
    """Scores per mode of the judged queries over ``corpus`` (see :class:`RetrievalEvaluation`)."""
    config = config or RetrievalConfig()
    papers = load_corpus(corpus)
    qrels = read_qrels(qrels_path)
    queries = [query for query in read_queries(queries_path) if query.id in qrels]
    if not queries:
        raise InvalidInputError("none of the queries has relevance judgements in the qrels file")
    qrels = {query.id: qrels[query.id] for query in queries}
    ids = {paper.id for paper in papers}
    if paper_mode:
        missing = [query.id for query in queries if query.id not in ids]
        if missing:
            raise InvalidInputError(
                f"paper mode: {len(missing)} query ids are not papers of the corpus, e.g. {missing[0]!r}"
            )
    elif any(not query.text.strip() for query in queries):
        raise InvalidInputError("text mode: every query needs a non-empty 'text'")
    with tempfile.TemporaryDirectory(prefix="recommender-eval-") as tmp:
        snapshot = build_snapshot(papers, embedder, Path(tmp), progress=progress, cache=cache, terms_cache=terms_cache)
        vectors = None if paper_mode else embedder.encode_queries([query.text for query in queries])
        results: dict[str, ModeScores] = {}
        for mode in modes:
            run = rank_all(
                snapshot, replace(config, mode=mode), queries, vectors, paper_mode=paper_mode, progress=progress
            )
            results[mode] = score_run(qrels, run)
            if run_dir is not None:
                Path(run_dir).mkdir(parents=True, exist_ok=True)
                write_run(Path(run_dir) / f"{mode}.run", run, tag=f"recommender-{mode}")
    return RetrievalEvaluation(modes=results, queries=len(queries), corpus=len(papers), model=embedder.model_id)


def clustering_scores(truth: Sequence[str], predicted: Sequence[int] | np.ndarray) -> ClusteringScores:
    """NMI, ARI and V-measure (scikit-learn) of a clustering against reference labels."""
    return ClusteringScores(
        nmi=round(float(normalized_mutual_info_score(truth, predicted)), 4),
        ari=round(float(adjusted_rand_score(truth, predicted)), 4),
        v_measure=round(float(v_measure_score(truth, predicted)), 4),
    )


def tfidf_kmeans(texts: Sequence[str], k: int, random_state: int = 0) -> np.ndarray:
    """The baseline: TF-IDF vectors (scikit-learn defaults, English stop words) clustered by KMeans."""
    vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    return KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(vectors)


def tfidf_svd_kmeans(texts: Sequence[str], k: int, random_state: int = 0, dimensions: int = 100) -> np.ndarray:
    """The stronger lexical baseline: TF-IDF of words and two-word phrases (English stop words, sublinear tf,
    terms in at least two papers) reduced by SVD (LSA) to ``dimensions``, rows normalised, then KMeans."""
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, stop_words="english").fit_transform(
        texts
    )
    dimensions = max(1, min(dimensions, vectors.shape[0] - 1, vectors.shape[1] - 1))
    reduced = normalize(TruncatedSVD(dimensions, random_state=random_state).fit_transform(vectors))
    return KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(reduced)


def evaluate_clustering(
    corpus: Path,
    embedder: Embedder,
    *,
    config: RetrievalConfig | None = None,
    method: str = "spectral",
    progress: bool = False,
    cache: EmbeddingCache | None = None,
    terms_cache: TermsCache | None = None,
) -> ClusteringEvaluation:
    """Themes of a labelled corpus with k = its number of labels, scored beside two baselines computed in the
    same run: TF-IDF + KMeans and TF-IDF (words and two-word phrases) + SVD(100) + KMeans.

    Only papers with exactly one label count; the others are left out (and counted). The themes are fitted by
    the same workflow as ``recommender themes`` (:class:`~recommender.themes.fitting.ThemeWorkflow`).
    """
    papers = load_corpus(corpus)
    single = [paper for paper in papers if len(paper.labels) == 1]
    if not single:
        raise InvalidInputError(f"no paper of {corpus} has exactly one label")
    truth = [paper.labels[0] for paper in single]
    k = len(set(truth))
    if k < 2:
        raise InvalidInputError("the labelled papers carry only one label: nothing to cluster")
    with tempfile.TemporaryDirectory(prefix="recommender-eval-") as tmp:
        snapshot = build_snapshot(single, embedder, Path(tmp), progress=progress, cache=cache, terms_cache=terms_cache)
        workflow = ThemeWorkflow(
            Path(tmp),
            config or RetrievalConfig(),
            terms_of=(lambda texts: terms_cache.terms(texts, index_terms)) if terms_cache is not None else None,
            progress=progress,
        )
        theme_map = workflow.fit(snapshot, range(snapshot.size), k, method)
    theme_of = theme_map.theme_of()
    predicted = [theme_of.get(paper.id, -1) for paper in single]
    texts = [paper.text for paper in single]
    return ClusteringEvaluation(
        themes=clustering_scores(truth, predicted),
        baseline=clustering_scores(truth, tfidf_kmeans(texts, k)),
        baseline_lsa=clustering_scores(truth, tfidf_svd_kmeans(texts, k)),
        k=k,
        n=len(single),
        left_out=len(papers) - len(single),
        method=method,
        embedding_model=embedder.model_id,
        unassigned=len(theme_map.unassigned),
        view_weight=theme_map.view_weight,
        symbol_share=theme_map.symbol_share,
    )
