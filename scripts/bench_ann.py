"""Approximate vs exact nearest-neighbour search at a million abstract-like vectors: latency, recall, memory.

Corpus. There are ~13.6k real all-MiniLM-L6-v2 abstract embeddings cached under ``artifacts/embeddings``
(SciFact, Ohsumed-23, PubMedQA, written by ``scripts/bench_fusion.py``). ``--queries`` of them (default 500)
are held out as queries; the rest are *anchors* from which ``--n`` corpus vectors are generated. Uniform random
vectors would be useless here: they have no neighbours worth finding and HNSW recall on them is ~0.2. So each
corpus vector is a real anchor moved *along its own neighbourhood*:

    x = normalise(s + sum_j g_j (t_j - s) / sqrt(10) + 0.1 * z / sqrt(d)),   g_j, z ~ N(0, 1)

where t_1..t_10 are the anchor's ten nearest real neighbours. The displacement lies in the directions in which
real abstracts near ``s`` actually differ (isotropic noise would add variance in directions no real abstract
varies in), and its size is that of the gaps between real neighbours: a generated vector's cosine to its anchor
is 0.82 (median; mean 0.75), where a real abstract's nearest real neighbour is at 0.67 (median) to 0.79 (90th
percentile) and a near-duplicate at > 0.95. So the ~75 vectors generated per anchor are not copies of it; their
clouds overlap with those of neighbouring anchors. Check (``--profile``): a generated set as large as the real
one has nearly the same query-to-neighbour cosines (1st / 10th: 0.61 / 0.50 against 0.67 / 0.54) and the same
HNSW recall curve (0.956 / 0.986 / 0.996 against 0.966 / 0.990 / 0.997 at efSearch 16 / 32 / 64).
``--noise isotropic`` uses isotropic Gaussian noise instead (cosine to the anchor ~0.67).

Queries are real abstracts that are neither in the corpus nor anchors of it. They are harder than the held-out
corpus vectors of the index's own build-time recall figure, since each corpus vector has ~75 siblings around
the same anchor: at 1M and efSearch 48, 0.99 on held-out corpus vectors but 0.95 on these.

Measured in the same run, one query per call, FAISS single-threaded: flat (exact) latency, each approximate
index's build time (all cores; includes the build-time recall measurement), resident-memory increase, file size
and load time, latency (median, p99), recall@10 against flat, speed-up and memory ratio, PASS/FAIL against the
targets (>= 50x faster than flat at recall@10 >= 0.95, memory <= 2x the raw vectors), and the recall/latency
curve over the search parameter. Also flat latency at several corpus sizes (the basis of
``vector_index.AUTO_FLAT_MAX``) and filtered search (``allowed`` = 1%, 2%, 10% of the rows) against exact
filtered search.

    .venv/bin/python scripts/bench_ann.py                  # 1,000,000 vectors, HNSW (~12 min on 2 cores)
    .venv/bin/python scripts/bench_ann.py --quick          # 100,000 vectors (~1.5 min)
    .venv/bin/python scripts/bench_ann.py --kind hnsw,ivf --with-pq --profile   # also IVF and IVF-PQ (~30 min)
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from recommender.vector_index import AUTO_FLAT_MAX, VectorIndex

REPO = Path(__file__).resolve().parents[1]
EMBEDDINGS = REPO / "artifacts" / "embeddings"
K = 10
NEIGHBOURS = 10
SPEEDUP_TARGET = 50.0
RECALL_TARGET = 0.95
MEMORY_TARGET = 2.0


def main() -> None:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress visible when redirected to a log
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    build_threads = faiss.omp_get_max_threads()
    real = load_real(args.embeddings)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(real))
    queries, anchors = real[order[: args.queries]], real[order[args.queries :]]
    print(f"real abstract embeddings: {len(real):,} ({len(queries)} held out as queries, {len(anchors):,} anchors)")
    neighbours = real_neighbours(anchors)
    started = time.perf_counter()
    corpus, copy_cosine = generate(anchors, neighbours, args.n, args.noise, args.scale, args.seed)
    raw = corpus.nbytes
    print(
        f"generated {len(corpus):,} x {corpus.shape[1]} vectors ({args.noise} noise, scale {args.scale}) in "
        f"{time.perf_counter() - started:.0f} s; median cosine to anchor {copy_cosine:.3f}; raw {mib(raw)}"
    )
    if args.profile:
        profile(anchors, neighbours, queries, args)
    flat_sizes(corpus, queries)

    print("\n== flat (exact) ==")
    flat, flat_build, flat_memory = timed_build(corpus, "flat", {}, build_threads)
    truth_scores, truth = flat.search(queries, K)
    print(
        f"query -> corpus cosine, median: 1st neighbour {np.median(truth_scores[:, 0]):.3f}, "
        f"10th {np.median(truth_scores[:, K - 1]):.3f}"
    )
    report_build("flat", flat_build, flat_memory, raw)
    filters = make_filters(len(corpus), args.seed)
    filtered_truth = {name: flat.search(queries[:100], K, allowed=rows)[1] for name, rows in filters.items()}

    results = []
    for kind in args.kinds:
        params = kind_params(kind, args)
        print(f"\n== {kind} {params or '(defaults)'} ==")
        index, build_seconds, memory = timed_build(corpus, kind, params, build_threads)
        report_build(kind, build_seconds, memory, raw)
        print(f"parameters used: {index.params}; build-time recall@10 (held-out corpus vectors): {index.recall_at_10}")
        flat_latency, line = evaluate(index, flat, queries, truth, memory, raw)
        results.append(line)
        sweep(index, queries, truth, flat_latency)
        filtered(index, queries[:100], filters, filtered_truth)
        if args.save_dir:
            save_and_load(index, args.save_dir, queries)
        if kind == "ivfpq":
            pq_with_rerank(index, corpus, queries, truth, flat_latency)
        del index
        gc.collect()
    print("\n== summary ==")
    print(f"N = {len(corpus):,}, d = {corpus.shape[1]}, raw vectors {mib(raw)}, flat median {flat_latency[0]:.2f} ms")
    for line in results:
        print(line)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="corpus size (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 vectors: a fast check")
    parser.add_argument("--queries", type=int, default=500, help="held-out real abstracts used as queries")
    parser.add_argument("--kind", default="hnsw", help="approximate index kind(s): hnsw, ivf, ivfpq, comma-separated")
    parser.add_argument("--m", type=int, default=None, help="HNSW M (links per node)")
    parser.add_argument("--ef-construction", type=int, default=None, help="HNSW efConstruction")
    parser.add_argument("--ef-search", type=int, default=None, help="HNSW efSearch (default: tuned at build)")
    parser.add_argument("--nlist", type=int, default=None, help="IVF lists")
    parser.add_argument("--nprobe", type=int, default=None, help="IVF lists probed (default: tuned at build)")
    parser.add_argument("--recall-target", type=float, default=None, help="build-time tuning target")
    parser.add_argument("--with-pq", action="store_true", help="also build IVF-PQ (compressed) and report it")
    parser.add_argument("--noise", default="local", choices=["local", "isotropic"], help="how copies are made")
    parser.add_argument("--scale", type=float, default=None, help="noise scale (default: cosine-matched)")
    parser.add_argument("--profile", action="store_true", help="compare generated vs real data at equal size")
    parser.add_argument("--embeddings", type=Path, default=EMBEDDINGS, help="folder of cached real embeddings")
    parser.add_argument("--save-dir", type=Path, default=None, help="save each approximate index here, time load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.n = 100_000
    args.kinds = [kind.strip() for kind in args.kind.split(",") if kind.strip()]
    if not args.kinds or set(args.kinds) - {"hnsw", "ivf", "ivfpq"}:
        parser.error(f"--kind: expected hnsw, ivf or ivfpq (comma-separated), got {args.kind!r}")
    if args.with_pq and "ivfpq" not in args.kinds:
        args.kinds.append("ivfpq")
    if args.scale is None:
        args.scale = 1.0 if args.noise == "local" else 1.1
    return args


# ---------------------------------------------------------------------------------------------------- data


def load_real(folder: Path) -> np.ndarray:
    """All cached abstract embeddings (claims are queries of another kind, so they are left out)."""
    files = sorted(path for path in folder.glob("*.npy") if "claims" not in path.name)
    if not files:
        raise SystemExit(f"no cached embeddings in {folder}: run scripts/bench_fusion.py once to create them")
    return normalise(np.concatenate([np.load(path) for path in files]))


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)


def real_neighbours(anchors: np.ndarray) -> np.ndarray:
    _, rows = faiss.knn(anchors, anchors, NEIGHBOURS + 1, metric=faiss.METRIC_INNER_PRODUCT)
    return rows[:, 1:]


def generate(
    anchors: np.ndarray, neighbours: np.ndarray, n: int, noise: str, scale: float, seed: int
) -> tuple[np.ndarray, float]:
    """``n`` vectors around random anchors (see the module docstring), and their median cosine to the anchor."""
    rng = np.random.default_rng(seed + 1)
    d = anchors.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    cosines = []
    for start in range(0, n, 20_000):
        size = min(20_000, n - start)
        source = rng.integers(0, len(anchors), size)
        base = anchors[source]
        if noise == "local":
            offsets = anchors[neighbours[source]] - base[:, None, :]
            weights = rng.standard_normal((size, NEIGHBOURS, 1), dtype=np.float32) * (scale / np.sqrt(NEIGHBOURS))
            moved = base + (weights * offsets).sum(axis=1)
            moved += rng.standard_normal((size, d), dtype=np.float32) * (0.1 * scale / np.sqrt(d))
        else:
            moved = base + rng.standard_normal((size, d), dtype=np.float32) * (scale / np.sqrt(d))
        out[start : start + size] = normalise(moved)
        cosines.append(np.einsum("ij,ij->i", out[start : start + size], base))
    return out, float(np.median(np.concatenate(cosines)))


def profile(anchors: np.ndarray, neighbours: np.ndarray, queries: np.ndarray, args: argparse.Namespace) -> None:
    """Generated vs real at the same size: query-to-neighbour cosines and the HNSW recall curve should match."""
    print("\n== profile: real anchors vs an equally large generated set ==")
    generated, _ = generate(anchors, neighbours, len(anchors), args.noise, args.scale, args.seed + 7)
    for name, corpus in (("real", anchors), ("generated", generated)):
        scores, truth = faiss.knn(queries, corpus, K, metric=faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexHNSWFlat(corpus.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 64
        index.add(corpus)
        curve = []
        for ef in (16, 32, 64):
            index.hnsw.efSearch = ef
            curve.append(f"ef={ef}: {recall(index.search(queries, K)[1], truth):.3f}")
        print(
            f"{name:>9} ({len(corpus):,}): cosine of 1st / 10th neighbour {np.median(scores[:, 0]):.3f} / "
            f"{np.median(scores[:, -1]):.3f}; HNSW recall@10 {', '.join(curve)}"
        )


# ------------------------------------------------------------------------------------------------ measuring


def rss() -> int:
    """Resident set size of this process in bytes (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def release_freed_memory() -> None:
    """Return freed heap to the OS (glibc keeps it otherwise), so that the next RSS increase is the new index's
    own and not partly hidden by memory a previous index freed."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: measure without it
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def timed_build(corpus: np.ndarray, kind: str, params: dict, threads: int) -> tuple[VectorIndex, float, int]:
    """Build with all cores (as ``recommender build`` would); returns the index, seconds and RSS increase."""
    faiss.omp_set_num_threads(threads)
    release_freed_memory()
    before = rss()
    started = time.perf_counter()
    index = VectorIndex.build(corpus, kind=kind, params=params, progress=True)
    seconds = time.perf_counter() - started
    release_freed_memory()  # what the index holds at rest, not the build's freed temporaries (training sample...)
    return index, seconds, rss() - before


def latency(index: VectorIndex, queries: np.ndarray, allowed: np.ndarray | None = None) -> tuple[float, float]:
    """Median and p99 milliseconds of one query per call through :meth:`VectorIndex.search`, one FAISS thread."""
    faiss.omp_set_num_threads(1)
    index.search(queries[:5], K, allowed=allowed)  # warm-up
    times = []
    for query in queries:
        started = time.perf_counter()
        index.search(query[None, :], K, allowed=allowed)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times)), float(np.percentile(times, 99))


def fmt_latency(figures: tuple[float, float]) -> str:
    return f"median {figures[0]:.3f} ms, p99 {figures[1]:.3f} ms"


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    shares = [
        len(np.intersect1d(a[a >= 0], b[b >= 0])) / max(1, (b >= 0).sum()) for a, b in zip(found, truth, strict=True)
    ]
    return float(np.mean(shares))


def report_build(kind: str, seconds: float, memory: int, raw: int) -> None:
    print(f"{kind} build: {seconds:.1f} s; resident memory +{mib(memory)} = {memory / raw:.2f}x the raw vectors")


def kind_params(kind: str, args: argparse.Namespace) -> dict:
    names = {
        "hnsw": {"M": args.m, "efConstruction": args.ef_construction, "efSearch": args.ef_search},
        "ivf": {"nlist": args.nlist, "nprobe": args.nprobe},
        "ivfpq": {"nlist": args.nlist, "nprobe": args.nprobe if args.kinds == ["ivfpq"] else None},
    }[kind]
    names["recall_target"] = args.recall_target
    return {name: value for name, value in names.items() if value is not None}


def evaluate(
    index: VectorIndex, flat: VectorIndex, queries: np.ndarray, truth: np.ndarray, memory: int, raw: int
) -> tuple[tuple[float, float], str]:
    """Latency and recall against flat on the held-out real queries; the flat latency and the PASS/FAIL line.

    Flat and approximate are timed in alternating blocks (see :func:`paired_latency`), so that both see the same
    load on the machine (the cores are shared) and their ratio is not skewed by a busy spell during one of them.
    """
    flat_latency, figures = paired_latency(flat, index, queries)
    faiss.omp_set_num_threads(1)
    achieved = recall(index.search(queries, K)[1], truth)
    speedup = flat_latency[0] / figures[0]
    ratio = memory / raw
    print(f"single-query latency (1 thread, alternating blocks): flat {fmt_latency(flat_latency)}")
    print(f"{' ' * 51}{index.kind} {fmt_latency(figures)}")
    print(f"{index.kind} recall@10 vs flat on {len(queries)} held-out real queries: {achieved:.4f}")
    print(f"{index.kind} speed-up vs flat: median {speedup:.1f}x, p99 {flat_latency[1] / figures[1]:.1f}x")
    verdict = "PASS" if speedup >= SPEEDUP_TARGET and achieved >= RECALL_TARGET and ratio <= MEMORY_TARGET else "FAIL"
    return flat_latency, (
        f"{index.kind:>6} {index.params}: {speedup:.1f}x faster (target >= {SPEEDUP_TARGET:.0f}x) at recall@10 "
        f"{achieved:.4f} (target >= {RECALL_TARGET}); memory {ratio:.2f}x raw (target <= {MEMORY_TARGET:.0f}x) "
        f"-> {verdict}"
    )


def paired_latency(
    first: VectorIndex, second: VectorIndex, queries: np.ndarray, block: int = 100, warm: int = 50
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median and p99 ms of one query per call for two indexes, timed in alternating blocks of queries.

    Alternating spreads a busy spell on the shared cores over both. Each block starts with ``warm`` untimed
    queries (others than the block's), because a flat scan of the whole corpus evicts the other index from the
    CPU caches, which no service answering one request after another would suffer (measured at 1M: HNSW median
    0.85 ms after 10 warm-up queries, 0.62 ms after 50, 0.43-0.56 ms when run on its own).
    """
    faiss.omp_set_num_threads(1)
    times: tuple[list[float], list[float]] = ([], [])
    for start in range(0, len(queries), block):
        warm_up = np.roll(queries, -start - block, axis=0)[:warm]
        for index, spent in zip((first, second), times, strict=True):
            for query in warm_up:
                index.search(query[None, :], K)
            for query in queries[start : start + block]:
                started = time.perf_counter()
                index.search(query[None, :], K)
                spent.append((time.perf_counter() - started) * 1000)
    first_figures, second_figures = ((float(np.median(t)), float(np.percentile(t, 99))) for t in times)
    return first_figures, second_figures


def sweep(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, flat_latency: tuple[float, float]) -> None:
    """Recall and speed-up at other values of the search parameter, without rebuilding (the trade-off curve)."""
    name = "efSearch" if index.kind == "hnsw" else "nprobe"
    chosen = index.params[name]
    values = (16, 32, 64, 128, 256) if name == "efSearch" else (4, 8, 16, 32, 64, 128)
    for value in values:
        if value > index.params.get("nlist", value):
            break
        index.set_search_params(**{name: value})
        figures = latency(index, queries[:200])
        achieved = recall(index.search(queries, K)[1], truth)
        print(
            f"  {name}={value:<4} recall@10 {achieved:.4f}, median {figures[0]:.3f} ms, "
            f"{flat_latency[0] / figures[0]:.0f}x faster than flat"
        )
    index.set_search_params(**{name: chosen})


def make_filters(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 3)
    return {
        share: np.sort(rng.choice(n, size=int(n * fraction), replace=False))
        for share, fraction in (("1%", 0.01), ("2%", 0.02), ("10%", 0.10))
    }


def filtered(index: VectorIndex, queries: np.ndarray, filters: dict, truth: dict) -> None:
    """Filtered search (``allowed``) against exact filtered search: recall, fullness and latency."""
    for share, rows in filters.items():
        found = index.search(queries, K, allowed=rows)[1]
        full = float(np.mean((found >= 0).sum(axis=1) == K))
        inside = bool(np.isin(found[found >= 0], rows).all())
        figures = latency(index, queries, allowed=rows)
        print(
            f"{index.kind} filtered to {share} ({len(rows):,} rows): recall@10 {recall(found, truth[share]):.4f}, "
            f"{full:.0%} of queries got {K}, all inside the filter: {inside}, {fmt_latency(figures)}"
        )


def pq_with_rerank(
    index: VectorIndex, corpus: np.ndarray, queries: np.ndarray, truth: np.ndarray, flat_latency: tuple[float, float]
) -> None:
    """IVF-PQ re-ranking 10x10 candidates against the full vectors (which then live outside the index)."""
    print("ivfpq + exact re-rank of 10x10 candidates (full vectors kept outside the index, e.g. memory-mapped):")
    for nprobe in (16, 32, 64):
        index.set_search_params(rerank=10, nprobe=nprobe, vectors=corpus)
        figures = latency(index, queries[:200])
        achieved = recall(index.search(queries, K)[1], truth)
        print(
            f"  nprobe={nprobe:<4} recall@10 {achieved:.4f}, median {figures[0]:.3f} ms, "
            f"{flat_latency[0] / figures[0]:.0f}x faster than flat"
        )


def save_and_load(index: VectorIndex, folder: Path, queries: np.ndarray) -> None:
    """File size and load time; the loaded index (params restored from ``describe()``) answers the same."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{index.kind}.faiss"
    index.save(path)
    started = time.perf_counter()
    loaded = VectorIndex.load(path, params=index.params, recall_at_10=index.recall_at_10)
    seconds = time.perf_counter() - started
    same = np.array_equal(loaded.search(queries, K)[1], index.search(queries, K)[1])
    print(f"{index.kind} saved: {mib(path.stat().st_size)} on disk, loaded in {seconds:.1f} s, same answers: {same}")


def flat_sizes(corpus: np.ndarray, queries: np.ndarray) -> None:
    """Flat single-query latency by corpus size: where exact search stops being fast enough (AUTO_FLAT_MAX)."""
    print(f"\n== flat single-query latency by corpus size (auto uses flat up to {AUTO_FLAT_MAX:,}) ==")
    for size in (25_000, 50_000, 100_000, 200_000, 500_000):
        if size >= len(corpus):
            break
        index = VectorIndex.build(corpus[:size], kind="flat")
        print(f"{size:>9,}: {fmt_latency(latency(index, queries[:100]))}")
        del index


if __name__ == "__main__":
    main()
