"""Incremental rebuild vs cold rebuild: what adding 1% new papers to a 20,000-paper index costs.

Steps, all in one run on a fresh index folder and a fresh embedding cache, with the real bundled model:

1. ingest N papers (default 20,000: every abstract of SciFact, Ohsumed-23 and PubMedQA from ../shared/data,
   topped up with papers joined from two real abstracts) and build — the cold build (empty cache: every paper
   is embedded, tokenized and indexed);
2. ingest 1% more papers (new abstracts, joined the same way) and build again — the incremental rebuild
   (only the new papers are embedded and tokenized);
3. optionally (``--also-full``) ``build --full`` on the same corpus, which re-embeds everything.

Prints the time of each build, its embedded/reused counts and the ratio cold / incremental (target ≥ 30).
Ingest time is excluded from both: it is the same work either way.

    .venv/bin/python scripts/bench_rebuild.py [--n 20000] [--added 0.01] [--also-full]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from recommender.service import Recommender
from recommender.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = ("scifact", "ohsumed23", "pubmedqa_labeled")


def real_records() -> list[dict]:
    records = []
    for name in CORPORA:
        with (SHARED / name / "corpus.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("abstract"):
                    records.append({"id": f"{name}:{row['id']}", "title": row.get("title") or "",
                                    "abstract": row["abstract"]})  # fmt: skip
    return records


def joined(records: list[dict], count: int, rng: np.random.Generator, prefix: str) -> list[dict]:
    """New, distinct abstracts made of the first half of one real abstract and the second half of another."""
    made = []
    for number in range(count):
        a, b = rng.integers(0, len(records), size=2)
        first, second = records[a]["abstract"], records[b]["abstract"]
        made.append({"id": f"{prefix}:{number}", "title": records[a]["title"],
                     "abstract": first[: len(first) // 2] + " " + second[len(second) // 2 :]})  # fmt: skip
    return made


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def timed_build(settings: Settings, **options: object) -> tuple[float, object]:
    """One build as a fresh process would run it: a new service, so loading the model counts too."""
    start = time.perf_counter()
    manifest = Recommender(settings).build(**options)  # type: ignore[arg-type]
    return time.perf_counter() - start, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="papers in the initial corpus")
    parser.add_argument("--added", type=float, default=0.01, help="fraction of new papers added")
    parser.add_argument("--also-full", action="store_true", help="also time `build --full` (re-embeds all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rng = np.random.default_rng(args.seed)
    real = real_records()
    base = real[: args.n] + joined(real, max(0, args.n - len(real)), rng, "joined")
    extra = joined(real, max(1, round(args.n * args.added)), rng, "new")
    print(f"corpus: {len(base)} papers ({min(len(real), args.n)} real abstracts), then {len(extra)} new papers")
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        folder = Path(tmp)
        settings = Settings(index_dir=folder / "indexes", show_progress=True)
        service = Recommender(settings)
        service.ingest([write_jsonl(folder / "base.jsonl", base)])
        cold, first = timed_build(settings)
        print(f"cold build:        {cold:8.1f} s  embedded {first.embedded}, reused {first.reused}", flush=True)
        service.ingest([write_jsonl(folder / "extra.jsonl", extra)])
        warm, second = timed_build(settings)
        print(f"incremental build: {warm:8.1f} s  embedded {second.embedded}, reused {second.reused}", flush=True)
        if args.also_full:
            full, third = timed_build(settings, full=True)
            print(f"full rebuild:      {full:8.1f} s  embedded {third.embedded}, reused {third.reused}")
    ratio = cold / warm
    verdict = "PASS" if ratio >= 30 else "FAIL"
    print(f"cold / incremental = {ratio:.1f}x  (target >= 30x: {verdict})")


if __name__ == "__main__":
    main()
