"""Load test of the HTTP API: concurrent clients against the production server while the index is rebuilt.

Checks the claim "50 concurrent clients for 60 s on loopback against the production WSGI server, mixed queries,
while a rebuild runs and switches versions: zero failed requests", and prints p50/p95/p99/max latency and
requests/second, overall and per endpoint.

Steps (all in one run):

1. set-up (skipped with ``--url``): a working folder (``--workdir``, default a temporary one, deleted at the end
   unless ``--keep`` or a failure); ingest ``--n`` real SciFact abstracts (../shared/data/scifact/corpus.jsonl)
   and the four seed documents (../shared/seeds/*.txt) and build with the real bundled model, all through the
   CLI. The embedding cache (``WORKDIR/indexes/.cache``) is kept between runs with the same ``--workdir``, so a
   second run re-uses the vectors; the index itself is always made afresh;
2. start ``recommender serve`` (waitress) on 127.0.0.1 and a free port with a random write token, wait for
   ``GET /ready`` = 200, warm it up (model loaded by one search; the theme map fitted once, timed);
3. ``--clients`` threads (default 50), each with its own persistent HTTP/1.1 connection (``http.client``), send
   requests for ``--seconds`` (default 60) from a pre-built random mix (``--mix``): related papers of random
   ids, search with random SciFact claims, recommend with 1-3 positive and 0-1 negative ids, show a paper,
   health, ready and (rarely: a theme fit takes seconds of CPU) themes;
4. meanwhile a writer thread, after ``--rebuild-after`` seconds (default 5), alternates ``POST /rebuild``
   (incremental) and ``POST /papers`` of ``--add-batch`` held-out SciFact abstracts (not in the index) with
   ``"wait": 0``, polling ``GET /jobs/<id>`` until each job ends, as long as the remaining time allows another
   job of the length the previous ones took;
5. at the end: ``GET /health`` and ``GET /versions`` must show a new current version holding exactly the added
   papers more; then the server gets SIGTERM and its exit status and stop time are reported.

A request fails on a connection error, a timeout (``--timeout``, default 30 s), a status other than the one
expected (200 for reads, 202 for ``POST /rebuild``, 200 or 202 for ``POST /papers``) or a body that is not what
the endpoint promises (k hits for k asked, the record, ``ready: true``, no non-null ``problem`` in health or ready). The
first failures are printed in full, with the end of the server log. Exit status 1 on any failure, on a job that
failed, or when no rebuild switched the version during the load.

Query micro-batching (``RECOMMENDER_QUERY_BATCHING``, see :mod:`recommender.query_batching`): ``--query-batching
on|off`` starts the server with it set; ``--compare-batching`` runs everything above twice in one invocation, off
then on (same index, seed, request pool and clients; the second build re-uses the first one's embedding cache),
and ends with both arms' latencies side by side. Its effect shows on searches, the only requests that encode
text: use a search-heavy mix, e.g. ``--mix search=1``, and ``--no-writer`` to leave out the index jobs (and the
checks that need them) so that only the searches compete for the CPU.

The clients are threads of this one process: each request costs the client a fraction of a millisecond of
CPU (``http.client``, bodies built in advance) against several milliseconds of the server's, and the run
prints the client's CPU time to show it (2-3% of one core at 55-70 requests/s on this 2-core machine, where
the server used a full core), so the server, not the client, is what is measured and client processes were not
needed. Client and server share the machine's cores. With 50 closed-loop clients and waitress's 8 threads,
most of a request's latency is its wait in waitress's queue (Little's law: about clients / throughput).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/load_test.py [--clients 50] [--seconds 60] [--n 2000]
        [--workdir DIR] [--keep] [--threads N] [--mix related=30,search=25,...] [--seed 0]
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/load_test.py --compare-batching --mix search=1 --no-writer
        [--seconds 20] [--n 1000]
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/load_test.py --url http://127.0.0.1:8000 --token TOKEN
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCIFACT = SHARED / "data" / "scifact"
SEEDS = SHARED / "seeds"
RECOMMENDER = [sys.executable, "-m", "recommender"]
DEFAULT_MIX = "related=30,search=25,recommend=15,show=15,ready=6,health=6,themes=1"
KS = (5, 10, 20)
#: The server setting ``--query-batching``/``--compare-batching`` switch: "1" batches query encodes, "0" does not.
BATCHING_ENV = "RECOMMENDER_QUERY_BATCHING"
JSON_HEADERS = {"Content-Type": "application/json"}


# ------------------------------------------------------------------------------------------------ data
def scifact_records() -> list[dict]:
    rows = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("abstract"):
                rows.append({"id": str(row["id"]), "title": row.get("title") or "", "abstract": row["abstract"]})
    return rows


def claims() -> list[str]:
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as handle:
        return [row["text"] for row in map(json.loads, handle) if row.get("text")]


# ------------------------------------------------------------------------------------------------ HTTP
class Connection:
    """One persistent HTTP/1.1 connection; reopened after an error (the error itself is reported)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int | None, bytes, str | None]:
        """(status, body, error): a connection error or timeout gives (None, b"", its description)."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._conn.request(method, path, body=body, headers=headers or {})
            response = self._conn.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data, None
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return None, b"", f"{error.__class__.__name__}: {error}"

    def json(self, method: str, path: str, payload: object = None, headers: dict[str, str] | None = None) -> tuple:
        body = None if payload is None else json.dumps(payload).encode()
        status, data, error = self.call(method, path, body, {**JSON_HEADERS, **(headers or {})})
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, parsed, data, error

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# ------------------------------------------------------------------------------------------- requests
def hits_check(k: int) -> Callable[[object], str | None]:
    def check(data: object) -> str | None:
        if not isinstance(data, list) or len(data) != k or not all(isinstance(h, dict) and "id" in h for h in data):
            return f"expected a list of {k} hits, got {str(data)[:200]}"
        return None

    return check


def paper_check(data: object) -> str | None:
    return None if isinstance(data, dict) and data.get("id") else f"expected a paper record, got {str(data)[:200]}"


def ready_check(data: object) -> str | None:
    if not isinstance(data, dict) or data.get("ready") is not True or data.get("problem"):
        return f"not ready or a problem: {str(data)[:300]}"
    return None


def health_check(data: object) -> str | None:
    # "problem": null (with "serving") is the moment between a version's publication and its loading: no problem
    if not isinstance(data, dict) or data.get("status") != "ok" or data.get("problem"):
        return f"unhealthy: {str(data)[:300]}"
    return None


def themes_check(data: object) -> str | None:
    return None if isinstance(data, dict) and data.get("themes") else f"expected themes, got {str(data)[:200]}"


@dataclass(frozen=True)
class Request:
    endpoint: str  # what latencies are grouped by
    method: str
    path: str
    body: bytes | None
    check: Callable[[object], str | None]


def request_pool(mix: dict[str, float], ids: list[str], texts: list[str], size: int, seed: int) -> list[Request]:
    """``size`` requests drawn from ``mix``, bodies encoded now so the client threads only send them."""
    rng = random.Random(seed)
    kinds, weights = zip(*mix.items(), strict=True)
    pool = []
    for kind in rng.choices(kinds, weights=weights, k=size):
        k = rng.choice(KS)
        if kind == "related":
            path = f"/papers/{quote(rng.choice(ids), safe='')}/related?k={k}"
            pool.append(Request("GET /papers/<id>/related", "GET", path, None, hits_check(k)))
        elif kind == "search":
            body = json.dumps({"text": rng.choice(texts), "k": k}).encode()
            pool.append(Request("POST /search", "POST", "/search", body, hits_check(k)))
        elif kind == "recommend":
            examples = rng.sample(ids, rng.randint(1, 3) + (negatives := rng.randint(0, 1)))
            payload = {"positive": examples[negatives:], "negative": examples[:negatives], "k": k}
            pool.append(Request("POST /recommend", "POST", "/recommend", json.dumps(payload).encode(), hits_check(k)))
        elif kind == "show":
            path = f"/papers/{quote(rng.choice(ids), safe='')}"
            pool.append(Request("GET /papers/<id>", "GET", path, None, paper_check))
        elif kind == "ready":
            pool.append(Request("GET /ready", "GET", "/ready", None, ready_check))
        elif kind == "health":
            pool.append(Request("GET /health", "GET", "/health", None, health_check))
        elif kind == "themes":
            pool.append(Request("GET /themes", "GET", "/themes", None, themes_check))
        else:
            raise SystemExit(f"unknown request kind in --mix: {kind!r}")
    return pool


@dataclass
class Results:
    """Every request's (endpoint, latency in s, ok), failures in detail, and the versions clients saw."""

    start: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[str, float, bool]] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    versions_seen: dict[str, float] = field(default_factory=dict)
    mid_switch: int = 0  # health answers given while CURRENT named a version not loaded yet

    def add(
        self, samples: list[tuple[str, float, bool]], failures: list[dict], seen: dict[str, float], mid_switch: int = 0
    ) -> None:
        with self.lock:
            self.mid_switch += mid_switch
            self.samples += samples
            self.failures += failures
            for version, moment in seen.items():
                self.versions_seen[version] = min(moment, self.versions_seen.get(version, moment))


