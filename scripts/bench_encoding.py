"""Encoding speed and fidelity of the ONNX int8 backend against plain sentence-transformers (torch), same run.

Both embedders load the same model (the bundled all-MiniLM-L6-v2 unless --model) with the same batch size,
window (max_seq_length) and thread count, and encode the same N real SciFact abstracts ("Title. Abstract", as
the index does). The abstracts are timed in chunks, each chunk encoded by both backends one after the other
(alternating which goes first), so load from other processes on a shared machine hits both alike and the
ratio stays meaningful even when the absolute rates do not. It prints documents/second of each, their ratio,
the mean and minimum cosine between the two backends' vectors of each abstract, and the SciFact (BEIR test
split, 300 claims) nDCG@10 of each through ``recommender.evaluation.evaluate_retrieval`` (dense and hybrid),
then whether the targets hold: ratio >= 2.0, mean cosine >= 0.99, dense nDCG@10 within 0.005.

The first ONNX load exports and quantises the model into RECOMMENDER_MODEL_CACHE (a temporary folder here
unless --model-cache), which is timed separately and not counted in the rates.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_encoding.py [--documents 2000] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from recommender.embedding import Embedder, SentenceTransformerEmbedder
from recommender.evaluation import evaluate_retrieval, load_corpus
from recommender.model_profiles import ModelConfig, model_config
from recommender.settings import Settings

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
TARGET_RATIO = 2.0
TARGET_COSINE = 0.99
TARGET_NDCG_DELTA = 0.005


class RememberingEmbedder:
    """Wraps an embedder and reuses the document vectors of the timed run, so the nDCG evaluation embeds only
    the rest of the corpus (the vectors are deterministic: re-encoding would give the same ones, slower)."""

    def __init__(self, inner: Embedder, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.inner = inner
        self.config = inner.config
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_seq_length = inner.max_seq_length
        self._known = dict(zip(texts, vectors, strict=True))

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        missing = sorted({text for text in texts if text not in self._known})
        if missing:
            self._known.update(zip(missing, self.inner.encode_documents(missing, progress=progress), strict=True))
        return np.stack([self._known[text] for text in texts]) if texts else np.zeros((0, self.dimension))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return self.inner.truncated(texts)


def load_texts(config: ModelConfig, count: int) -> list[str]:
    """The first ``count`` SciFact abstracts, read and joined exactly as the evaluation (and the index) does."""
    papers = load_corpus(SCIFACT / "corpus.jsonl")[:count]
    return [config.document_text(paper.title, paper.abstract) for paper in papers]


def load(config: ModelConfig, args: argparse.Namespace) -> tuple[SentenceTransformerEmbedder, float]:
    start = time.perf_counter()
    embedder = SentenceTransformerEmbedder(config, batch_size=args.batch_size, threads=args.threads)
    return embedder, time.perf_counter() - start


def timed_encode(
    embedders: dict[str, SentenceTransformerEmbedder], texts: list[str], chunk: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Encode ``texts`` with every embedder, chunk by chunk in alternating order; total seconds per embedder."""
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in embedders}
    seconds = dict.fromkeys(embedders, 0.0)
    starts = list(range(0, len(texts), chunk))
    for number, start in enumerate(tqdm(starts, desc="timed chunks", unit="chunk")):
        names = list(embedders) if number % 2 == 0 else list(reversed(embedders))
        for name in names:
            began = time.perf_counter()
            vectors[name].append(embedders[name].encode_documents(texts[start : start + chunk]))
            seconds[name] += time.perf_counter() - began
    return {name: np.concatenate(parts) for name, parts in vectors.items()}, seconds


def ndcg(embedder: Embedder) -> dict[str, float]:
    result = evaluate_retrieval(
        SCIFACT / "corpus.jsonl",
        SCIFACT / "queries.jsonl",
        SCIFACT / "qrels_test.tsv",
        embedder,
        modes=("dense", "hybrid"),
        progress=True,
    )
    return {mode: scores["ndcg@10"] for mode, scores in result["modes"].items()}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model name or folder (default: the bundled MiniLM)")
    parser.add_argument("--documents", type=int, default=2000, help="SciFact abstracts to time (default 2000)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=None, help="window (default: the model's)")
    parser.add_argument("--threads", type=int, default=Settings().threads, help="torch and ONNX Runtime threads")
    parser.add_argument("--chunk", type=int, default=250, help="abstracts per alternately timed chunk")
    parser.add_argument("--model-cache", type=Path, default=None, help="ONNX export cache (default: a temp folder)")
    parser.add_argument("--no-ndcg", action="store_true", help="skip the SciFact nDCG@10 evaluation")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    temporary = None if args.model_cache else tempfile.TemporaryDirectory(prefix="bench-onnx-")
    os.environ["RECOMMENDER_MODEL_CACHE"] = str(args.model_cache or temporary.name)  # type: ignore[union-attr]
    configs = {
        backend: model_config(args.model, max_seq_length=args.max_seq_length, backend=backend)
        for backend in ("torch", "onnx-int8")
    }
    embedders, load_seconds = {}, {}
    for backend, config in configs.items():
        embedders[backend], load_seconds[backend] = load(config, args)
    texts = load_texts(configs["torch"], args.documents)
    print(
        f"model {configs['torch'].name}, {len(texts)} SciFact abstracts, batch {args.batch_size}, "
        f"max_seq_length {embedders['torch'].max_seq_length} (onnx {embedders['onnx-int8'].max_seq_length}), "
        f"{args.threads} threads, {os.cpu_count()} CPUs"
    )
    print(f"load: torch {load_seconds['torch']:.1f} s, onnx-int8 {load_seconds['onnx-int8']:.1f} s (incl. export)")
    for embedder in embedders.values():  # warm-up: first calls allocate and pick kernels
        embedder.encode_documents(texts[: args.batch_size])
    vectors, seconds = timed_encode(embedders, texts, args.chunk)
    rates = {name: len(texts) / seconds[name] for name in embedders}
    ratio = rates["onnx-int8"] / rates["torch"]
    cosine = np.sum(vectors["torch"] * vectors["onnx-int8"], axis=1)
    print(f"torch      {rates['torch']:7.1f} docs/s ({seconds['torch']:.1f} s)")
    print(f"onnx-int8  {rates['onnx-int8']:7.1f} docs/s ({seconds['onnx-int8']:.1f} s)")
    print(f"ratio      {ratio:7.2f}x  (target >= {TARGET_RATIO})")
    print(f"cosine     mean {cosine.mean():.4f}, min {cosine.min():.4f}  (target mean >= {TARGET_COSINE})")
    checks = {"speed": ratio >= TARGET_RATIO, "cosine": float(cosine.mean()) >= TARGET_COSINE}
    if not args.no_ndcg:
        scores = {}
        for name, embedder in embedders.items():
            print(f"SciFact evaluation with {name} ...", flush=True)
            scores[name] = ndcg(RememberingEmbedder(embedder, texts, vectors[name]))
        for mode in ("dense", "hybrid"):
            delta = scores["onnx-int8"][mode] - scores["torch"][mode]
            print(
                f"nDCG@10 {mode:6}  torch {scores['torch'][mode]:.4f}, onnx-int8 {scores['onnx-int8'][mode]:.4f}, "
                f"difference {delta:+.4f}"
            )
        checks["ndcg"] = abs(scores["onnx-int8"]["dense"] - scores["torch"]["dense"]) <= TARGET_NDCG_DELTA
    print("targets: " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in checks.items()))
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
