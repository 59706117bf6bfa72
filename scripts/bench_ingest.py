"""Ingest throughput per input format, on generated records, beside a bare-parsing baseline.

For each format the script writes N generated records (synthetic text, made up here), then times
(1) the bare standard-library parse of the same file (the baseline: ``json.loads`` per line, ``csv`` rows),
(2) our reader (``read_paths``: detection, field mapping, normalisation, ids), and
(3) a full ``Recommender.ingest`` into a fresh SQLite store (reader + dedup + one transaction).
It prints records/second for each and the reader's cost relative to the baseline.

    .venv/bin/python scripts/bench_ingest.py --records 20000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from recommender.ingest import read_paths
from recommender.service import Recommender
from recommender.settings import Settings

WORDS = (
    "anoikis resistance metastasis fibroblast IL-6 STAT3 signalling hypoxia HIF-1alpha glycolysis tumour "
    "cells detached matrix survival kinase inhibitor therapy exhaustion PD-1 CD8+ lactate angiogenesis"
).split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "id": f"gen-{i}",
            "title": sentence(rng, 10),
            "abstract": " ".join(sentence(rng, 18) for _ in range(10)),
            "doi": f"10.5555/gen.{i}",
            "year": 1990 + i % 35,
            "journal": "Generated Journal",
            "authors": ["Ann Smith", "Bo Chen"],
        }
        for i in range(n)
    ]


def write_formats(folder: Path, items: list[dict]) -> dict[str, Path]:
    paths = {"jsonl": folder / "corpus.jsonl", "csv": folder / "corpus.csv"}
    with paths["jsonl"].open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item) + "\n")
    with paths["csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(items[0]))
        writer.writeheader()
        for item in items:
            writer.writerow({**item, "authors": "; ".join(item["authors"])})
    return paths


def baseline(kind: str, path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        if kind == "jsonl":
            return sum(1 for line in handle if json.loads(line))
        return sum(1 for _ in csv.DictReader(handle))


def timed(action: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = action()
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_formats(folder, records(args.records))
        print(f"{args.records} generated records per format")
        print(f"{'format':<7} {'baseline rec/s':>15} {'reader rec/s':>13} {'ingest rec/s':>13} {'reader/baseline':>16}")
        for kind, path in paths.items():
            n_base, t_base = timed(lambda path=path, kind=kind: baseline(kind, path))
            n_read, t_read = timed(lambda path=path: sum(1 for _ in read_paths([path])))
            service = Recommender(Settings(index_dir=folder / "indexes", index_name=kind, show_progress=False))
            n_ingest, t_ingest = timed(lambda path=path, service=service: service.ingest([path]).read)
            assert n_base == n_read == n_ingest == args.records, (n_base, n_read, n_ingest)
            print(
                f"{kind:<7} {n_base / t_base:>15,.0f} {n_read / t_read:>13,.0f} {n_ingest / t_ingest:>13,.0f} "
                f"{t_read / t_base:>15.1f}x"
            )


if __name__ == "__main__":
    main()
