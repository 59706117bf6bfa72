"""Cold start of the command line: how long one `recommender ...` call takes from a fresh process.

Issue 18's targets: `search` < 1.5 s, `related` < 0.8 s (median of 5), shown beside the time of
`python -c "import sentence_transformers"` measured in the same run (the import a query used to pay).

Set-up (skipped when ``--workdir`` already holds the index): ``--n`` real SciFact abstracts
(../shared/data/scifact/corpus.jsonl) ingested and built with the bundled model through the CLI; the theme
map is fitted once, so ``themes`` measures answering from the kept map. Then each command runs ``--repeat``
times as a new process (``subprocess.run``, output discarded) and the median and spread are printed.

Queries are timed twice: answered in the process (``--local``), and through a ``recommender serve`` of the
same index that this script starts, which the command line finds by itself (recommender.remote). Python's
bytecode cache is allowed (as after a pip install, which compiles it) even when PYTHONDONTWRITEBYTECODE is
set in the environment, and every command runs once untimed first.

    .venv/bin/python scripts/bench_cli.py [--n 1000] [--repeat 5] [--workdir /tmp/bench-cli]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCIFACT = REPO.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
BIN = Path(sys.executable).parent
TARGETS = {"search": 1.5, "related": 0.8}


def run(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one fresh process; a failure stops the benchmark with its output."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def set_up(workdir: Path, n: int, env: dict[str, str]) -> str:
    """Ingest and build ``n`` SciFact abstracts (once per workdir); return a paper id to query."""
    corpus = workdir / "corpus.jsonl"
    if not corpus.exists():
        with SCIFACT.open(encoding="utf-8") as source:
            lines = [line for _, line in zip(range(n), source, strict=False)]
        corpus.write_text("".join(lines), encoding="utf-8")
    first = json.loads(corpus.read_text(encoding="utf-8").splitlines()[0])
    if not (workdir / "indexes" / "default" / "CURRENT").exists():
        print(f"set-up: ingest and build {n} SciFact abstracts with the bundled model ...", flush=True)
        run([str(BIN / "recommender"), "ingest", str(corpus)], env)
        run([str(BIN / "recommender"), "build"], env)
        run([str(BIN / "recommender"), "themes"], env)
    return str(first.get("id"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="SciFact abstracts in the index")
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (the median is reported)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the index here between runs")
    options = parser.parse_args()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(workdir / "indexes"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("RECOMMENDER_SERVER", None)
    paper = set_up(workdir, options.n, env)
    cli = str(BIN / "recommender")
    query = "anoikis resistance of detached tumour cells"
    commands = {
        "python -c 'import sentence_transformers'": [sys.executable, "-c", "import sentence_transformers"],
        "python -c 'import recommender.cli'": [sys.executable, "-c", "import recommender.cli"],
        "recommender --help": [cli, "--help"],
        "show --local": [cli, "show", paper, "--local"],
        "related --local": [cli, "related", paper, "--local"],
        "recommend --local": [cli, "recommend", "-p", paper, "--local"],
        "search --local": [cli, "search", query, "--local"],
        "themes --local": [cli, "themes", "--local"],
    }
    served = {
        "show (server found)": [cli, "show", paper],
        "themes (server found)": [cli, "themes"],
        "related (server found)": [cli, "related", paper],
        "recommend (server found)": [cli, "recommend", "-p", paper],
        "search (server found)": [cli, "search", query],
    }
    print(f"{options.n} papers; each command {options.repeat} times as a fresh process (wall seconds)")
    print(f"{'command':<44} {'median':>7} {'min':>7} {'max':>7}  target")
    for name, args in commands.items():
        report(name, args, env, options.repeat)
    with server(env):
        for name, args in served.items():
            report(name, args, env, options.repeat)


def report(name: str, args: list[str], env: dict[str, str], repeat: int) -> None:
    run(args, env)  # untimed: writes the bytecode cache, warms the page cache (and a server's model)
    times = [run(args, env) for _ in range(repeat)]
    target = TARGETS.get(name.split()[0])
    verdict = "" if target is None else f"< {target} s: {'met' if statistics.median(times) < target else 'MISSED'}"
    print(f"{name:<44} {statistics.median(times):7.2f} {min(times):7.2f} {max(times):7.2f}  {verdict}", flush=True)


@contextmanager
def server(env: dict[str, str]):
    """A `recommender serve` of the index on a free port, ready, stopped (SIGTERM) afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [str(BIN / "recommender"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("the server did not become ready within 120 s")
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
