"""How well each ranking mode and fusion setting finds related papers, on public labelled corpora.

Measures, with the configured model (default: the bundled all-MiniLM-L6-v2):

- text queries: SciFact, 300 dev claims (= BEIR test split), nDCG@10 against ``qrels_test.tsv``;
- paper queries: PubMedQA-L, 1,000 abstracts, nDCG@10 with graded relevance = number of shared specific MeSH
  descriptors (descriptors on 5% or more of the papers, the check tags, are ignored);
- paper queries: Ohsumed-23, a fixed sample of papers, nDCG@10 with binary relevance = same disease category;
- paper queries (``--hoc FILE``, optional): a labelled cancer-biology corpus (JSONL with ``labels``, e.g. the
  Hallmarks of Cancer abstracts), nDCG@10 with graded relevance = number of shared labels;
- the four seed documents: the nearest other seed of each (000 and 003 belong together, 001 and 002);
- BIOSSES: Spearman correlation of the model's cosine with the human similarity scores of 100 sentence pairs.

Dense-only and lexical-only are the baselines measured in the same run. Embeddings are cached under
``--cache-dir`` (one file per model and corpus), so only the first run pays for encoding (~12 minutes on two
cores for the default model).

    .venv/bin/python scripts/bench_fusion.py                    # baselines and the defaults
    .venv/bin/python scripts/bench_fusion.py --hoc ../devdata/hoc/hoc_clean.jsonl --grid --methods zscore
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from recommender.embedding import SentenceTransformerEmbedder
from recommender.fusion import METHODS
from recommender.ingest import read_paths
from recommender.model_profiles import model_config
from recommender.paper import Paper
from recommender.retrieval import RetrievalConfig, Retriever
from recommender.snapshot import BuildInputs, Snapshot, write_snapshot

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_PAIRS = {0: 3, 1: 2, 2: 1, 3: 0}


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def papers_of(records: list[dict]) -> list[Paper]:
    return [Paper(id=str(r["id"]), title=r.get("title") or "", abstract=r.get("abstract") or "") for r in records]


def embed(embedder: SentenceTransformerEmbedder, cache: Path, name: str, texts: list[str], query: bool = False):
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    model = hashlib.sha256(embedder.model_id.encode()).hexdigest()[:8]
    path = cache / f"{name}-{model}-{digest}.npy"
    if path.exists():
        return np.load(path)
    print(f"  encoding {len(texts)} texts of {name} ...", flush=True)
    vectors = embedder.encode_queries(texts) if query else embedder.encode_documents(texts, progress=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def snapshot(papers: list[Paper], vectors: np.ndarray, model_id: str) -> Snapshot:
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    inputs = BuildInputs(model_id=model_id, max_seq_length=None, index_kind="flat")  # exact scores to compare modes
    write_snapshot(folder, build_id="bench", papers=papers, embeddings=vectors, inputs=inputs)
    return Snapshot.load(folder)


def ndcg(gains: list[float], ideal: list[float], k: int = 10) -> float | None:
    """nDCG@k with linear gains (the trec_eval / BEIR definition)."""
    best = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(ideal, reverse=True)[:k]))
    if best == 0:
        return None
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k])) / best


class Benchmarks:
    def __init__(self, model: str | None, cache: Path, ohsumed_sample: int, hoc: Path | None = None) -> None:
        embedder = SentenceTransformerEmbedder(model_config(model))
        self.model_id = embedder.model_id
        data = SHARED / "data"
        sf = load_jsonl(data / "scifact" / "corpus.jsonl")
        queries = {q["id"]: q["text"] for q in load_jsonl(data / "scifact" / "queries.jsonl")}
        self.qrels: dict[str, dict[str, int]] = {}
        for line in (data / "scifact" / "qrels_test.tsv").read_text().splitlines()[1:]:
            qid, doc, rel = line.split("\t")
            self.qrels.setdefault(qid, {})[doc] = int(rel)
        self.query_ids = sorted(self.qrels)
        self.query_text = [queries[q] for q in self.query_ids]
        sf_papers = papers_of(sf)
        self.sf = snapshot(sf_papers, embed(embedder, cache, "scifact", [p.text for p in sf_papers]), self.model_id)
        self.sf_queries = embed(embedder, cache, "scifact-dev-claims", self.query_text, query=True)

        pq = load_jsonl(data / "pubmedqa_labeled" / "corpus.jsonl")
        frequency = Counter(term for r in pq for term in set(r["labels"]))
        common = {term for term, count in frequency.items() if count >= 0.05 * len(pq)}
        self.mesh = [set(r["labels"]) - common for r in pq]
        pq_papers = papers_of(pq)
        self.pq = snapshot(pq_papers, embed(embedder, cache, "pubmedqa", [p.text for p in pq_papers]), self.model_id)

        oh = load_jsonl(data / "ohsumed23" / "corpus.jsonl")
        self.oh_labels = [r["labels"][0] for r in oh]
        oh_papers = papers_of(oh)
        self.oh = snapshot(oh_papers, embed(embedder, cache, "ohsumed23", [p.text for p in oh_papers]), self.model_id)
        self.oh_sample = np.random.default_rng(0).choice(len(oh), min(ohsumed_sample, len(oh)), replace=False)

        self.hoc_snapshot, self.hoc_labels = None, []
        if hoc is not None:
            records = load_jsonl(hoc)
            self.hoc_labels = [set(r["labels"]) for r in records]
            hoc_papers = papers_of(records)
            vectors = embed(embedder, cache, hoc.stem, [p.text for p in hoc_papers])
            self.hoc_snapshot = snapshot(hoc_papers, vectors, self.model_id)

        pairs = load_jsonl(data / "biosses" / "pairs.jsonl")
        left = embedder.encode_documents([pair["sentence1"] for pair in pairs])
        right = embedder.encode_documents([pair["sentence2"] for pair in pairs])
        cosine = np.sum(left * right, axis=1)
        self.biosses = float(spearmanr(cosine, [pair["score"] for pair in pairs]).statistic)

        seeds = sorted((SHARED / "seeds").glob("0*.txt"))
        seed_papers = [item for _, _, item in read_paths(seeds) if isinstance(item, Paper)]
        self.seeds = snapshot(seed_papers, embedder.encode_documents([p.text for p in seed_papers]), self.model_id)

    def scifact(self, config: RetrievalConfig) -> float:
        retriever = Retriever(self.sf, config)
        scores = []
        for i, qid in enumerate(self.query_ids):
            hits = retriever.rank(self.sf_queries[i], retriever.text_query_tokens(self.query_text[i]), 10)
            rel = self.qrels[qid]
            scores.append(ndcg([rel.get(self.sf.papers[h.row].id, 0) for h in hits], list(rel.values())))
        return float(np.mean(scores))

    def _paper_query(self, snap: Snapshot, config: RetrievalConfig, row: int, k: int = 10) -> list[int]:
        retriever = Retriever(snap, config)
        tokens = retriever.paper_query_tokens(row)
        return [h.row for h in retriever.rank(snap.embeddings[row], tokens, k, exclude={row}, paper_query=True)]

    def pubmedqa(self, config: RetrievalConfig) -> float:
        scores = []
        for row in range(self.pq.size):
            gains = [len(self.mesh[row] & self.mesh[other]) for other in self._paper_query(self.pq, config, row)]
            ideal = [len(self.mesh[row] & self.mesh[o]) for o in range(self.pq.size) if o != row]
            value = ndcg(gains, ideal)
            if value is not None:
                scores.append(value)
        return float(np.mean(scores))

    def ohsumed(self, config: RetrievalConfig) -> float:
        scores = []
        sizes = Counter(self.oh_labels)
        for row in self.oh_sample:
            label = self.oh_labels[row]
            hits = self._paper_query(self.oh, config, int(row))
            value = ndcg([float(self.oh_labels[h] == label) for h in hits], [1.0] * (sizes[label] - 1))
            scores.append(value or 0.0)
        return float(np.mean(scores))

    def hoc(self, config: RetrievalConfig) -> float | None:
        if self.hoc_snapshot is None:
            return None
        scores = []
        for row in range(self.hoc_snapshot.size):
            labels = self.hoc_labels[row]
            gains = [len(labels & self.hoc_labels[o]) for o in self._paper_query(self.hoc_snapshot, config, row)]
            ideal = [len(labels & self.hoc_labels[o]) for o in range(self.hoc_snapshot.size) if o != row]
            value = ndcg(gains, ideal)
            if value is not None:
                scores.append(value)
        return float(np.mean(scores))

    def seed_pairs(self, config: RetrievalConfig) -> str:
        correct = sum(self._paper_query(self.seeds, config, row, 1) == [SEED_PAIRS[row]] for row in range(4))
        first = self._paper_query(self.seeds, config, 0, 1) == [3]
        return f"{correct}/4{' (000->003)' if first else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="sentence-transformers model (default: bundled MiniLM)")
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/embeddings"))
    parser.add_argument("--ohsumed-sample", type=int, default=800)
    parser.add_argument("--hoc", type=Path, default=None, help="a labelled cancer-biology JSONL (id, abstract, labels)")
    parser.add_argument("--grid", action="store_true", help="also try other fusion methods and weights")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--weights", default="0.2,0.4,0.6", help="lexical weights to try with --grid")
    args = parser.parse_args()
    bench = Benchmarks(args.model, args.cache_dir, args.ohsumed_sample, args.hoc)
    default = RetrievalConfig()
    rows = [("dense only", RetrievalConfig(mode="dense")), ("lexical only", RetrievalConfig(mode="lexical"))]
    rows.append(("default (paper weight from the corpus, feedback 5)", default))
    rows.append(("default without feedback", RetrievalConfig(feedback=0)))
    rows.append(
        ("previous default (tmm 0.5, no feedback)", RetrievalConfig(paper_fusion="tmm", paper_weight=0.5, feedback=0))
    )
    if args.grid:
        for method in args.methods.split(","):
            for weight in (float(w) for w in args.weights.split(",")):
                config = RetrievalConfig(fusion=method, text_weight=weight, paper_fusion=method, paper_weight=weight)
                rows.append((f"{method} {weight}", config))
    print(f"model: {bench.model_id}; BIOSSES Spearman (cosine vs human score, 100 pairs): {bench.biosses:.3f}")
    print("nDCG@10 throughout; seeds: each of the four seed documents finds its partner first")
    header = f"{'ranking':<52} {'SciFact':>8} {'PubMedQA':>9} {'Ohsumed':>8} {'HoC':>7} {'seeds':>6}"
    print(header)
    print("-" * len(header))
    for name, config in rows:
        hoc = bench.hoc(config)
        print(
            f"{name:<52} {bench.scifact(config):>8.4f} {bench.pubmedqa(config):>9.4f} {bench.ohsumed(config):>8.4f} "
            f"{'' if hoc is None else f'{hoc:.4f}':>7} {bench.seed_pairs(config):>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
