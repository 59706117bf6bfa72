"""N papers end to end on this machine: ingest, build, disk, start-up, queries, additions (issue 19).

The corpus is real abstracts (SciFact, Ohsumed-23, PubMedQA from ../shared/data) topped up with new abstracts
joined from two real ones (see bench_rebuild.py), so BM25 sees real vocabulary at any N. Vectors come from a
hashed bag-of-words encoder (384-d, deterministic, microseconds per paper) instead of the model, so nobody
waits days for encoding: everything after ``encode()`` is what is measured, and the model's own cost is
measured by bench_encoding.py. Steps, in one process, on a fresh index folder:

1. ingest N papers (one SQLite transaction) and build (tokenize, BM25, FAISS, files, checksums);
2. open the index as a new service and time the first ``ready()`` (what `/ready` waits for);
3. related(id) and search(text) p50/p99 over ``--queries`` queries, one client, then 20 at once (threads in
   this process, as the server's worker threads run them);
4. an addition of 10 papers, stored and searchable (ingest + delta version + load), and 100 additions of one
   paper in a row, with search p50 before and after them;
5. peak RSS of the building process and, measured in a fresh process (the serving half runs as a child), of
   the serving one, and the index folder's size, beside the raw float32 vectors' size.

Themes, the map payload and the 1M run are not measured by this version (see README).

    .venv/bin/python scripts/bench_scale.py [--n 100000] [--queries 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_rebuild import joined, real_records, write_jsonl

from recommender.model_profiles import ModelConfig
from recommender.service import Recommender
from recommender.settings import Settings

DIMENSION = 384
CLIENTS = 20
_WORD = re.compile(r"\w+")


class HashedEmbedder:
    """Hashed bag-of-words unit vectors: papers sharing words are close; no model, no weights."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.model_id = config.name
        self.dimension = DIMENSION
        self.max_seq_length = None

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(DIMENSION, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest[:2], "little") % DIMENSION] += 1.0 if digest[2] % 2 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.array([self._vector(text) for text in texts], dtype=np.float32).reshape(len(texts), DIMENSION)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_documents(texts)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return [False] * len(texts)


def factory(config: ModelConfig, settings: Settings) -> HashedEmbedder:
    return HashedEmbedder(config)


def percentiles(times: list[float]) -> str:
    ms = sorted(1000 * t for t in times)
    return f"p50 {statistics.median(ms):7.1f} ms   p99 {ms[min(len(ms) - 1, int(0.99 * len(ms)))]:7.1f} ms"


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def add(service: Recommender, papers: list[dict]) -> float:
    """Store papers and wait until a search can find them; seconds."""
    start = time.perf_counter()
    report = service.ingest_records(papers)
    job = service.start_update("bench", added=report.ids())
    if not job.wait(600) or job.state != "succeeded":
        sys.exit(f"the update failed: {job.to_dict()}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="papers in the index")
    parser.add_argument("--queries", type=int, default=200, help="queries per latency figure")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)  # the serving child
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.serve is not None:
        serve(args.serve, args.queries, args.seed)
        return
    rng = np.random.default_rng(args.seed)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    real = real_records()
    corpus = real[: args.n] + joined(real, max(0, args.n - len(real)), rng, "joined")
    source = write_jsonl(workdir / "corpus.jsonl", corpus)
    settings = Settings(index_dir=workdir / "indexes", show_progress=False)
    service = Recommender(settings, embedder_factory=factory)
    print(f"{len(corpus):,} papers ({min(len(real), args.n):,} real abstracts), {DIMENSION}-d hashed vectors")
    report("ingest", f"{timed(lambda: service.ingest([source])):8.1f} s")
    report("build (hashed vectors)", f"{timed(lambda: service.build()):8.1f} s")
    report("peak RSS of the building process", f"{peak_rss_mb():8.0f} MB")
    # Serving is measured in a fresh process, so its memory is the server's, not the build's.
    child = [
        sys.executable,
        __file__,
        "--serve",
        str(workdir),
        "--queries",
        str(args.queries),
        "--seed",
        str(args.seed),
    ]
    subprocess.run(child, check=True)


#: Real records the added papers are joined from.
EXTRA_SOURCES = 2000


def report(name: str, value: str) -> None:
    print(f"{name:<36} {value}", flush=True)


