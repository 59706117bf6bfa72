"""Peak memory and time of one full build, for one or more source trees, on the same stored papers (issue 19).

The corpus is bench_scale.py's (real abstracts topped up with abstracts joined from two real ones) and so is
the encoder (hashed 384-d vectors, microseconds per paper): what is measured is everything a build does but the
model. The papers are ingested once per N into WORKDIR; then, for each tree given (``--trees``, folders holding
a ``recommender`` package, run one after the other), a fresh process builds a copy of that store twice:

* cold: empty embedding and terms caches (every paper tokenized and embedded), as a first build;
* warm: the caches the cold build filled (vectors and terms read back), as a weekly rebuild.

Each line gives the build's seconds, the process's resident memory before the build and its peak during it
(``VmHWM`` of /proc/self/status: the process does nothing else), and the peak's growth over the start. With
``--compare`` the versions the trees built are checked against each other: the records, columns, key terms and
vectors byte for byte, the BM25 matrices term by term (terms may be numbered differently), the manifests' facts.

    .venv/bin/python scripts/bench_build.py --n 20000 100000 --trees /work/main /tmp/streaming [--compare]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAME_BYTES = ("papers.jsonl", "papers.columns.json", "key_terms.jsonl", "embeddings.npy", "vectors.faiss")
FACTS = ("count", "dimension", "corpus_hash", "symbol_share", "bm25", "embedded", "reused", "index_type")


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(folder: Path) -> None:
    """One build of the index in ``folder`` (this process does nothing else); prints one JSON line."""
    sys.path.insert(0, str(HERE))
    from bench_scale import factory

    from recommender.service import Recommender
    from recommender.settings import Settings

    service = Recommender(Settings(index_dir=folder, show_progress=False), embedder_factory=factory)
    before = status_mb("VmRSS")
    start = time.perf_counter()
    manifest = service.build()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "rss_before": before, "peak": status_mb("VmHWM"), "build_id": manifest.build_id}
    result.update(embedded=manifest.embedded, reused=manifest.reused)
    print(json.dumps(result), flush=True)


def ingest(n: int, folder: Path, seed: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_rebuild import joined, real_records, write_jsonl

    from recommender.service import Recommender
    from recommender.settings import Settings

    rng = np.random.default_rng(seed)
    real = real_records()
    corpus = real[:n] + joined(real, max(0, n - len(real)), rng, "joined")
    folder.parent.mkdir(parents=True, exist_ok=True)
    source = write_jsonl(folder.parent / f"corpus-{n}.jsonl", corpus)
    Recommender(Settings(index_dir=folder, show_progress=False)).ingest([source])


def run(tree: Path, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(folder)], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(first: Path, second: Path) -> str:
    """What differs between two versions of the same papers ("same" when nothing does)."""
    from scipy import sparse

    differences = [name for name in SAME_BYTES if (first / name).read_bytes() != (second / name).read_bytes()]
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (first, second)]
    differences += [name for name in FACTS if manifests[0].get(name) != manifests[1].get(name)]
    matrices, vocabularies = [], []
    for folder in (first, second):
        arrays = [np.load(folder / "lexical" / f"{name}.csc.index.npy") for name in ("data", "indices", "indptr")]
        vocab = json.loads((folder / "lexical" / "vocab.index.json").read_text(encoding="utf-8"))
        columns = len(arrays[2]) - 1
        vocabularies.append({term: column for term, column in vocab.items() if column < columns})
        matrices.append(sparse.csc_matrix(tuple(arrays), shape=(manifests[0]["count"], columns)))
    if vocabularies[0].keys() != vocabularies[1].keys():
        differences.append("vocabulary")
    else:
        terms = sorted(vocabularies[0])
        ordered = [
            matrix[:, [vocab[term] for term in terms]] for matrix, vocab in zip(matrices, vocabularies, strict=True)
        ]
        if not all(
            np.array_equal(getattr(ordered[0], name), getattr(ordered[1], name))
            for name in ("data", "indices", "indptr")
        ):
            differences.append("BM25 scores")
    return "same" if not differences else "differ: " + ", ".join(differences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[20_000])
    parser.add_argument("--trees", type=Path, nargs="+", required=False, default=[HERE.parent])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="check that the trees built the same versions")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-build-"))
    print(f"{'papers':>8} {'tree':<24} {'build':<5} {'seconds':>8} {'RSS start':>10} {'peak':>8} {'growth':>8}")
    for n in args.n:
        stored = workdir / f"store-{n}"
        if not (stored / "default" / "papers.sqlite").exists():
            ingest(n, stored, args.seed)
        built = []
        for number, tree in enumerate(args.trees):
            folder = workdir / f"build-{n}-{number}"
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(stored, folder)
            for kind in ("cold", "warm"):
                result = run(tree, folder)
                growth = result["peak"] - result["rss_before"]
                print(
                    f"{n:>8,} {tree!s:<24} {kind:<5} {result['seconds']:>8.1f} {result['rss_before']:>7.0f} MB "
                    f"{result['peak']:>5.0f} MB {growth:>5.0f} MB   embedded {result['embedded']}, "
                    f"reused {result['reused']}",
                    flush=True,
                )
                if kind == "cold":
                    built.append(folder / "default" / "versions" / result["build_id"])
        if args.compare and len(built) > 1:
            for other in built[1:]:
                print(f"{n:>8,} versions of {args.trees[0]} and the next tree: {compare(built[0], other)}", flush=True)


if __name__ == "__main__":
    main()