def failure(endpoint: str, method: str, path: str, status: int | None, data: bytes, problem: str, at: float) -> dict:
    return {
        "endpoint": endpoint,
        "request": f"{method} {path}",
        "status": status,
        "problem": problem,
        "body": data[:1000].decode("utf-8", "replace"),
        "at": round(at, 3),
    }


def client(
    host: str,
    port: int,
    timeout: float,
    pool: list[Request],
    offset: int,
    go: threading.Event,
    deadline: list[float],
    results: Results,
) -> None:
    """One simulated user: sends requests back to back on one connection until the deadline."""
    connection = Connection(host, port, timeout)
    samples: list[tuple[str, float, bool]] = []
    failures: list[dict] = []
    seen: dict[str, float] = {}
    mid_switch = 0
    go.wait()
    index = offset
    while (started := time.perf_counter()) < deadline[0]:
        request = pool[index % len(pool)]
        index += 1
        headers = JSON_HEADERS if request.body is not None else {}
        status, data, error = connection.call(request.method, request.path, request.body, headers)
        latency = time.perf_counter() - started
        problem = error or (None if status == 200 else f"status {status}")
        if problem is None:
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            problem = request.check(parsed)
            if problem is None and request.endpoint == "GET /ready":
                seen.setdefault(parsed["version"], started - results.start)
            elif problem is None and request.endpoint == "GET /health":
                mid_switch += "serving" in parsed
        samples.append((request.endpoint, latency, problem is None))
        if problem is not None:
            failures.append(
                failure(request.endpoint, request.method, request.path, status, data, problem, started - results.start)
            )
    connection.close()
    results.add(samples, failures, seen, mid_switch)


