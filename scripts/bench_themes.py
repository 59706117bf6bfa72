"""Theme quality against simple baselines in the same run, named themes, labels, outliers, stability and speed.

Quality (NMI, ARI against reference labels, k = number of labels; mean over --seeds random states), on:

- Ohsumed-23: 7,400 MEDLINE abstracts, 23 disease categories (clinical topics);
- PubMedQA topics: the PubMedQA papers carrying exactly one of 15 topical MeSH descriptors;
- any ``--corpus FILE`` (JSONL with ``id``, ``title``, ``abstract``, ``labels``; papers with exactly one label
  count), e.g. a cancer-biology corpus with mechanism-level classes.

Compared in the same run: dense embeddings + KMeans, TF-IDF (words and two-word phrases) + SVD(100) + KMeans,
the previous default (spectral clustering of the related-papers graph alone), and the themes (the related-papers
graph fused with the lexical view, weighted per corpus by its symbol share). ``--grid`` adds the themes at fixed
view weights: the evidence behind the weight rule.

Then: the four seeds (k = 2, automatic k, and the two named themes); the labels of the 1,000 PubMedQA abstracts
plus the seeds checked against the label rule (every violation printed); the share of papers ``hdbscan`` leaves
unassigned; stability (fit on 99% of a corpus, add the other 1%, refit from the earlier map: ARI on the earlier
papers, and a refit from scratch for comparison); and the time to theme 20,000 papers with their embeddings
given, report included. Vectors come from the cache of scripts/bench_fusion.py (bundled model).

    .venv/bin/python scripts/bench_themes.py [--corpus cancer.jsonl] [--grid] [--seeds 5]
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
from sklearn.metrics import adjusted_rand_score

from recommender.embedding import SentenceTransformerEmbedder
from recommender.evaluation import clustering_scores, tfidf_svd_kmeans
from recommender.ingest import read_paths
from recommender.model_profiles import model_config
from recommender.paper import Paper
from recommender.retrieval import RetrievalConfig, neighbour_graph
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.themes import SeedThemes, ThemeModel, neighbours_for
from recommender.themes.labels import BROAD_COVERAGE, BROAD_LIFT, MIN_COVERAGE, MIN_LIFT, reads_as_name
from recommender.tokenizer import index_terms, segments, stem

TOPICAL_MESH = (
    "Pregnancy", "Breast Neoplasms", "Postoperative Complications", "Myocardial Infarction", "Stroke", "Obesity",
    "Hypertension", "Laparoscopy", "Magnetic Resonance Imaging", "Tomography, X-Ray Computed",
    "Lymphatic Metastasis", "Quality of Life", "Anti-Bacterial Agents", "Immunohistochemistry", "Ultrasonography",
)  # fmt: skip
SEED_NAMES = ("anoikis resistance", "CAF IL-6 STAT3 signalling")
Corpus = tuple[list[Paper], np.ndarray, list[str]]


def labelled_corpora(embedder: SentenceTransformerEmbedder, cache: Path, extra: list[Path]) -> dict[str, Corpus]:
    data = SHARED / "data"
    ohsumed = load_jsonl(data / "ohsumed23" / "corpus.jsonl")
    oh_papers = papers_of(ohsumed)
    corpora: dict[str, Corpus] = {
        "Ohsumed-23": (oh_papers, embed(embedder, cache, "ohsumed23", [p.text for p in oh_papers]),
                       [r["labels"][0] for r in ohsumed]),
    }  # fmt: skip
    pubmedqa = load_jsonl(data / "pubmedqa_labeled" / "corpus.jsonl")
    pq_papers = papers_of(pubmedqa)
    pq_vectors = embed(embedder, cache, "pubmedqa", [p.text for p in pq_papers])
    keep, topics = [], []
    for i, record in enumerate(pubmedqa):
        found = [term for term in TOPICAL_MESH if term in record["labels"]]
        if len(found) == 1:
            keep.append(i)
            topics.append(found[0])
    corpora["PubMedQA topics"] = ([pq_papers[i] for i in keep], pq_vectors[keep], topics)
    for path in extra:
        records = [r for r in load_jsonl(path) if len(r.get("labels") or []) == 1]
        papers = papers_of(records)
        vectors = embed(embedder, cache, path.stem, [p.text for p in papers])
        corpora[path.name] = (papers, vectors, [r["labels"][0] for r in records])
    return corpora


def related_graph(papers: list[Paper], vectors: np.ndarray):
    snap = snapshot(papers, vectors, "bench")
    return neighbour_graph(snap, RetrievalConfig(), k=neighbours_for(len(papers)))


def quality(name: str, papers: list[Paper], vectors: np.ndarray, truth: list[str], seeds: int, grid: bool) -> None:
    k = len(set(truth))
    texts = [paper.text for paper in papers]
    terms = [index_terms(text) for text in texts]
    graph = related_graph(papers, vectors)
    runs: dict[str, list[np.ndarray]] = {
        "dense + KMeans": [KMeans(k, n_init=10, random_state=s).fit_predict(vectors) for s in range(seeds)],
        "TF-IDF + SVD(100) + KMeans": [tfidf_svd_kmeans(texts, k, random_state=s) for s in range(seeds)],
        "previous default (related graph)": [
            ThemeModel(n_themes=k, view_weight=1.0, random_state=s)
            .fit(vectors, texts, graph=graph, terms=terms)
            .labels_
            for s in range(seeds)
        ],
    }
    fitted = [
        ThemeModel(n_themes=k, random_state=s).fit(vectors, texts, graph=graph, terms=terms) for s in range(seeds)
    ]
    runs["themes (this version)"] = [model.labels_ for model in fitted]
    if grid:
        for weight in (0.25, 0.5, 0.75, 0.875):
            runs[f"  fixed view weight {weight}"] = [
                ThemeModel(n_themes=k, view_weight=weight, random_state=s)
                .fit(vectors, texts, graph=graph, terms=terms)
                .labels_
                for s in range(seeds)
            ]
    model = fitted[0]
    print(f"\n{name}: {len(papers)} papers, k = {k}; symbol share {model.symbol_share_:.4f} -> view weight "
          f"{model.view_weight_:.3f} (related-papers graph) / {1 - model.view_weight_:.3f} (words)")  # fmt: skip
    print(f"  {'representation':<36} {'NMI':>13} {'ARI':>7}")
    means = {}
    for label, labellings in runs.items():
        scores = [clustering_scores(truth, labels) for labels in labellings]
        nmi = [s.nmi for s in scores]
        means[label] = float(np.mean(nmi))
        print(f"  {label:<36} {np.mean(nmi):.4f} ±{np.std(nmi):.3f} {np.mean([s.ari for s in scores]):>7.4f}")
    baselines = ("dense + KMeans", "TF-IDF + SVD(100) + KMeans", "previous default (related graph)")
    best = max(baselines, key=lambda label: means[label])
    verdict = "matches or beats" if means["themes (this version)"] >= means[best] - 1e-4 else "LOSES to"
    print(f"  -> themes {verdict} the best baseline of this run ({best}, {means[best]:.4f})")


def seed_papers() -> tuple[list[Paper], list[str]]:
    paths = sorted((SHARED / "seeds").glob("0*.txt"))
    papers = [item for _, _, item in read_paths(paths) if isinstance(item, Paper)]
    return papers, [path.name[:3] for path in paths]


def named(embedder: SentenceTransformerEmbedder) -> SeedThemes:
    vectors = embedder.encode_queries(list(SEED_NAMES))
    return SeedThemes(SEED_NAMES, vectors, tuple(tuple(index_terms(name)) for name in SEED_NAMES))


def seeds_check(embedder: SentenceTransformerEmbedder) -> None:
    papers, names = seed_papers()
    vectors = embedder.encode_documents([p.text for p in papers])
    texts = [paper.text for paper in papers]
    graph = related_graph(papers, vectors)
    print("\nSeeds (000+003 anoikis, 001+002 CAF signalling):")
    for label, options in (("k=2", {"n_themes": 2}), ("k=auto", {}), ("named themes", {"seeds": named(embedder)})):
        seeds = options.pop("seeds", None)
        model = ThemeModel(**options).fit(vectors, texts, graph=graph, seeds=seeds)
        groups = sorted(sorted(names[row] for row in theme.rows) for theme in model.themes_)
        ok = groups == [["000", "003"], ["001", "002"]]
        print(f"  {label:<13} {'OK ' if ok else 'BAD'} groups {groups}; labels: "
              + " | ".join(theme.label for theme in model.themes_))  # fmt: skip


def uses(runs: list[list[str]], terms: set[str], phrase: str) -> bool:
    """Whether a paper uses a shown term: a word among its index terms (compound parts included), a phrase as
    its words' stems in a row within one run of its text."""
    keys = [stem(word) for word in phrase.split()]
    if len(keys) == 1:
        return keys[0] in terms
    return any(run[i : i + len(keys)] == keys for run in runs for i in range(len(run) - len(keys) + 1))


