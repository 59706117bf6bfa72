"""Encoding speed and fidelity of every backend against plain sentence-transformers fp32 (torch), same run.

The backends (``--backends``, default torch-bf16, onnx-int8 and auto, beside torch) load the same model
(the bundled all-MiniLM-L6-v2 unless --model) with the same batch size (``--batch-size``; unset: 32, and for
``auto`` the batch size its calibration measured fastest), window (max_seq_length) and thread count, and
encode the same N real SciFact abstracts ("Title. Abstract", as the index does). The abstracts are timed in
chunks, each chunk encoded by both backends one after the other (alternating which goes first), so load from
other processes on a shared machine hits both alike and the ratio stays meaningful even when the absolute
rates do not. It prints documents/second of each, their ratio,
the mean and minimum cosine between each backend's vectors and torch's, and the SciFact (BEIR test split, 300
claims) nDCG@10 of each through ``recommender.evaluation.evaluate_retrieval`` (dense and hybrid), then whether
issue 18's targets for ``auto`` hold: >= 2.5x torch fp32, cosine >= 0.999, dense nDCG@10 within 0.002.
``auto`` calibrates afresh here (its decision is recorded nowhere), and prints what it chose (backend and
batch size), why, and the texts/s it measured per batch size.

The first ONNX load exports and quantises the model into RECOMMENDER_MODEL_CACHE (a temporary folder here
unless --model-cache), which is timed separately and not counted in the rates.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_encoding.py [--documents 2000] [--batch-size N]
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

from recommender.backend_choice import FEATURES, cpu_features
from recommender.embedding import Embedder, SentenceTransformerEmbedder
from recommender.evaluation import evaluate_retrieval, load_corpus
from recommender.model_profiles import ModelConfig, model_config
from recommender.settings import Settings

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
TARGET_AUTO_RATIO = 2.5
TARGET_AUTO_COSINE = 0.999


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
    """An embedder of ``config``; ``auto`` calibrates afresh (no recorded choice), and that is timed too."""
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
    return {mode: scores.ndcg_at_10 for mode, scores in result.modes.items()}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model name or folder (default: the bundled MiniLM)")
    parser.add_argument("--documents", type=int, default=2000, help="SciFact abstracts to time (default 2000)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="texts per forward pass (default: 32; auto: its measured one)"
    )
    parser.add_argument("--max-seq-length", type=int, default=None, help="window (default: the model's)")
    parser.add_argument("--threads", type=int, default=Settings().threads, help="torch and ONNX Runtime threads")
    parser.add_argument("--chunk", type=int, default=250, help="abstracts per alternately timed chunk")
    parser.add_argument("--model-cache", type=Path, default=None, help="ONNX export cache (default: a temp folder)")
    parser.add_argument("--no-ndcg", action="store_true", help="skip the SciFact nDCG@10 evaluation")
    parser.add_argument(
        "--backends",
        default="torch-bf16,onnx-int8,auto",
        help="backends timed beside plain sentence-transformers fp32 (torch), comma-separated",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    temporary = None if args.model_cache else tempfile.TemporaryDirectory(prefix="bench-onnx-")
    os.environ["RECOMMENDER_MODEL_CACHE"] = str(args.model_cache or temporary.name)  # type: ignore[union-attr]
    backends = ["torch", *[name for name in args.backends.split(",") if name and name != "torch"]]
    configs = {
        backend: model_config(args.model, max_seq_length=args.max_seq_length, backend=backend) for backend in backends
    }
    embedders, load_seconds = {}, {}
    for backend, config in configs.items():
        embedders[backend], load_seconds[backend] = load(config, args)
    texts = load_texts(configs["torch"], args.documents)
    print(
        f"model {configs['torch'].name}, {len(texts)} SciFact abstracts, "
        f"batch {args.batch_size or 'unset (32; auto: measured)'}, "
        f"max_seq_length {embedders['torch'].max_seq_length}, {args.threads} threads, {os.cpu_count()} CPUs, "
        f"CPU features {', '.join(cpu_features()) or 'none of ' + ', '.join(FEATURES)}"
    )
    print("load (s): " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in load_seconds.items()))
    if "auto" in embedders:
        auto = embedders["auto"]
        described = auto.describe()
        print(f"auto chose {auto.backend}, batch {auto.batch_size}: {described.get('reason', '')}")
        measured = described.get("calibration", {}).get("batch_sizes", {})
        if measured:
            print("auto's batch sizes (texts/s): " + ", ".join(f"{size} {rate}" for size, rate in measured.items()))
    for embedder in embedders.values():  # warm-up: first calls allocate and pick kernels
        embedder.encode_documents(texts[: embedder.batch_size])
    vectors, seconds = timed_encode(embedders, texts, args.chunk)
    rates = {name: len(texts) / seconds[name] for name in embedders}
    print(f"{'backend':<12} {'docs/s':>8} {'vs torch fp32':>14} {'cosine mean':>12} {'cosine min':>11}")
    checks = {}
    for name in embedders:
        cosine = np.sum(vectors["torch"] * vectors[name], axis=1)
        ratio = rates[name] / rates["torch"]
        print(f"{name:<12} {rates[name]:8.1f} {ratio:13.2f}x {cosine.mean():12.5f} {cosine.min():11.5f}")
        if name == "auto":
            checks["auto speed >= 2.5x"] = ratio >= TARGET_AUTO_RATIO
            checks["auto cosine >= 0.999"] = float(cosine.min()) >= TARGET_AUTO_COSINE
    if not args.no_ndcg:
        scores = {}
        for name, embedder in embedders.items():
            print(f"SciFact evaluation with {name} ...", flush=True)
            scores[name] = ndcg(RememberingEmbedder(embedder, texts, vectors[name]))
        for mode in ("dense", "hybrid"):
            print(
                f"nDCG@10 {mode:6} "
                + ", ".join(
                    f"{name} {scores[name][mode]:.4f} ({scores[name][mode] - scores['torch'][mode]:+.4f})"
                    for name in scores
                )
            )
        if "auto" in scores:
            checks["auto nDCG within 0.002"] = abs(scores["auto"]["dense"] - scores["torch"]["dense"]) <= 0.002
    print("targets: " + (", ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in checks.items()) or "-"))
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