# --------------------------------------------------------------------------------------------- writer
@dataclass
class WriterLog:
    jobs: list[dict] = field(default_factory=list)
    added: int = 0
    requests: int = 0
    before: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def writer(
    host: str,
    port: int,
    timeout: float,
    token: str,
    new_papers: list[dict],
    batch: int,
    rebuild_after: float,
    poll: float,
    job_timeout: float,
    go: threading.Event,
    deadline: list[float],
    results: Results,
    log: WriterLog,
) -> None:
    """Starts index jobs during the load, one at a time, and follows each to its end."""
    connection = Connection(host, port, timeout)
    auth = {"Authorization": f"Bearer {token}"}
    samples: list[tuple[str, float, bool]] = []
    failures: list[dict] = []

    def call(endpoint: str, method: str, path: str, payload: object, expected: tuple[int, ...], headers=None):
        started = time.perf_counter()
        status, parsed, data, error = connection.json(method, path, payload, headers)
        problem = error or (None if status in expected else f"status {status}, expected {expected}")
        samples.append((endpoint, time.perf_counter() - started, problem is None))
        if problem is not None:
            failures.append(failure(endpoint, method, path, status, data, problem, started - results.start))
        return parsed if problem is None else None

    go.wait()
    time.sleep(max(0.0, results.start + rebuild_after - time.perf_counter()))
    health = call("GET /health", "GET", "/health", None, (200,))
    log.before = health or {}
    kinds = ["rebuild", "add-papers"]
    longest = 0.0
    while new_papers or kinds[0] == "rebuild":
        remaining = deadline[0] - time.perf_counter()
        if remaining <= 0 or (log.jobs and remaining < 1.2 * longest + 1):
            break
        kind = kinds[0]
        kinds.reverse()
        started = time.perf_counter()
        if kind == "rebuild":
            answer = call("POST /rebuild", "POST", "/rebuild", {"full": False}, (202,), auth)
            added = 0
        else:
            papers, new_papers = new_papers[:batch], new_papers[batch:]
            answer = call("POST /papers", "POST", "/papers", {"papers": papers, "wait": 0}, (200, 202), auth)
            added = (answer or {}).get("ingest", {}).get("added", 0)
            if answer is not None and added != len(papers):
                log.notes.append(f"POST /papers of {len(papers)} new papers added {added}: {answer.get('ingest')}")
        if answer is None:
            time.sleep(poll)
            continue
        job = answer["job"]
        while job["state"] not in ("succeeded", "failed") and time.perf_counter() - started < job_timeout:
            time.sleep(poll)
            job = call("GET /jobs/<id>", "GET", f"/jobs/{job['id']}", None, (200,)) or job
        seconds = time.perf_counter() - started
        longest = max(longest, seconds)
        result = job.get("result") or {}
        log.jobs.append(
            {
                "kind": kind,
                "id": job["id"],
                "state": job["state"],
                "seconds": seconds,
                "ended_at": time.perf_counter() - results.start,
                "build_id": result.get("build_id"),
                "count": result.get("count"),
                "added": added,
                "error": job.get("error"),
                "steps": job.get("steps"),
            }
        )
        if job["state"] == "succeeded":
            log.added += added
        else:
            log.problems.append(f"job {job['id']} ({kind}) ended {job['state']}: {job.get('error')}")
    connection.close()
    log.requests = len(samples)
    results.add(samples, failures, {})