def labels_check(embedder: SentenceTransformerEmbedder, cache: Path, seeds: bool) -> None:
    pubmedqa = papers_of(load_jsonl(SHARED / "data" / "pubmedqa_labeled" / "corpus.jsonl"))
    seed_list, _ = seed_papers()
    papers = pubmedqa + seed_list
    pq_vectors = embed(embedder, cache, "pubmedqa", [p.text for p in pubmedqa])
    vectors = np.vstack([pq_vectors, embedder.encode_documents([p.text for p in seed_list])])
    texts = [paper.text for paper in papers]
    graph = related_graph(papers, vectors)
    runs = [[[stem(word) for word in run] for run in segments(text)] for text in texts]
    term_sets = [set(index_terms(text)) for text in texts]
    title = "named themes " + ", ".join(SEED_NAMES) if seeds else "automatic k"
    model = ThemeModel().fit(vectors, texts, graph=graph, seeds=named(embedder) if seeds else None)
    print(f"\nLabels: {len(papers)} papers (1,000 PubMedQA + the seeds), {title}: {model.n_themes_} themes")
    violations, checked = [], 0
    for theme in model.themes_:
        inside = set(theme.rows)
        outside = [row for row in range(len(papers)) if row not in inside]
        seeds_here = [papers[row].id for row in theme.rows if row >= len(pubmedqa)]
        print(f"  [{theme.theme_id}] {theme.label} ({len(theme.rows)}, rule {theme.label_rule}) terms: "
              f"{', '.join(theme.terms)}" + (f"  <- seeds {seeds_here}" if seeds_here else ""))  # fmt: skip
        least = (MIN_COVERAGE, MIN_LIFT) if theme.label_rule == "strict" else (BROAD_COVERAGE, BROAD_LIFT)
        for term in theme.terms:
            checked += 1
            coverage = np.mean([uses(runs[row], term_sets[row], term) for row in theme.rows]) if theme.rows else 0.0
            out = np.mean([uses(runs[row], term_sets[row], term) for row in outside]) if outside else 0.0
            lift = coverage / out if out else float("inf")
            if coverage < least[0] - 1e-9 or lift < least[1] or not reads_as_name(term, extended=" " in term):
                violations.append(f"[{theme.theme_id}] {term!r}: coverage {coverage:.2f}, lift {lift:.1f}")
    tiers = Counter(theme.label_rule for theme in model.themes_)
    print(f"  label rule met: {dict(tiers)}; label terms checked: {checked}; outside the rule: {len(violations)}")
    for line in violations:
        print(f"    {line}")


