"""Theme quality on labelled corpora, per representation and method, and the time to map 20,000 papers.

Quality (NMI, ARI, V-measure against reference labels, k = number of labels), all measured in one run:

- Ohsumed-23: 7,400 MEDLINE abstracts, 23 disease categories (clinical topics);
- PubMedQA topics: the PubMedQA papers carrying exactly one of 15 topical MeSH descriptors (diseases and
  procedures such as Breast Neoplasms, Stroke, Laparoscopy; listed below) — finer, mixed topics;
- the four seeds: k = 2 and automatic k must give {000, 003} and {001, 002}, labels naming anoikis and CAFs.

Representations compared: TF-IDF + KMeans (the baseline), TF-IDF + SVD + KMeans, embeddings + KMeans, and
spectral clustering of the related-papers graph built from dense neighbours only, lexical (BM25) neighbours
only, and both fused (the default). Vectors come from the cache of scripts/bench_fusion.py (bundled model).

Speed: ``Recommender.themes()`` (graph, clustering, automatic k, labels) plus the HTML report on 20,000
papers with their embeddings given (the corpus of scripts/bench_latency.py).

    .venv/bin/python scripts/bench_themes.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from bench_fusion import SHARED, embed, load_jsonl, papers_of, snapshot
from bench_latency import LookupEmbedder, corpus, text_lookup
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recommender.embedding import SentenceTransformerEmbedder
from recommender.evaluation import clustering_scores, tfidf_kmeans
from recommender.ingest import read_paths
from recommender.model_profiles import model_config
from recommender.paper import Paper
from recommender.retrieval import RetrievalConfig, neighbour_graph
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.themes import ThemeModel, neighbours_for

TOPICAL_MESH = (
    "Pregnancy", "Breast Neoplasms", "Postoperative Complications", "Myocardial Infarction", "Stroke", "Obesity",
    "Hypertension", "Laparoscopy", "Magnetic Resonance Imaging", "Tomography, X-Ray Computed",
    "Lymphatic Metastasis", "Quality of Life", "Anti-Bacterial Agents", "Immunohistochemistry", "Ultrasonography",
)  # fmt: skip


def labelled_corpora(
    embedder: SentenceTransformerEmbedder, cache: Path
) -> dict[str, tuple[list[Paper], np.ndarray, list[str]]]:
    data = SHARED / "data"
    ohsumed = load_jsonl(data / "ohsumed23" / "corpus.jsonl")
    oh_papers = papers_of(ohsumed)
    oh_vectors = embed(embedder, cache, "ohsumed23", [p.text for p in oh_papers])
    pubmedqa = load_jsonl(data / "pubmedqa_labeled" / "corpus.jsonl")
    pq_papers = papers_of(pubmedqa)
    pq_vectors = embed(embedder, cache, "pubmedqa", [p.text for p in pq_papers])
    keep, topics = [], []
    for i, record in enumerate(pubmedqa):
        found = [term for term in TOPICAL_MESH if term in record["labels"]]
        if len(found) == 1:
            keep.append(i)
            topics.append(found[0])
    return {
        "Ohsumed-23": (oh_papers, oh_vectors, [r["labels"][0] for r in ohsumed]),
        "PubMedQA topics": ([pq_papers[i] for i in keep], pq_vectors[keep], topics),
    }


def representations(papers: list[Paper], vectors: np.ndarray, k: int) -> dict[str, np.ndarray]:
    texts = [paper.text for paper in papers]
    labels = {"TF-IDF + KMeans (baseline)": tfidf_kmeans(texts, k)}
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    lsa = normalize(TruncatedSVD(100, random_state=0).fit_transform(tfidf))
    labels["TF-IDF + SVD + KMeans"] = KMeans(k, n_init=10, random_state=0).fit_predict(lsa)
    labels["embeddings + KMeans"] = ThemeModel(n_themes=k, method="kmeans").fit(vectors, texts).labels_
    snap = snapshot(papers, vectors, "bench")
    for name, mode in (("dense", "dense"), ("lexical", "lexical"), ("dense + lexical (default)", "hybrid")):
        graph = neighbour_graph(snap, RetrievalConfig(mode=mode), k=neighbours_for(len(papers)))
        model = ThemeModel(n_themes=k).fit(
            np.asarray(snap.embeddings), texts, graph=graph,
            term_matrix=snap.lexical.score_matrix(), vocabulary=snap.lexical.vocabulary(),
        )  # fmt: skip
        labels[f"graph spectral: {name}"] = model.labels_
    return labels


def seeds_check(embedder: SentenceTransformerEmbedder) -> str:
    seeds = sorted((SHARED / "seeds").glob("0*.txt"))
    papers = [item for _, _, item in read_paths(seeds) if isinstance(item, Paper)]
    snap = snapshot(papers, embedder.encode_documents([p.text for p in papers]), embedder.model_id)
    texts = [paper.text for paper in papers]
    graph = neighbour_graph(snap, RetrievalConfig(), k=neighbours_for(len(papers)))
    lines = []
    for k in (2, None):
        model = ThemeModel(n_themes=k).fit(
            np.asarray(snap.embeddings), texts, graph=graph,
            term_matrix=snap.lexical.score_matrix(), vocabulary=snap.lexical.vocabulary(),
        )  # fmt: skip
        groups = sorted(sorted(seeds[row].name[:3] for row in theme.rows) for theme in model.themes_)
        labels = " | ".join(theme.label for theme in model.themes_)
        lines.append(f"  k={k or 'auto'}: groups {groups}; labels: {labels}")
    return "\n".join(lines)


def timing(cache: Path, size: int) -> str:
    records, by_id, _ = corpus(cache, size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        lookup = text_lookup(folder / "corpus.jsonl", by_id)
        service = Recommender(
            Settings(index_dir=folder / "indexes", show_progress=False),
            embedder_factory=lambda config, settings: LookupEmbedder(lookup, 384),
        )
        service.ingest([folder / "corpus.jsonl"])
        service.build()
        start = time.perf_counter()
        theme_map = service.themes()
        fitted = time.perf_counter() - start
        (folder / "report.html").write_text(service.theme_report(), encoding="utf-8")
        total = time.perf_counter() - start
        sizes = Counter(len(theme["papers"]) for theme in theme_map.themes)
        return (
            f"{theme_map.papers:,} papers: {theme_map.k} themes (automatic k) in {fitted:.1f} s; with the HTML "
            f"report {total:.1f} s ({(folder / 'report.html').stat().st_size / 1e6:.1f} MB); "
            f"theme sizes {sorted(sizes.elements(), reverse=True)[:5]}..."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/embeddings"))
    parser.add_argument("--papers", type=int, default=20000, help="size of the timing corpus")
    parser.add_argument("--timing-only", action="store_true", help="skip the quality part")
    args = parser.parse_args()
    if args.timing_only:
        print("Speed (embeddings given):\n  " + timing(args.cache_dir, args.papers))
        return
    embedder = SentenceTransformerEmbedder(model_config(None))
    for name, (papers, vectors, truth) in labelled_corpora(embedder, args.cache_dir).items():
        k = len(set(truth))
        print(f"\n{name}: {len(papers)} papers, k = {k}")
        print(f"  {'representation':<36} {'NMI':>7} {'ARI':>7} {'V':>7}")
        for representation, labels in representations(papers, vectors, k).items():
            scores = clustering_scores(truth, labels)
            print(
                f"  {representation:<36} {scores['nmi']:>7.4f} {scores['ari']:>7.4f} {scores['v_measure']:>7.4f}",
                flush=True,
            )
    print("\nSeeds (000+003 anoikis, 001+002 CAF signalling):")
    print(seeds_check(embedder))
    print("\nSpeed (embeddings given):")
    print("  " + timing(args.cache_dir, args.papers))


if __name__ == "__main__":
    main()