# --------------------------------------------------------------------------------------------- set-up
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(index_dir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [*RECOMMENDER, "--index-dir", str(index_dir), *arguments]
    done = subprocess.run(command, env=child_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments[:1])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RECOMMENDER_")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


def set_up(workdir: Path, n: int) -> tuple[Path, list[str]]:
    """A fresh index of ``n`` SciFact abstracts and the seeds, built with the bundled model; its paper ids."""
    index_dir = workdir / "indexes"
    shutil.rmtree(index_dir / "default", ignore_errors=True)  # the index afresh; its embedding cache stays
    corpus = workdir / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in scifact_records()[:n]), encoding="utf-8")
    seeds = sorted(str(path) for path in SEEDS.glob("*.txt"))
    started = time.perf_counter()
    report = json.loads(cli(index_dir, "ingest", "--json", str(corpus), *seeds).stdout)
    ids = sorted({paper["id"] for paper in report["papers"]})
    print(
        f"ingested {report['read']} papers ({len(seeds)} seeds) in {time.perf_counter() - started:.1f} s; "
        f"building with the bundled model ...",
        flush=True,
    )
    started = time.perf_counter()
    built = json.loads(cli(index_dir, "build", "--json").stdout)
    print(
        f"built {built.get('build_id')} ({built.get('count')} papers, {built.get('embedded')} embedded, "
        f"{built.get('reused')} from the cache) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return index_dir, ids


def start_server(
    index_dir: Path, port: int, token: str, threads: int | None, log_path: Path, env: dict[str, str]
) -> subprocess.Popen:
    command = [*RECOMMENDER, "--index-dir", str(index_dir), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if threads:
        command += ["--threads", str(threads)]
    with log_path.open("wb") as log:
        return subprocess.Popen(command, env=child_env(RECOMMENDER_API_TOKEN=token, **env), stdout=log, stderr=log)


def wait_ready(connection: Connection, server: subprocess.Popen | None, limit: float = 180.0) -> dict:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode} before it was ready")
        status, parsed, _, _ = connection.json("GET", "/ready")
        if status == 200:
            return parsed
        time.sleep(0.3)
    raise SystemExit(f"the server was not ready after {limit:.0f} s")


def harvest_ids(connection: Connection, texts: list[str], rng: random.Random) -> list[str]:
    """Paper ids of a running server's index (it has no listing endpoint): the hits of a few searches."""
    found: set[str] = set()
    for text in rng.sample(texts, 60):
        status, parsed, _, _ = connection.json("POST", "/search", {"text": text, "k": 50})
        if status == 200:
            found.update(hit["id"] for hit in parsed)
    return sorted(found)


def unknown_papers(connection: Connection, candidates: list[dict], wanted: int) -> list[dict]:
    """Candidates the server does not hold (``GET /papers/<id>`` is a 404), up to ``wanted`` of them."""
    chosen = []
    for paper in candidates:
        if len(chosen) >= wanted:
            break
        status, _, _, _ = connection.json("GET", f"/papers/{quote(paper['id'], safe='')}")
        if status == 404:
            chosen.append(paper)
    return chosen


def timed(connection: Connection, method: str, path: str, payload: object = None) -> tuple[int | None, float]:
    started = time.perf_counter()
    status, _, _, _ = connection.json(method, path, payload)
    return status, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_server(server: subprocess.Popen, limit: float) -> str:
    started = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(limit)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return f"did NOT exit within {limit:.0f} s of SIGTERM; killed (SIGKILL)"
    return f"exited with status {code} {time.perf_counter() - started:.2f} s after SIGTERM"


# -------------------------------------------------------------------------------------------- figures
def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def table(samples: list[tuple[str, float, bool]], seconds: float) -> list[str]:
    groups: dict[str, list[float]] = defaultdict(list)
    failed: Counter[str] = Counter()
    for endpoint, latency, ok in samples:
        groups[endpoint].append(latency)
        failed[endpoint] += not ok
    lines = [
        f"{'endpoint':<26} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'failed':>6}"
    ]
    everything = sorted(latency for _, latency, _ in samples)
    rows = [("all", everything, sum(failed.values()))]
    rows += [(name, sorted(values), failed[name]) for name, values in sorted(groups.items(), key=lambda i: -len(i[1]))]
    for name, values, bad in rows:
        if not values:
            continue
        figures = " ".join(f"{1000 * percentile(values, q):8.1f}" for q in (0.5, 0.95, 0.99, 1.0))
        lines.append(f"{name:<26} {len(values):>8} {len(values) / seconds:>7.1f} {figures} {bad:>6}")
    return lines


# ----------------------------------------------------------------------------------------------- main
@dataclass
class Arm:
    """One run of the whole load: its name, the server's extra environment, and what it measured."""

    name: str
    env: dict[str, str]
    exit_code: int = 1  # until the run ends without a failure
    samples: list[tuple[str, float, bool]] = field(default_factory=list)
    elapsed: float = 0.0


def comparison(arms: list[Arm]) -> list[str]:
    """The arms' latencies per endpoint, one line per arm, endpoints in the first arm's order of request count."""
    groups: dict[str, int] = Counter(endpoint for endpoint, _, _ in arms[0].samples)
    endpoints = ["all", *(name for name, _ in sorted(groups.items(), key=lambda item: -item[1]))]
    width = max(len(arm.name) for arm in arms)
    lines = [
        f"{'endpoint':<26} {'run':<{width}} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'failed':>6}"
    ]
    for endpoint in endpoints:
        for arm in arms:
            chosen = [(latency, ok) for name, latency, ok in arm.samples if endpoint in ("all", name)]
            if not chosen:
                continue
            values = sorted(latency for latency, _ in chosen)
            figures = " ".join(f"{1000 * percentile(values, q):8.1f}" for q in (0.5, 0.95, 0.99))
            bad = sum(not ok for _, ok in chosen)
            rate = len(values) / arm.elapsed if arm.elapsed else 0.0
            lines.append(f"{endpoint:<26} {arm.name:<{width}} {len(values):>8} {rate:>7.1f} {figures} {bad:>6}")
    return lines


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        mix[name.strip()] = float(weight)
    return {name: weight for name, weight in mix.items() if weight > 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load")
    parser.add_argument("--n", type=int, default=2000, help="SciFact abstracts in the index (plus the 4 seeds)")
    parser.add_argument("--workdir", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--threads", type=int, default=None, help="server threads (default: `serve`'s default)")
    parser.add_argument("--url", default=None, help="test this running server instead (no set-up, no stop)")
    parser.add_argument("--token", default=os.environ.get("RECOMMENDER_API_TOKEN"), help="write token for --url")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"request kinds and weights (default {DEFAULT_MIX})")
    parser.add_argument("--rebuild-after", type=float, default=5.0, help="seconds into the load of the first job")
    parser.add_argument("--add-batch", type=int, default=5, help="new papers per POST /papers")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--job-timeout", type=float, default=300.0, help="longest wait for one index job")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="wait after SIGTERM before SIGKILL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--query-batching", choices=("on", "off"), default=None, help=f"start the server with {BATCHING_ENV}=1 or 0"
    )
    parser.add_argument(
        "--compare-batching", action="store_true", help="run twice, query batching off then on, and compare"
    )
    parser.add_argument(
        "--no-writer", action="store_true", help="no index jobs during the load (and no checks of them)"
    )
    args = parser.parse_args()
    if args.url and (args.query_batching or args.compare_batching):
        raise SystemExit("--query-batching and --compare-batching start their own server: not with --url")
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.compare_batching:
        arms = [Arm("batching off", {BATCHING_ENV: "0"}), Arm("batching on", {BATCHING_ENV: "1"})]
    elif args.query_batching:
        arms = [Arm(f"batching {args.query_batching}", {BATCHING_ENV: "1" if args.query_batching == "on" else "0"})]
    else:
        arms = [Arm("", {})]
    workdir = None
    if not args.url:
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="load-test-"))
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        for number, arm in enumerate(arms, 1):
            if len(arms) > 1:
                settings = ", ".join(f"{key}={value}" for key, value in arm.env.items())
                print(f"\n=== run {number}/{len(arms)}: {arm.name} ({settings})", flush=True)
            run(args, workdir, arm)
        if len(arms) > 1:
            print(f"\n=== comparison ({args.clients} clients, {args.seconds:.0f} s each, mix {args.mix}):")
            print(*comparison(arms), sep="\n")
    finally:
        exit_code = max(arm.exit_code for arm in arms)
        if workdir is not None:
            if args.keep or args.workdir or exit_code:
                print(f"working folder kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(exit_code)


def run(args: argparse.Namespace, workdir: Path | None, arm: Arm) -> None:
    """Set up (unless ``--url``), serve, load, check and stop once; the outcome goes into ``arm``."""
    rng = random.Random(args.seed)
    mix = parse_mix(args.mix)
    texts = claims()
    corpus = scifact_records()

    server = None
    log_path = None
    if args.url:
        address = urlsplit(args.url)
        host, port = address.hostname or "127.0.0.1", address.port or 80
        if not args.token:
            raise SystemExit("--url needs --token (or RECOMMENDER_API_TOKEN) for the writes")
        token = args.token
        probe = Connection(host, port, args.timeout)
        wait_ready(probe, None)
        ids = harvest_ids(probe, texts, rng)
        print(f"testing {args.url}: {len(ids)} paper ids found by searching", flush=True)
    else:
        assert workdir is not None  # made by main() whenever there is no --url
        index_dir, ids = set_up(workdir, args.n)
        host, port, token = "127.0.0.1", free_port(), secrets.token_urlsafe(24)
        log_path = workdir / ("server.log" if not arm.name else f"server-{arm.name.replace(' ', '-')}.log")
        started = time.perf_counter()
        server = start_server(index_dir, port, token, args.threads, log_path, arm.env)
        probe = Connection(host, port, args.timeout)
        wait_ready(probe, server)
        how = f"`recommender serve --threads {args.threads}`" if args.threads else "`recommender serve`"
        how += "".join(f" with {key}={value}" for key, value in arm.env.items())
        print(
            f"server pid {server.pid} (waitress via {how}) ready on {host}:{port} after "
            f"{time.perf_counter() - started:.1f} s; log {log_path}",
            flush=True,
        )

    try:
        held_out = corpus[args.n :] if not args.url else corpus
        held_out = rng.sample(held_out, len(held_out))
        per_job = max(1, args.add_batch)
        new_papers = unknown_papers(probe, held_out, per_job * 40)
        # warm-up, not measured: the query model loads on the first search; the theme map is fitted once
        warm = {
            name: timed(probe, method, path, payload)
            for name, method, path, payload in (
                ("search", "POST", "/search", {"text": texts[0], "k": 10}),
                ("related", "GET", f"/papers/{quote(ids[0], safe='')}/related", None),
                ("themes (first fit)", "GET", "/themes", None),
                ("themes (again)", "GET", "/themes", None),
            )
        }
        print(
            "warm-up: " + ", ".join(f"{name} {status} in {seconds:.2f} s" for name, (status, seconds) in warm.items())
        )

        pool = request_pool(mix, ids, texts, size=20000, seed=args.seed)
        results = Results(start=0.0)
        go = threading.Event()
        deadline = [0.0]
        threads = [
            threading.Thread(
                target=client,
                args=(host, port, args.timeout, pool, rng.randrange(len(pool)), go, deadline, results),
                daemon=True,
            )
            for _ in range(args.clients)
        ]
        log = WriterLog()
        writer_thread = threading.Thread(
            target=writer,
            args=(
                host,
                port,
                args.timeout,
                token,
                new_papers,
                per_job,
                args.rebuild_after,
                0.5,
                args.job_timeout,
                go,
                deadline,
                results,
                log,
            ),
            daemon=True,
        )
        for thread in threads if args.no_writer else [*threads, writer_thread]:
            thread.start()
        server_cpu = cpu_seconds(server.pid) if server else None
        client_cpu = time.process_time()
        results.start = time.perf_counter()
        deadline[0] = results.start + args.seconds
        writes = "no writer" if args.no_writer else f"writer starts after {args.rebuild_after:.0f} s"
        print(f"load: {args.clients} client threads for {args.seconds:.0f} s, mix {args.mix}; {writes} ...", flush=True)
        go.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - results.start
        client_cpu = time.process_time() - client_cpu
        if server is not None and server_cpu is not None:
            server_cpu = (cpu_seconds(server.pid) or server_cpu) - server_cpu
        if not args.no_writer:
            writer_thread.join(args.job_timeout + 60)
        writer_done = not writer_thread.is_alive()

        probe.close()  # idle through the load, longer than the server's channel_timeout may allow: a new one
        _, after, _, _ = probe.json("GET", "/health")
        _, versions, _, _ = probe.json("GET", "/versions")
        before = log.before

        samples = arm.samples = results.samples
        arm.elapsed = elapsed
        clients_done = len(samples) - log.requests
        failed = [sample for sample in samples if not sample[2]]
        print()
        print(
            f"requests: {len(samples)} in {elapsed:.1f} s ({clients_done} from {args.clients} clients, "
            f"{log.requests} from the writer); failed: {len(failed)}"
        )
        print(f"throughput: {len(samples) / elapsed:.1f} requests/s (clients {clients_done / elapsed:.1f}/s)")
        print(*table(samples, elapsed), sep="\n")
        no_themes = sorted(latency for endpoint, latency, _ in samples if endpoint != "GET /themes")
        if no_themes and len(no_themes) < len(samples):
            figures = ", ".join(f"p{int(q * 100)} {1000 * percentile(no_themes, q):.1f} ms" for q in (0.5, 0.95, 0.99))
            print(f"all requests but GET /themes: {figures}")
        cpu_note = (
            f"; server CPU {server_cpu:.1f} s ({100 * server_cpu / elapsed:.0f}% of one core)" if server_cpu else ""
        )
        print(
            f"client process CPU {client_cpu:.1f} s ({100 * client_cpu / elapsed:.0f}% of one core){cpu_note}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )

        print()
        for job in log.jobs:
            extra = f", +{job['added']} papers" if job["kind"] == "add-papers" else ""
            print(
                f"job {job['kind']:<10} {job['state']:<9} {job['seconds']:5.1f} s, ended at {job['ended_at']:5.1f} s"
                f" -> version {job['build_id']} ({job['count']} papers){extra}"
            )
        succeeded = [job for job in log.jobs if job["state"] == "succeeded"]
        switched_in_time = [job for job in succeeded if job["ended_at"] <= elapsed]
        old, new = before.get("version"), (after or {}).get("version")
        count_before, count_after = before.get("papers_indexed"), (after or {}).get("papers_indexed")
        current = [entry["id"] for entry in versions or [] if entry.get("current")]
        print(
            f"version: {old} ({count_before} papers) -> {new} ({count_after} papers); "
            f"{len(succeeded)}/{len(log.jobs)} jobs succeeded, {len(switched_in_time)} within the load; "
            f"{log.added} papers added; GET /versions current: {current}"
        )
        seen = sorted(results.versions_seen.items(), key=lambda item: item[1])
        print(
            "versions the clients' GET /ready saw (first seen at): "
            + ", ".join(f"{version} ({moment:.1f} s)" for version, moment in seen)
        )
        print(f"GET /health answers given between a version's publication and its loading: {results.mid_switch}")

        for note in log.notes:
            print(f"note: {note}")
        problems = list(log.problems)
        if current != [new]:
            problems.append(f"GET /versions marks {current} current, GET /health says {new}")
        if not args.no_writer:  # what the index jobs must have done
            if not writer_done:
                problems.append("the writer was still waiting for a job after the load")
            if not switched_in_time:
                problems.append("no index job finished (and switched the version) within the load")
            if not old or old == new:
                problems.append(f"the current version did not change ({old} -> {new})")
            if count_before is None or count_after != count_before + log.added:
                problems.append(f"papers indexed {count_before} -> {count_after}, expected +{log.added}")
            if len(results.versions_seen) < 2:
                problems.append("the clients' GET /ready never saw a second version")
        for item in results.failures[:10]:
            print(
                f"FAILED at {item['at']:.1f} s: {item['request']} -> {item['status']}: {item['problem']}; "
                f"body {item['body']!r}"
            )
        for problem in problems:
            print(f"PROBLEM: {problem}")
        arm.exit_code = 1 if failed or problems else 0
        print(
            f"\n{'PASS' if arm.exit_code == 0 else 'FAIL'}: {len(failed)} failed requests of {len(samples)}, "
            f"{len(problems)} other problems"
        )
    finally:
        if server is not None:
            print(f"server stop: {stop_server(server, args.stop_timeout)}")
            if arm.exit_code and log_path is not None and log_path.exists():
                lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                print(f"server log ({len(lines)} lines), last 40:", *lines[-40:], sep="\n    ")


if __name__ == "__main__":
    main()
