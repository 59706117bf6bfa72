"""Crash safety of builds: kill -9 a running `recommender build` at random moments, then load and query.

Set-up: an index of N real abstracts (default 600 from ../shared/data) built once with the real bundled
model. Then, ``--runs`` times (default 20): add a few new papers, start ``recommender build`` as a separate
process (every other one with ``--full``, which re-embeds everything and so spends its time embedding; the
others embed only the new papers and spend theirs writing the index), SIGKILL it after a random delay drawn
over the length of such a build, and check, in a fresh service, that the index loads, that it is the
previous version or a complete new one, and that `related` and `search` answer.

Prints one line per kill and a summary; exit status 1 if any check failed.

    .venv/bin/python scripts/bench_crash.py [--runs 20] [--n 600] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recommender.service import Recommender
from recommender.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RECOMMENDER = [sys.executable, "-m", "recommender"]


def records(n: int) -> list[dict]:
    rows = []
    for name in ("scifact", "ohsumed23"):
        with (SHARED / name / "corpus.jsonl").open(encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle]
    rows = [row for row in rows if row.get("abstract")]
    return [{"id": str(row["id"]), "title": row.get("title") or "", "abstract": row["abstract"]} for row in rows[:n]]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run_build(env: dict[str, str], full: bool) -> subprocess.Popen:
    command = [*RECOMMENDER, "build", *(["--full"] if full else [])]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def timed_build(env: dict[str, str], full: bool) -> float:
    start = time.perf_counter()
    process = run_build(env, full)
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"build failed: {err.decode()[-2000:]}")
    return time.perf_counter() - start


def check(settings: Settings, probe: str, known: set[str]) -> tuple[bool, str]:
    """A fresh service (as after a restart): the index loads, its version is a known complete one, it answers."""
    try:
        service = Recommender(settings)
        version = service.versions.current_id() or ""
        related = service.related(probe, 5)
        found = service.search("anoikis resistance of detached cancer cells", 5)
        ok = version in known and len(related) == 5 and len(found) == 5
        return ok, version
    except Exception as error:  # the point of the script: report any failure instead of stopping
        return False, f"{error.__class__.__name__}: {error}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--n", type=int, default=600, help="papers in the index")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = records(args.n + 10 * args.runs)
    base, spare = rows[: args.n], rows[args.n :]
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(folder / "indexes"), "HF_HUB_OFFLINE": "1"}
        settings = Settings(index_dir=folder / "indexes", show_progress=False)
        subprocess.run([*RECOMMENDER, "ingest", str(write_jsonl(folder / "base.jsonl", base))], env=env,
                       check=True, capture_output=True)  # fmt: skip
        print(f"first build of {len(base)} papers ...", flush=True)
        timed_build(env, full=False)
        durations = {True: timed_build(env, full=True), False: timed_build(env, full=False)}
        print(f"uninterrupted build: --full {durations[True]:.1f} s, incremental {durations[False]:.1f} s")
        failures = 0
        for run in range(args.runs):
            added = spare[run * 10 : (run + 1) * 10]
            subprocess.run([*RECOMMENDER, "ingest", str(write_jsonl(folder / f"add-{run}.jsonl", added))], env=env,
                           check=True, capture_output=True)  # fmt: skip
            full = run % 2 == 0
            known_before = set(Recommender(settings).versions.build_ids())
            delay = rng.uniform(0.2, durations[full] * 1.1)
            process = run_build(env, full)
            time.sleep(delay)
            finished = process.poll() is not None
            if not finished:
                os.kill(process.pid, signal.SIGKILL)
            process.wait()
            known = set(Recommender(settings).versions.build_ids()) | known_before
            ok, version = check(settings, base[0]["id"], known)
            switched = "new version" if version not in known_before else "previous version"
            state = "finished before the kill" if finished else f"killed after {delay:5.1f} s"
            print(f"run {run + 1:2d} ({'--full' if full else 'incremental'}): {state}; serving the {switched}: "
                  f"{'OK' if ok else 'FAILED ' + version}", flush=True)  # fmt: skip
            failures += not ok
    print(f"{args.runs - failures}/{args.runs} kills left a loadable index that answered")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