def outliers_check(corpora: dict[str, Corpus]) -> None:
    print("\nhdbscan: papers left unassigned (target <= 15%)")
    for name, (papers, vectors, _truth) in corpora.items():
        texts = [paper.text for paper in papers]
        model = ThemeModel(method="hdbscan").fit(vectors, texts, graph=related_graph(papers, vectors))
        reasons = "; ".join(f"{n} {r}" for r, n in Counter(model.unassigned_reasons_.values()).items())
        left = len(model.unassigned_)
        print(
            f"  {name:<20} {left:>5} of {len(papers)} ({left / len(papers):.1%}), {model.n_themes_} themes; {reasons}"
        )


def stability_check(corpora: dict[str, Corpus]) -> None:
    print("\nStability: fit on 99%, add the other 1%, refit (ARI of the two maps on the first 99%; target >= 0.8)")
    for name, (papers, vectors, _truth) in corpora.items():
        n = len(papers)
        rng = np.random.default_rng(0)
        added = set(rng.choice(n, max(1, n // 100), replace=False).tolist())
        old_rows = [row for row in range(n) if row not in added]
        texts = [paper.text for paper in papers]
        old_graph = related_graph([papers[r] for r in old_rows], vectors[old_rows])
        before = ThemeModel().fit(vectors[old_rows], [texts[r] for r in old_rows], graph=old_graph)
        previous = np.full(n, -1)
        previous[old_rows] = before.labels_
        graph = related_graph(papers, vectors)
        warm = ThemeModel().fit(vectors, texts, graph=graph, previous=previous)
        cold = ThemeModel().fit(vectors, texts, graph=graph)
        warm_ari = adjusted_rand_score(before.labels_, warm.labels_[old_rows])
        cold_ari = adjusted_rand_score(before.labels_, cold.labels_[old_rows])
        print(f"  {name:<20} k {before.n_themes_} -> {warm.n_themes_}: ARI on the earlier papers {warm_ari:.3f} "
              f"(refit from scratch: {cold_ari:.3f}, k {cold.n_themes_})")  # fmt: skip


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
        sizes = Counter(len(theme.papers) for theme in theme_map.themes)
        return (
            f"{theme_map.papers:,} papers: {theme_map.k} themes (automatic k) in {fitted:.1f} s; with the HTML "
            f"report {total:.1f} s ({(folder / 'report.html').stat().st_size / 1e6:.1f} MB); "
            f"theme sizes {sorted(sizes.elements(), reverse=True)[:5]}..."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/embeddings"))
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="another labelled JSONL corpus")
    parser.add_argument("--seeds", type=int, default=5, help="random states averaged for each method")
    parser.add_argument("--grid", action="store_true", help="also the themes at fixed view weights")
    parser.add_argument("--papers", type=int, default=20000, help="size of the timing corpus")
    parser.add_argument("--only", choices=("quality", "seeds", "labels", "outliers", "stability", "timing"))
    args = parser.parse_args()
    if args.only == "timing":
        print("Speed (embeddings given):\n  " + timing(args.cache_dir, args.papers))
        return
    embedder = SentenceTransformerEmbedder(model_config(None))
    corpora = (
        labelled_corpora(embedder, args.cache_dir, args.corpus)
        if args.only in (None, "quality", "outliers", "stability")
        else {}
    )
    if args.only in (None, "quality"):
        for name, (papers, vectors, truth) in corpora.items():
            quality(name, papers, vectors, truth, args.seeds, args.grid)
    if args.only in (None, "seeds"):
        seeds_check(embedder)
    if args.only in (None, "labels"):
        labels_check(embedder, args.cache_dir, seeds=False)
        labels_check(embedder, args.cache_dir, seeds=True)
    if args.only in (None, "outliers"):
        outliers_check(corpora)
    if args.only in (None, "stability"):
        stability_check(corpora)
    if args.only is None:
        print("\nSpeed (embeddings given):\n  " + timing(args.cache_dir, args.papers))


if __name__ == "__main__":
    main()
