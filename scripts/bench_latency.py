"""Latency of a related-by-id query (hybrid, with explanations) on a 20,000-paper index, in the process.

The index holds real abstracts from ../shared/data (SciFact, Ohsumed-23, PubMedQA: 13,583) topped up to
20,000 with papers made by joining the first half of one real abstract to the second half of another. Vectors
come from the embedding cache written by scripts/bench_fusion.py (the bundled model), a joined paper getting
the normalised mean of its parents'; without that cache, random unit vectors are used (latency does not
depend on the values). The index is built through the real service (store, snapshot, BM25, FAISS).

It prints the median and p95 of ``Recommender.related(id, k=10)`` beside the bare FAISS search for the same
paper's vector (k=100, the candidate pool), measured in the same run, with FAISS on 1 and on 2 threads
(the service uses ``Settings.search_threads``, 1 by default, chosen from these figures).

    .venv/bin/python scripts/bench_latency.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recommender.ingest import read_paths
from recommender.model_profiles import model_config
from recommender.paper import Paper
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.vector_index import set_threads

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = ("scifact", "ohsumed23", "pubmedqa_labeled")
CACHE_NAMES = {"scifact": "scifact", "ohsumed23": "ohsumed23", "pubmedqa_labeled": "pubmedqa"}


class LookupEmbedder:
    """Returns precomputed vectors for known texts (the benchmark measures queries, not the model)."""

    def __init__(self, vectors: dict[str, np.ndarray], dimension: int) -> None:
        self.config = model_config(None)
        self.model_id = self.config.name
        self.dimension = dimension
        self.max_seq_length = 256
        self._vectors = vectors

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.array([self._vectors[text] for text in texts], dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_documents(texts)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return [False] * len(texts)


def cached_vectors(cache: Path, name: str, texts: list[str]) -> np.ndarray | None:
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    matches = list(cache.glob(f"{CACHE_NAMES[name]}-*-{digest}.npy"))
    return np.load(matches[0]) if matches else None


def corpus(cache: Path, size: int, seed: int = 0) -> tuple[list[dict], dict[str, np.ndarray], str]:
    rng = np.random.default_rng(seed)
    records: list[dict] = []
    vectors: list[np.ndarray] = []
    source = "cached embeddings of the bundled model"
    for name in CORPORA:
        rows = [json.loads(line) for line in (SHARED / name / "corpus.jsonl").open(encoding="utf-8")]
        rows = [r for r in rows if r.get("abstract")]
        texts = [model_config(None).document_text(r.get("title") or "", r["abstract"]) for r in rows]
        found = cached_vectors(cache, name, texts)
        if found is None:
            source = "random unit vectors (run scripts/bench_fusion.py first for real ones)"
            found = rng.normal(size=(len(rows), 384)).astype(np.float32)
        records += [{"id": f"{name}:{r['id']}", "title": r.get("title") or "", "abstract": r["abstract"]} for r in rows]
        vectors += list(found)
    base = len(records)
    while len(records) < size:
        a, b = rng.integers(0, base, size=2)
        first, second = records[a]["abstract"], records[b]["abstract"]
        abstract = first[: len(first) // 2] + " " + second[len(second) // 2 :]
        records.append({"id": f"joined:{len(records)}", "title": records[a]["title"], "abstract": abstract})
        vectors.append(vectors[a] + vectors[b])
    matrix = np.array(vectors[:size], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return records[:size], {r["id"]: matrix[i] for i, r in enumerate(records[:size])}, source


def text_lookup(path: Path, by_id: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Vectors keyed by the text the service will embed (ingest cleans titles and abstracts)."""
    config = model_config(None)
    return {
        config.document_text(paper.title, paper.abstract): by_id[paper.id]
        for _, _, paper in read_paths([path])
        if isinstance(paper, Paper)
    }


def timed_ms(action: Callable[[Any], object], repeats: list) -> list[float]:
    times = []
    for item in repeats:
        start = time.perf_counter()
        action(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    return f"median {statistics.median(ordered):6.2f} ms   p95 {ordered[int(0.95 * (len(ordered) - 1))]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/embeddings"))
    args = parser.parse_args()
    records, by_id, source = corpus(args.cache_dir, args.papers)
    dimension = len(next(iter(by_id.values())))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        lookup = text_lookup(folder / "corpus.jsonl", by_id)
        settings = Settings(index_dir=folder / "indexes", show_progress=False)
        service = Recommender(settings, embedder_factory=lambda config, s: LookupEmbedder(lookup, dimension))
        service.ingest([folder / "corpus.jsonl"])
        service.build()
        snapshot = service._current_snapshot()
        ids = [records[i]["id"] for i in np.random.default_rng(1).choice(len(records), args.queries, replace=False)]
        rows = [snapshot.row_of[paper_id] for paper_id in ids]
        print(f"{snapshot.size:,} papers, {dimension}-d vectors from {source}; {args.queries} queries")
        for threads in (1, 2):
            set_threads(threads)
            for _ in range(20):  # warm-up
                service.related(ids[0], 10)
            faiss_ms = timed_ms(lambda row: snapshot.vectors.search(snapshot.embeddings[row], 100), rows)
            related_ms = timed_ms(lambda paper_id: service.related(paper_id, 10), ids)
            ratio = statistics.median(related_ms) / statistics.median(faiss_ms)
            print(f"FAISS threads {threads}: bare FAISS search k=100   {summary(faiss_ms)}")
            print(f"FAISS threads {threads}: related(id, k=10) hybrid  {summary(related_ms)}   ({ratio:.1f}x FAISS)")


if __name__ == "__main__":
    main()