def serve(workdir: Path, queries: int, seed: int) -> None:
    """The serving half, in its own process: open, queries alone and in a crowd, additions, memory."""
    rng = np.random.default_rng(seed + 1)
    settings = Settings(index_dir=workdir / "indexes", show_progress=False)
    fresh = Recommender(settings, embedder_factory=factory)
    report("open + first ready()", f"{timed(fresh.ready):8.2f} s")
    report("RSS of the serving process, ready", resident())
    # Only the records the queries and additions need: the benchmark's own copy of the corpus must not count
    # in the service's memory.
    with (workdir / "corpus.jsonl").open("rb") as handle:
        n = sum(1 for _ in handle)  # the corpus built (a re-run also serves the papers earlier runs added)
    id_rows, text_rows = rng.integers(0, n, queries), rng.integers(0, n, queries)
    wanted = {*id_rows.tolist(), *text_rows.tolist(), *range(min(n, EXTRA_SOURCES))}
    records = read_rows(workdir / "corpus.jsonl", wanted)
    ids = [records[int(i)]["id"] for i in id_rows]
    texts = [" ".join(records[int(i)]["abstract"].split()[:12]) for i in text_rows]
    report("related(id), k=10", percentiles([timed(lambda i=i: fresh.related(i, 10)) for i in ids]))
    for text in texts[:20]:  # warm-up: the first queries fill caches (stems, spellings) later ones reuse
        fresh.search(text, 10)
    before = [timed(lambda t=t: fresh.search(t, 10)) for t in texts]
    report("search(text), k=10", percentiles(before))
    with ThreadPoolExecutor(CLIENTS) as pool:  # 20 clients at once, each query timed from its start
        crowd_related = list(pool.map(lambda i: timed(lambda: fresh.related(i, 10)), ids))
        crowd_search = list(pool.map(lambda t: timed(lambda: fresh.search(t, 10)), texts))
    report(f"related, {CLIENTS} clients at once", percentiles(crowd_related))
    report(f"search, {CLIENTS} clients at once", percentiles(crowd_search))
    extra = joined([records[i] for i in range(min(n, EXTRA_SOURCES))], 110, rng, "added")
    report("10 papers added, searchable", f"{add(fresh, extra[:10]):8.2f} s")
    single = [add(fresh, [paper]) for paper in extra[10:110]]
    report("100 single additions", percentiles(single))
    after = [timed(lambda t=t: fresh.search(t, 10)) for t in texts]
    change = statistics.median(after) / statistics.median(before) - 1
    report("search after 100 additions", f"{percentiles(after)}   ({change:+.0%} p50)")
    found = fresh.search(extra[109]["abstract"], 1)[0].id
    report("last added paper found by its text", "yes" if found == extra[109]["id"] else f"no ({found})")
    vectors = n * DIMENSION * 4
    peak = proc_status_mb("VmHWM")  # not ru_maxrss: Linux carries it over from the parent through fork and exec
    report("peak RSS of the serving process", f"{peak:8.0f} MB ({peak * 2**20 / vectors:.1f}x raw vectors)")
    report("RSS of the serving process, end", resident())
    disk = folder_bytes(settings.index_path)
    report("index folder on disk", f"{disk / 2**20:8.0f} MB ({disk / vectors:.1f}x raw vectors)")
    report("raw float32 vectors", f"{vectors / 2**20:8.0f} MB")


def read_rows(path: Path, rows: set[int]) -> dict[int, dict]:
    """The records on the given line numbers of a JSON-lines file."""
    with path.open(encoding="utf-8") as handle:
        return {number: json.loads(line) for number, line in enumerate(handle) if number in rows}


def resident() -> str:
    """The resident set now, split: anonymous memory (the process's own) and mapped file pages (vectors,
    postings and records read through memory maps: shared page cache the kernel may drop and re-read)."""
    anonymous, mapped = proc_status_mb("RssAnon"), proc_status_mb("RssFile")
    return f"{proc_status_mb('VmRSS'):8.0f} MB (anonymous {anonymous:.0f} MB, mapped files {mapped:.0f} MB)"


def proc_status_mb(field: str) -> float:
    """A memory figure of this process from Linux's /proc/self/status (VmRSS: now, VmHWM: peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
