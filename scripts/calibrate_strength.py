"""Fit the "weak match" calibration (recommender/strength.py) and print how reliable it is on held-out queries.

For every query the default ranking's top 20 hits are taken with their score parts (the cosine as a z-score
against random pairs of the same index, and the BM25 score as a share of the query's bound) and whether they
are relevant. A logistic regression per query form is fitted:

- text: SciFact's 809 training claims (qrels_train.tsv); checked on the 300 test claims (qrels_test.tsv);
- paper: PubMedQA papers of even row, relevant = sharing a specific MeSH descriptor; checked on the odd rows,
  on Ohsumed (same disease category) and, with ``--hoc``, on a labelled cancer-biology corpus (shared label).

The reliability table compares, per predicted band, the mean predicted probability with the share of hits that
were relevant; paste the printed coefficients into ``CALIBRATIONS``.

    .venv/bin/python scripts/calibrate_strength.py [--hoc ../devdata/hoc/hoc_clean.jsonl]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
from bench_fusion import SHARED, Benchmarks, embed, load_jsonl
from sklearn.linear_model import LogisticRegression

from recommender.embedding import SentenceTransformerEmbedder
from recommender.model_profiles import model_config
from recommender.retrieval import RetrievalConfig, Retriever
from recommender.snapshot import Snapshot
from recommender.strength import CALIBRATIONS, Calibration, level

DEPTH = 20
BANDS = (0.0, 0.1, 0.2, 0.35, 0.5, 0.7, 1.01)


def features(snapshot: Snapshot, retriever: Retriever, hits, tokens, paper_query: bool) -> list[tuple[float, float]]:
    mean, spread = snapshot.similarity_baseline
    bound = snapshot.lexical.upper_bound(tokens)
    return [((hit.dense - mean) / spread, hit.lexical / bound if bound else 0.0) for hit in hits]


def text_data(bench: Benchmarks, qrels_file: str, embedder) -> tuple[np.ndarray, np.ndarray]:
    qrels: dict[str, set[str]] = {}
    for line in (SHARED / "data" / "scifact" / qrels_file).read_text().splitlines()[1:]:
        qid, doc, _ = line.split("\t")
        qrels.setdefault(qid, set()).add(doc)
    queries = {q["id"]: q["text"] for q in load_jsonl(SHARED / "data" / "scifact" / "queries.jsonl")}
    ids = sorted(q for q in qrels if q in queries)
    vectors = embed(embedder, Path(bench.cache), f"scifact-{qrels_file}", [queries[q] for q in ids], query=True)
    retriever = Retriever(bench.sf, RetrievalConfig())
    rows, labels = [], []
    for i, qid in enumerate(ids):
        tokens = retriever.text_query_tokens(queries[qid])
        hits = retriever.rank(vectors[i], tokens, DEPTH)
        rows.extend(features(bench.sf, retriever, hits, tokens, False))
        labels.extend(bench.sf.papers[hit.row].id in qrels[qid] for hit in hits)
    return np.asarray(rows), np.asarray(labels)


def paper_data(snapshot: Snapshot, queries, relevant) -> tuple[np.ndarray, np.ndarray]:
    retriever = Retriever(snapshot, RetrievalConfig())
    rows, labels = [], []
    for row in queries:
        tokens = retriever.paper_query_tokens(row)
        hits = retriever.rank(snapshot.embeddings[row], tokens, DEPTH, exclude={row}, paper_query=True)
        rows.extend(features(snapshot, retriever, hits, tokens, True))
        labels.extend(relevant(row, hit.row) for hit in hits)
    return np.asarray(rows), np.asarray(labels)


def fit(x: np.ndarray, y: np.ndarray) -> Calibration:
    model = LogisticRegression(C=1.0).fit(x, y)
    return Calibration(float(model.intercept_[0]), float(model.coef_[0][0]), float(model.coef_[0][1]))


def reliability(name: str, calibration: Calibration, x: np.ndarray, y: np.ndarray) -> None:
    predicted = np.array([calibration.probability(z, share) for z, share in x])
    brier = float(np.mean((predicted - y) ** 2))
    print(
        f"  {name}: {len(y)} hits, {y.mean():.1%} relevant, Brier {brier:.3f} "
        f"(a constant guess: {y.mean() * (1 - y.mean()):.3f})"
    )
    for low, high in pairwise(BANDS):
        inside = (predicted >= low) & (predicted < high)
        if inside.any():
            print(
                f"    predicted {low:.2f}-{min(high, 1):.2f}: {inside.sum():>6} hits, mean predicted "
                f"{predicted[inside].mean():.2f}, relevant {y[inside].mean():.2f}"
            )
    names = Counter(level(p) for p in predicted)
    for name_ in ("strong", "related", "weak"):
        mask = np.array([level(p) == name_ for p in predicted])
        if mask.any():
            print(f"    {name_:>7}: {names[name_]:>6} hits, {y[mask].mean():.0%} relevant")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/embeddings"))
    parser.add_argument("--hoc", type=Path, default=None)
    args = parser.parse_args()
    bench = Benchmarks(args.model, args.cache_dir, 800, args.hoc)
    bench.cache = args.cache_dir
    embedder = SentenceTransformerEmbedder(model_config(args.model))

    train_x, train_y = text_data(bench, "qrels_train.tsv", embedder)
    test_x, test_y = text_data(bench, "qrels_test.tsv", embedder)
    text = fit(train_x, train_y)
    print(f"text: {text}")
    reliability("SciFact test claims (held out)", text, test_x, test_y)
    reliability("SciFact test claims, current CALIBRATIONS", CALIBRATIONS["text"], test_x, test_y)

    def shares_mesh(a: int, b: int) -> bool:
        return bool(bench.mesh[a] & bench.mesh[b])

    even = range(0, bench.pq.size, 2)
    odd = range(1, bench.pq.size, 2)
    paper = fit(*paper_data(bench.pq, even, shares_mesh))
    print(f"paper: {paper}")
    reliability("PubMedQA odd rows (held out)", paper, *paper_data(bench.pq, odd, shares_mesh))
    labels = bench.oh_labels
    oh = paper_data(bench.oh, [int(r) for r in bench.oh_sample[:300]], lambda a, b: labels[a] == labels[b])
    reliability("Ohsumed, same category", paper, *oh)
    if bench.hoc_snapshot is not None:
        hoc = bench.hoc_labels
        reliability(
            "HoC, a shared hallmark",
            paper,
            *paper_data(bench.hoc_snapshot, range(0, bench.hoc_snapshot.size, 2), lambda a, b: bool(hoc[a] & hoc[b])),
        )
    reliability(
        "PubMedQA odd rows, current CALIBRATIONS", CALIBRATIONS["paper"], *paper_data(bench.pq, odd, shares_mesh)
    )
    print(json.dumps({"text": text.__dict__, "paper": paper.__dict__}, indent=1))


if __name__ == "__main__":
    main()
