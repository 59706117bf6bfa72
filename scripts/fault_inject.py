"""Fault injection: kill -9 during builds and writes, damaged index files, a full disk.

After every fault the check is the same: the service starts, answers (``/ready``, related papers, search) and,
once its catch-up build is done, holds and indexes exactly the papers that were acknowledged.

A base index of ``--n`` real abstracts (``../shared/data/scifact/corpus.jsonl``) is built once with the real
bundled model, in two versions; every scenario then works on a fresh copy of it (embedding cache included, so
later builds only embed new papers). Servers run as ``recommender serve`` subprocesses on free 127.0.0.1 ports.

1. ``build-kill``: per round, ingest 10 new papers with the CLI (exit 0 = acknowledged), start a second ingest
   and kill -9 it at a random moment (it must be stored all or nothing), start ``recommender build`` (every
   other one ``--full``) and kill -9 it at a random moment; then start ``recommender serve``: ``/ready`` 200,
   related and search 200, and after the catch-up build papers_stored == papers_indexed == acknowledged.
2. ``server-kill``: a client sends ``POST /papers`` batches of new ids and ``DELETE`` requests (``wait`` 0
   or 30) in a loop and records what was acknowledged (200/202); the server is killed -9 at a random moment and
   restarted; after its catch-up job every acknowledged paper is stored and indexed (``/related`` 200, not
   409), every acknowledged deletion is gone from store and index (404), and the counts equal base + added -
   deleted, give or take the one request in flight (stored all or nothing; reported).
3. ``damaged``: one file of the CURRENT version damaged (manifest removed, vectors / embeddings / lexical
   files truncated, papers / key terms truncated mid-line, CURRENT itself truncated). With an older good
   version kept, the server serves it, ``/ready`` and ``/health`` name the problem and the file, queries answer,
   and ``POST /rebuild`` publishes a good version and clears the problem. With that version alone, the server
   starts, ``/health`` is 200, ``/ready`` is a 503 naming the file, queries get JSON errors and a rebuild repairs it.
4. ``disk-full``: a real full filesystem (a small tmpfs mounted for the run; needs root) or, where mounting is
   not allowed, RLIMIT_FSIZE on the processes with SIGXFSZ ignored (writes fail with EFBIG). A build that runs
   out of space fails with a clear error (CLI exit 1 "could not write to disk"; HTTP job ``failed`` with code
   ``storage_error``) and leaves CURRENT serving; an ingest that runs out of space is a 507 JSON error with the
   store unchanged; after space is freed a rebuild succeeds and the counts equal what was acknowledged.

Prints one PASS/FAIL line per scenario with its figures (and the failures, with a server-log excerpt); exit
status 1 if anything failed.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fault_inject.py [--rounds 4] [--n 300] [--only build-kill]
        [--workdir DIR] [--keep] [--seed 0] [--disk-full auto|tmpfs|rlimit]

Takes about 6-8 minutes with the defaults on 2 shared cores (6.6 min measured; about 1 minute of it the first
build of the base index); each extra ``--rounds`` adds roughly 25 s to scenario 1 and 20 s to scenario 2.
The work folder is removed at the end unless ``--keep`` is given or something failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
RECOMMENDER = [sys.executable, "-m", "recommender"]
TOKEN = "fault-inject-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEARCH_TEXT = "diffusion tensor imaging of white matter development in preterm infants"
SCENARIOS = ("build-kill", "server-kill", "damaged", "disk-full")
# Run under the file-size limit: ignore SIGXFSZ (so a write past the limit fails with EFBIG instead of killing
# the process; an ignored signal stays ignored across exec), lower RLIMIT_FSIZE, then exec the real command.
RLIMIT_SHIM = (
    "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "limit = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)

CHILDREN: list[subprocess.Popen] = []


# ------------------------------------------------------------------------------------------------ helpers
def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_records(count: int) -> list[dict[str, str]]:
    """Every SciFact abstract with a title (the first ``count`` make the base; the rest are new papers)."""
    rows = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("abstract") and row.get("title"):
                rows.append({"id": f"sf-{row['id']}", "title": row["title"], "abstract": row["abstract"]})
    if len(rows) < count:
        raise SystemExit(f"{CORPUS} has only {len(rows)} usable abstracts, {count} needed")
    return rows


class Pool:
    """New papers, never used twice in a run."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._rows = rows

    def take(self, count: int) -> list[dict[str, str]]:
        if len(self._rows) < count:
            raise RuntimeError("ran out of spare papers: lower --rounds")
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def environment(index_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RECOMMENDER_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        RECOMMENDER_INDEX_DIR=str(index_dir),
        RECOMMENDER_API_TOKEN=TOKEN,
    )
    return env


def limited(command: list[str], fsize: int | None) -> list[str]:
    """``command`` run under RLIMIT_FSIZE = ``fsize`` bytes (SIGXFSZ ignored), or as is."""
    if fsize is None:
        return command
    return [sys.executable, "-c", RLIMIT_SHIM, str(fsize), *command]


def spawn(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen:
    """A child in its own process group (so kill -9 reaches everything it started), remembered for clean-up."""
    process = subprocess.Popen(command, env=env, start_new_session=True, **kwargs)
    CHILDREN.append(process)
    return process


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def cleanup_children() -> None:
    for process in CHILDREN:
        kill_group(process)
        with contextlib.suppress(Exception):
            process.wait(timeout=10)
    CHILDREN.clear()


def run_cli(args: list[str], env: dict[str, str], *, fsize: int | None = None, timeout: float = 600):
    """Run ``recommender ARGS`` to completion; returns (exit status, stderr)."""
    process = spawn(limited([*RECOMMENDER, *args], fsize), env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = process.communicate(timeout=timeout)
    finally:
        kill_group(process)
    return process.returncode, err.decode(errors="replace")


def kill_after(command: list[str], env: dict[str, str], delay: float) -> tuple[bool, int | None]:
    """Start ``command``, kill -9 its process group after ``delay`` s; (finished before the kill, exit status)."""
    process = spawn(command, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
        return True, process.returncode
    except subprocess.TimeoutExpired:
        kill_group(process)
        process.wait()
        return False, None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def current_id(index_dir: Path) -> str:
    with contextlib.suppress(OSError):
        return (index_dir / "default" / "CURRENT").read_text(encoding="utf-8").strip()
    return ""


def versions_of(index_dir: Path) -> list[str]:
    folder = index_dir / "default" / "versions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def leftovers(index_dir: Path) -> list[str]:
    folder = index_dir / "default" / "versions"
    return sorted(p.name for p in folder.glob(".tmp-*")) if folder.is_dir() else []


def json_error(response: requests.Response) -> str | None:
    """The error code of a JSON error body, or None if it is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]:
        return str(body["error"]["code"])
    return None


def short(response: requests.Response) -> str:
    return f"{response.status_code} {response.text[:300].strip()}"


class Server:
    """One ``recommender serve`` subprocess; its stderr (the log) is copied to a file by a thread."""

    count = 0

    def __init__(
        self, index_dir: Path, log_dir: Path, name: str, *, fsize: int | None = None, catch_up: bool = True
    ) -> None:
        Server.count += 1
        self.index_dir = index_dir
        self.log_path = log_dir / f"{name}-{Server.count}.log"
        self.fsize = fsize
        self.catch_up = catch_up
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.http = requests.Session()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 120) -> Server:
        self.port = free_port()
        command = [*RECOMMENDER, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--log-format", "text", "--shutdown-timeout", "10", *([] if self.catch_up else ["--no-catch-up"])]
        self.process = spawn(limited(command, self.fsize), environment(self.index_dir), stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._copy_log, args=(self.process,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                time.sleep(0.3)
                raise RuntimeError(f"the server exited with status {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if self.get("/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def _copy_log(self, process: subprocess.Popen) -> None:
        with self.log_path.open("ab") as out:
            for line in process.stderr:  # type: ignore[union-attr]
                out.write(line)
                out.flush()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return self.http.request(method, f"http://127.0.0.1:{self.port}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, headers=AUTH, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, headers=AUTH, **kwargs)

    def health(self) -> dict[str, Any]:
        return self.get("/health").json()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 12) -> str:
        return "\n".join("      | " + line[:400] for line in self.log_text().splitlines()[-lines:])

    def catch_up_job(self, timeout: float = 30) -> str | None:
        """The catch-up job this server started with, if any (its log says so before 'Serving index')."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            found = re.search(r"catching up in job ([0-9a-f]{16})", text)
            if found:
                return found.group(1)
            if "Serving index" in text:
                return None
            time.sleep(0.1)
        return None

    def wait_job(self, job_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(f"/jobs/{job_id}")
            if response.status_code == 200 and response.json()["state"] in ("succeeded", "failed"):
                return response.json()
            time.sleep(0.3)
        raise RuntimeError(f"job {job_id} did not finish within {timeout:.0f} s")

    def kill9(self) -> None:
        if self.process is not None:
            kill_group(self.process)
            self.process.wait()
            if self._reader is not None:
                self._reader.join(timeout=5)

    def stop(self) -> None:
        """SIGTERM (graceful stop), SIGKILL if it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        kill_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill9()
        if self._reader is not None:
            self._reader.join(timeout=5)


@dataclass
class Outcome:
    """Failures and figures of one scenario."""

    name: str
    failures: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def expect(self, condition: bool, message: str, server: Server | None = None) -> bool:
        if not condition:
            excerpt = f"\n    server log ({server.log_path.name}):\n{server.log_tail()}" if server else ""
            self.failures.append(message + excerpt)
            log(f"FAILED: {message}")
        return condition


def check_answers(outcome: Outcome, server: Server, probe: str, label: str) -> None:
    """/ready 200, related papers of ``probe`` and a text search: 200 with 5 hits each."""
    ready = server.get("/ready")
    outcome.expect(ready.status_code == 200, f"{label}: /ready -> {short(ready)}", server)
    related = server.get(f"/papers/{probe}/related", params={"k": 5})
    outcome.expect(
        related.status_code == 200 and len(related.json()) == 5, f"{label}: related {probe} -> {short(related)}", server
    )
    found = server.request("POST", "/search", json={"text": SEARCH_TEXT, "k": 5})
    outcome.expect(found.status_code == 200 and len(found.json()) == 5, f"{label}: search -> {short(found)}", server)


def settle(outcome: Outcome, server: Server, label: str) -> dict[str, Any]:
    """Wait for the server's catch-up job (if it started one); returns /health afterwards."""
    job_id = server.catch_up_job()
    if job_id is not None:
        job = server.wait_job(job_id)
        outcome.expect(job["state"] == "succeeded", f"{label}: catch-up job {job_id} {job['state']}: {job}", server)
    health = server.health()
    outcome.expect(
        health.get("papers_indexed") == health.get("papers_stored"),
        f"{label}: after catch-up papers_indexed {health.get('papers_indexed')} != "
        f"papers_stored {health.get('papers_stored')} ({health})",
        server,
    )
    return health


# ------------------------------------------------------------------------------------------------ base index
@dataclass
class Base:
    index_dir: Path
    ids: list[str]
    versions: list[str]
    build_seconds: float
    ingest_seconds: float

    def copy(self, target: Path) -> Path:
        shutil.copytree(self.index_dir, target, symlinks=True)
        return target


def make_base(root: Path, rows: list[dict[str, str]]) -> Base:
    """Ingest all but the last 10 papers and build (cold), then ingest the last 10 and build again (timed):
    two versions, and the durations of an ingest and of an incremental build that loads the model."""
    index_dir = root / "base" / "indexes"
    env = environment(index_dir)
    for args in (["ingest", str(write_jsonl(root / "base-1.jsonl", rows[:-10]))], ["build"]):
        status, err = run_cli(args, env)
        if status != 0:
            raise RuntimeError(f"base: recommender {args[0]} failed: {err[-2000:]}")
    start = time.perf_counter()
    status, err = run_cli(["ingest", str(write_jsonl(root / "base-2.jsonl", rows[-10:]))], env)
    ingest_seconds = time.perf_counter() - start
    start = time.perf_counter()
    status2, err2 = run_cli(["build"], env)
    build_seconds = time.perf_counter() - start
    if status or status2:
        raise RuntimeError(f"base: {err[-2000:]} {err2[-2000:]}")
    versions = versions_of(index_dir)
    if len(versions) != 2 or current_id(index_dir) != versions[-1]:
        raise RuntimeError(f"base: expected 2 versions, the newer current; found {versions}")
    return Base(index_dir, [row["id"] for row in rows], versions, build_seconds, ingest_seconds)


# ------------------------------------------------------------------------------------------------ scenario 1
def scenario_build_kill(base: Base, root: Path, pool: Pool, rng: random.Random, rounds: int) -> Outcome:
    outcome = Outcome("build-kill")
    index_dir = base.copy(root / "indexes")
    env = environment(index_dir)
    acknowledged = len(base.ids)
    killed_builds = finished_builds = killed_ingests = inflight_stored = 0
    indexed = None
    for number in range(1, rounds + 1):
        label = f"round {number}"
        batch = pool.take(10)
        status, err = run_cli(["ingest", str(write_jsonl(root / f"add-{number}.jsonl", batch))], env)
        if outcome.expect(status == 0, f"{label}: ingest exited {status}: {err[-500:]}"):
            acknowledged += len(batch)
        # a second ingest, killed at a random moment: stored all or nothing
        extra = pool.take(10)
        delay = rng.uniform(0.5, base.ingest_seconds * 1.3)
        extra_path = write_jsonl(root / f"extra-{number}.jsonl", extra)
        extra_done, extra_status = kill_after([*RECOMMENDER, "ingest", str(extra_path)], env, delay)
        if extra_done:
            outcome.expect(extra_status == 0, f"{label}: the second ingest exited {extra_status}")
            acknowledged += len(extra) if extra_status == 0 else 0
        else:
            killed_ingests += 1
        # a build, killed at a random moment
        full = number % 2 == 0
        before = current_id(index_dir)
        # half the kills anywhere in the build, half in its last quarter, where the version is written
        span = base.build_seconds * (1.5 if full else 1.0)
        delay = rng.uniform(0.2, span * 1.1) if rng.random() < 0.5 else rng.uniform(span * 0.75, span * 1.1)
        finished, status = kill_after([*RECOMMENDER, "build", *(["--full"] if full else [])], env, delay)
        if finished:
            finished_builds += 1
            outcome.expect(status == 0, f"{label}: the build exited {status} before the kill")
        else:
            killed_builds += 1
        after = current_id(index_dir)
        kind = "--full" if full else "incremental"
        state = "finished before the kill" if finished else f"killed after {delay:.1f} s"
        log(
            f"{label}: ingest {'finished' if extra_done else 'killed'}, {kind} build {state}; CURRENT "
            f"{'switched' if after != before else 'unchanged'}; leftover staging folders {len(leftovers(index_dir))}"
        )
        server = Server(index_dir, root, "serve")
        try:
            server.start()
            check_answers(outcome, server, base.ids[0], f"{label} (at start)")
            health = server.health()
            present = [server.get(f"/papers/{row['id']}").status_code == 200 for row in extra]
            if (
                outcome.expect(all(present) or not any(present), f"{label}: killed ingest stored {sum(present)}/10")
                and not extra_done
                and all(present)
            ):
                acknowledged += len(extra)
                inflight_stored += 1
            outcome.expect(not extra_done or extra_status != 0 or all(present), f"{label}: acknowledged ingest lost")
            outcome.expect(
                health.get("papers_stored") == acknowledged,
                f"{label}: papers_stored {health.get('papers_stored')} != acknowledged {acknowledged}",
                server,
            )
            health = settle(outcome, server, label)
            outcome.expect(
                health.get("papers_indexed") == acknowledged,
                f"{label}: papers_indexed {health.get('papers_indexed')} != acknowledged {acknowledged}",
                server,
            )
            for row in batch:
                response = server.get(f"/papers/{row['id']}/related", params={"k": 3})
                outcome.expect(
                    response.status_code == 200, f"{label}: related {row['id']} -> {short(response)}", server
                )
            check_answers(outcome, server, batch[0]["id"], f"{label} (after catch-up)")
            indexed = health.get("papers_indexed")
        finally:
            server.stop()
    outcome.figures.update(
        rounds=rounds,
        builds_killed=killed_builds,
        builds_finished_first=finished_builds,
        ingests_killed=killed_ingests,
        killed_ingests_stored=inflight_stored,
        acknowledged=acknowledged,
        indexed=indexed,
    )
    return outcome


# ------------------------------------------------------------------------------------------------ scenario 2
@dataclass
class WriteLog:
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    in_flight: tuple[str, list[str]] | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)


def writer(server: Server, pool: Pool, deletable: list[str], rng: random.Random, stop: threading.Event, out: WriteLog):
    """POST /papers batches of 3 new ids and DELETEs (1 in 4), ``wait`` 0 or 30, recording what was acknowledged."""
    while not stop.is_set():
        wait = rng.choice((0, 30))
        delete = bool(deletable) and rng.random() < 0.25
        batch = [] if delete else pool.take(3)
        ids = [deletable.pop(rng.randrange(len(deletable)))] if delete else [row["id"] for row in batch]
        kind = "delete" if delete else "add"
        out.in_flight = (kind, ids)
        try:
            if delete:
                response = server.delete(f"/papers/{ids[0]}", params={"wait": wait})
            else:
                response = server.post("/papers", json={"papers": batch, "wait": wait})
        except requests.ConnectionError as error:
            if "refused" in str(error).lower():
                out.in_flight = None  # sent after the kill: it never reached the server
            return  # the server died: what was in flight stays in out.in_flight
        key = f"{kind} {response.status_code}"
        out.statuses[key] = out.statuses.get(key, 0) + 1
        if response.status_code in (200, 202):
            (out.added if kind == "add" else out.deleted).extend(ids)
        else:
            out.unexpected.append(f"{kind} {ids}: {short(response)}")
        out.in_flight = None
        stop.wait(rng.uniform(0.05, 0.6))


def scenario_server_kill(base: Base, root: Path, pool: Pool, rng: random.Random, rounds: int) -> Outcome:
    outcome = Outcome("server-kill")
    index_dir = base.copy(root / "indexes")
    expected = set(base.ids)
    deletable = list(base.ids[1:])  # base.ids[0] is the probe
    totals = {"added": 0, "deleted": 0, "in_flight_stored": 0, "in_flight_lost": 0}
    statuses: dict[str, int] = {}
    server = Server(index_dir, root, "serve").start()
    try:
        check_answers(outcome, server, base.ids[0], "start")
        for number in range(1, rounds + 1):
            label = f"round {number}"
            out, stop = WriteLog(), threading.Event()
            thread = threading.Thread(target=writer, args=(server, pool, deletable, rng, stop, out), daemon=True)
            thread.start()
            started = time.monotonic()
            time.sleep(rng.uniform(3, 12))
            if number % 2 == 1:  # kill while a write is in flight: just after it was sent, or while it waits
                deadline = time.monotonic() + 10
                while out.in_flight is None and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(rng.choice((0, rng.uniform(0, 0.05), rng.uniform(0, 2))))
            server.kill9()
            stop.set()
            delay = time.monotonic() - started
            thread.join(timeout=150)
            for key, value in out.statuses.items():
                statuses[key] = statuses.get(key, 0) + value
            for problem in out.unexpected:
                outcome.expect(False, f"{label}: a write got {problem}")
            log(f"{label}: server killed after {delay:.1f} s: acknowledged {len(out.added)} added, "
                f"{len(out.deleted)} deleted; in flight: {out.in_flight}")  # fmt: skip
            server = Server(index_dir, root, "serve").start()
            check_answers(outcome, server, base.ids[0], f"{label} (at restart)")
            expected |= set(out.added)
            expected -= set(out.deleted)
            totals["added"] += len(out.added)
            totals["deleted"] += len(out.deleted)
            settle(outcome, server, label)
            # after the catch-up, not before: GET /papers/<id> also answers from the index, so a paper whose
            # deletion is stored but not yet indexed is still shown
            if out.in_flight is not None:
                kind, ids = out.in_flight
                present = [server.get(f"/papers/{paper_id}").status_code == 200 for paper_id in ids]
                outcome.expect(
                    all(present) or not any(present), f"{label}: in-flight {kind} half applied: {present}", server
                )
                applied = all(present) if kind == "add" else not any(present)
                totals["in_flight_stored" if applied else "in_flight_lost"] += 1
                if kind == "add" and all(present):
                    expected |= set(ids)
                elif kind == "delete" and not any(present):
                    expected -= set(ids)
                log(f"{label}: the in-flight {kind} of {ids} was {'applied' if applied else 'not applied'}")
            health = server.health()
            for name in ("papers_stored", "papers_indexed"):
                outcome.expect(
                    health.get(name) == len(expected),
                    f"{label}: {name} {health.get(name)} != base + added - deleted = {len(expected)}",
                    server,
                )
            # acknowledged additions are shown and indexed (200); acknowledged deletions are gone from both (404)
            for ids, status, what in ((out.added, 200, "acknowledged"), (out.deleted, 404, "deleted")):
                for paper_id in ids:
                    shown = server.get(f"/papers/{paper_id}")
                    related = server.get(f"/papers/{paper_id}/related", params={"k": 3})
                    outcome.expect(
                        shown.status_code == status and related.status_code == status,
                        f"{label}: {what} {paper_id}: show {shown.status_code}, related {short(related)}",
                        server,
                    )
            check_answers(outcome, server, base.ids[0], f"{label} (after catch-up)")
        final = server.health()
    finally:
        server.stop()
    outcome.figures.update(
        rounds=rounds,
        acknowledged_added=totals["added"],
        acknowledged_deleted=totals["deleted"],
        in_flight_applied=totals["in_flight_stored"],
        in_flight_not_applied=totals["in_flight_lost"],
        expected=len(expected),
        stored=final.get("papers_stored"),
        indexed=final.get("papers_indexed"),
        responses=",".join(f"{key}:{value}" for key, value in sorted(statuses.items())),
    )
    return outcome


# ------------------------------------------------------------------------------------------------ scenario 3
def truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


def mid_line(path: Path) -> None:
    """Cut a JSON Lines file in the middle of a line (the middle of the file)."""
    data = path.read_bytes()
    start = data.index(b"\n", len(data) // 2) + 1
    truncate(path, start + max(1, (data.index(b"\n", start) - start) // 2))


def damage_lexical(folder: Path) -> None:
    for path in sorted((folder / "lexical").iterdir()):
        truncate(path, path.stat().st_size // 2)


@dataclass(frozen=True)
class Damage:
    name: str
    names: str  # what the problem message must mention
    apply: Callable[[Path, Path], None]  # (index folder, damaged version folder)
    version_intact: bool = False  # only the pointer is damaged: the version it meant is still the newest good one


DAMAGES = [
    Damage("manifest.json removed", "manifest.json", lambda _, v: (v / "manifest.json").unlink()),
    Damage("vectors.faiss truncated", "vectors.faiss", lambda _, v: truncate(v / "vectors.faiss", 1000)),
    Damage(
        "embeddings.npy truncated",
        "embeddings.npy",
        lambda _, v: truncate(v / "embeddings.npy", (v / "embeddings.npy").stat().st_size // 2),
    ),
    Damage("papers.jsonl cut mid-line", "papers.jsonl", lambda _, v: mid_line(v / "papers.jsonl")),
    Damage("key_terms.jsonl cut mid-line", "key_terms.jsonl", lambda _, v: mid_line(v / "key_terms.jsonl")),
    Damage("lexical/* truncated", "lexical", lambda _, v: damage_lexical(v)),
    Damage(
        "lexical/vocab.index.json truncated",
        "vocab.index.json",
        lambda _, v: truncate(v / "lexical" / "vocab.index.json", 100),
    ),
    Damage(
        "CURRENT truncated",
        "CURRENT",
        lambda i, v: (i / "default" / "CURRENT").write_text(v.name[:12] + "\n", encoding="utf-8"),
        version_intact=True,
    ),
]
SINGLE_VERSION_DAMAGES = ("manifest.json removed", "vectors.faiss truncated", "papers.jsonl cut mid-line")
# A damage that makes the store look ahead of the index starts a catch-up build at once, which may repair the
# index before the first request; these cases run once more with --no-catch-up to see the damaged state itself.
NO_CATCH_UP_DAMAGES = ("manifest.json removed", "CURRENT truncated")


def rebuild_and_check(outcome: Outcome, server: Server, base: Base, label: str) -> str:
    """POST /rebuild; the job succeeds, its version is current and served, and no problem is reported."""
    response = server.post("/rebuild", json={})
    if not outcome.expect(response.status_code == 202, f"{label}: POST /rebuild -> {short(response)}", server):
        return ""
    job = server.wait_job(response.json()["job"]["id"])
    if not outcome.expect(job["state"] == "succeeded", f"{label}: rebuild job {job['state']}: {job['error']}", server):
        return ""
    built = job["result"]["build_id"]
    ready = server.get("/ready")
    body = ready.json() if ready.status_code == 200 else {}
    outcome.expect(
        body.get("version") == built and "problem" not in body and body.get("papers_indexed") == len(base.ids),
        f"{label}: after the rebuild /ready -> {short(ready)} (rebuilt {built})",
        server,
    )
    health = server.health()
    outcome.expect(
        "problem" not in health and health.get("version") == built,
        f"{label}: after the rebuild /health still reports {health}",
        server,
    )
    check_answers(outcome, server, base.ids[0], f"{label} (after rebuild)")
    return built


def case_folder(root: Path, damage: Damage, versions: int, catch_up: bool) -> Path:
    slug = re.sub(r"\W+", "-", damage.name)
    return root / f"{versions}v-{slug}{'' if catch_up else '-no-catch-up'}" / "indexes"


def damaged_case(outcome: Outcome, base: Base, root: Path, damage: Damage, versions: int, catch_up: bool):
    """One case: a copy of the base index with ``versions`` kept, ``damage`` done to the newest, a server started
    on it; what it must answer is checked by :func:`expect_fallback` (an older good version is kept) or
    :func:`expect_not_ready` (none is); then a rebuild must repair it. Returns the case's label and outcome."""
    label = f"{versions} version{'s' if versions > 1 else ''}, {damage.name}{'' if catch_up else ', --no-catch-up'}"
    index_dir = base.copy(case_folder(root, damage, versions, catch_up))
    older, newer = base.versions
    if versions == 1:
        shutil.rmtree(index_dir / "default" / "versions" / older)
    damage.apply(index_dir, index_dir / "default" / "versions" / newer)
    server = Server(index_dir, root, "serve", catch_up=catch_up)
    try:
        server.start()
        job = server.catch_up_job()
        check = expect_fallback if versions > 1 else expect_not_ready
        how = check(outcome, server, base, damage, label, job)
        if job is not None:
            server.wait_job(job)
        rebuild_and_check(outcome, server, base, label)
    except Exception as error:
        outcome.expect(False, f"{label}: {error.__class__.__name__}: {error}", server)
        how = "error"
    finally:
        server.stop()
    return label, how


def expect_fallback(outcome: Outcome, server: Server, base: Base, damage: Damage, label: str, job: str | None) -> str:
    """With an older good version kept: /ready serves the fallback and names the problem, /health too, and
    queries answer (unless the catch-up build already repaired the index)."""
    older, newer = base.versions
    fallback = newer if damage.version_intact else older
    ready = server.get("/ready")
    body = ready.json() if ready.status_code == 200 else {}
    if job is not None and body.get("version") not in (older, newer) and "problem" not in body:
        how = "repaired by the catch-up build before the first /ready"
    else:
        how = f"fell back to the {'newest good' if damage.version_intact else 'older'} version"
        problem = str(body.get("problem", ""))
        outcome.expect(
            ready.status_code == 200 and body.get("version") == fallback,
            f"{label}: /ready -> {short(ready)} (expected 200 serving {fallback})",
            server,
        )
        outcome.expect(
            damage.names in problem and (newer in problem or damage.names == "CURRENT"),
            f"{label}: /ready problem does not name {damage.names!r} of {newer}: {problem!r}",
            server,
        )
        health = server.health()
        outcome.expect(
            health.get("serving") == fallback
            and damage.names in str(health.get("problem"))
            and health.get("papers_stored") == len(base.ids),
            f"{label}: /health does not report papers_stored and serving {fallback} with the problem: {health}",
            server,
        )
    check_answers(outcome, server, base.ids[0], label)
    return how


def expect_not_ready(outcome: Outcome, server: Server, base: Base, damage: Damage, label: str, job: str | None) -> str:
    """With no good version left: /health 200, /ready 503 naming the damaged file, queries JSON errors (unless
    the catch-up build already repaired the index)."""
    how = "not ready, JSON errors"
    health = server.get("/health")
    outcome.expect(health.status_code == 200 and json_error(health) is None, f"{label}: /health -> {short(health)}")
    ready = server.get("/ready")
    if ready.status_code == 200 and job is not None:
        return "repaired by the catch-up build before the first /ready"
    outcome.expect(
        ready.status_code == 503 and json_error(ready) == "not_ready" and damage.names in ready.text,
        f"{label}: /ready -> {short(ready)} (expected 503 not_ready naming {damage.names})",
        server,
    )
    related = server.get(f"/papers/{base.ids[0]}/related")
    found = server.request("POST", "/search", json={"text": SEARCH_TEXT})
    for what, response in (("related", related), ("search", found)):
        outcome.expect(
            (response.status_code >= 400 and json_error(response) is not None)
            or (job is not None and response.status_code == 200),
            f"{label}: {what} -> {short(response)} (expected a JSON error)",
            server,
        )
    return how + f" ({related.status_code} {json_error(related)}, {found.status_code} {json_error(found)})"


def scenario_damaged(base: Base, root: Path) -> Outcome:
    outcome = Outcome("damaged")
    results: dict[str, str] = {}
    cases = [(damage, 2, True) for damage in DAMAGES]
    cases += [(damage, 2, False) for damage in DAMAGES if damage.name in NO_CATCH_UP_DAMAGES]
    cases += [(damage, 1, True) for damage in DAMAGES if damage.name in SINGLE_VERSION_DAMAGES]
    cases += [(damage, 1, False) for damage in DAMAGES if damage.name in NO_CATCH_UP_DAMAGES[:1]]
    for damage, versions, catch_up in cases:
        before = len(outcome.failures)
        label, how = damaged_case(outcome, base, root, damage, versions, catch_up)
        results[label] = how
        log(f"{label}: {how}: {'ok' if len(outcome.failures) == before else 'FAILED'}")
    repaired = sum("catch-up" in how for how in results.values())
    failed = len({failure.split(":")[0] for failure in outcome.failures})
    outcome.figures.update(cases=len(results), failed_cases=failed, repaired_by_catch_up_first=repaired)
    return outcome


# ------------------------------------------------------------------------------------------------ scenario 4
@contextlib.contextmanager
def tmpfs(folder: Path, size_mb: int) -> Iterator[bool]:
    """Mount a tmpfs of ``size_mb`` MiB at ``folder``; yields whether that worked."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)], capture_output=True, timeout=30
        )
        mounted = done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        mounted = False
    try:
        yield mounted
    finally:
        if mounted:
            cleanup_children()  # nothing may keep files open there
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path, reserve: int) -> Path:
    """Write a filler file until only about ``reserve`` bytes are free (0: until the disk refuses)."""
    stats = os.statvfs(folder)
    target = max(0, stats.f_bavail * stats.f_frsize - reserve)
    path = folder / f"filler-{time.monotonic_ns()}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    block = b"\xa5" * (1 << 20)
    written = 0
    try:
        while written < target or reserve == 0:
            size = min(len(block), target - written) if written < target else 4096
            written += os.write(descriptor, block[:size])
    except OSError:
        pass  # ENOSPC: full
    finally:
        os.close(descriptor)
    return path


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def post_papers(server: Server, rows: list[dict[str, str]], wait: float) -> requests.Response:
    return server.post("/papers", json={"papers": rows, "wait": wait})


def scenario_disk_full(base: Base, root: Path, pool: Pool, mechanism: str) -> Outcome:
    outcome = Outcome("disk-full")
    mount = root / "mnt"
    with contextlib.ExitStack() as stack:
        mounted = False
        if mechanism in ("auto", "tmpfs"):
            mounted = stack.enter_context(tmpfs(mount, 48))
            if not mounted and mechanism == "tmpfs":
                outcome.expect(False, "could not mount a tmpfs (mount -t tmpfs needs root)")
                return outcome
        outcome.figures["mechanism"] = "tmpfs (a real full filesystem)" if mounted else "RLIMIT_FSIZE + SIGXFSZ ignored"
        log(f"disk-full mechanism: {outcome.figures['mechanism']}")
        if mounted:
            disk_full_tmpfs(outcome, base, mount, root, pool)
        else:
            disk_full_rlimit(outcome, base, root, pool)
    return outcome


NEARLY_FULL = 192 * 1024  # room for small SQLite writes, not for a version (~1.5 MB for 300 papers)
FSIZE_LIMIT = 128 * 1024  # no file may grow past this under RLIMIT_FSIZE: a version's files are bigger


def expect_build_refused(outcome: Outcome, index_dir: Path, status: int, err: str, before: str, label: str) -> None:
    outcome.expect(
        status == 1 and "Error:" in err and "could not write to disk" in err,
        f"{label}: CLI build exited {status}: {err[-600:]!r}",
    )
    outcome.expect(
        current_id(index_dir) == before, f"{label}: CURRENT changed from {before} to {current_id(index_dir)}"
    )
    outcome.expect(not leftovers(index_dir), f"{label}: staging folders left behind: {leftovers(index_dir)}")
    log(f"{label}: CLI build -> exit {status}: {err.strip().splitlines()[-1] if err.strip() else ''}")


def expect_rebuild_refused(outcome: Outcome, server: Server, index_dir: Path, before: str, label: str) -> None:
    response = server.post("/rebuild", json={})
    if outcome.expect(response.status_code == 202, f"{label}: POST /rebuild -> {short(response)}", server):
        job = server.wait_job(response.json()["job"]["id"])
        error = job.get("error") or {}
        outcome.expect(
            job["state"] == "failed" and error.get("code") == "storage_error",
            f"{label}: rebuild job {job['state']} {error}",
            server,
        )
        log(f"{label}: POST /rebuild job {job['state']}: {error.get('code')}: {error.get('message', '')[:160]}")
    outcome.expect(
        current_id(index_dir) == before, f"{label}: CURRENT changed from {before} to {current_id(index_dir)}"
    )
    ready = server.get("/ready")
    outcome.expect(
        ready.status_code == 200 and ready.json().get("version") == before,
        f"{label}: /ready -> {short(ready)} (expected {before})",
        server,
    )


def expect_ingest_refused(outcome: Outcome, server: Server, rows: list[dict[str, str]], label: str) -> None:
    response = post_papers(server, rows, 0)
    outcome.expect(
        response.status_code == 507 and json_error(response) == "storage_error",
        f"{label}: POST /papers -> {short(response)} (expected 507 storage_error)",
        server,
    )
    log(f"{label}: POST /papers of {len(rows)} -> {response.status_code} {json_error(response)}")


def disk_full_tmpfs(outcome: Outcome, base: Base, mount: Path, root: Path, pool: Pool) -> None:
    index_dir = base.copy(mount / "indexes")
    env = environment(index_dir)
    stored = len(base.ids)
    before = current_id(index_dir)
    server = Server(index_dir, root, "serve").start()
    fillers: list[Path] = []
    try:
        check_answers(outcome, server, base.ids[0], "before")
        # a build that runs out of space: CLI, then HTTP
        fillers.append(fill(mount, NEARLY_FULL))
        log(f"nearly full: {free_bytes(mount) // 1024} KiB free")
        status, err = run_cli(["build"], env)
        expect_build_refused(outcome, index_dir, status, err, before, "build, nearly full")
        expect_rebuild_refused(outcome, server, index_dir, before, "HTTP rebuild, nearly full")
        check_answers(outcome, server, base.ids[0], "after the failed builds")
        # papers stored but their index update out of space: the answer is an error that says they are stored
        # (details: the ingest summary and the failed job); they are indexed once space is back
        rows = pool.take(5)
        response = post_papers(server, rows, 30)
        body = response.json()
        error = body.get("error") or {}
        job = body.get("job") or (error.get("details") or {}).get("job") or {}
        said_stored = response.status_code in (200, 202) or "were stored" in error.get("message", "")
        stored += len(rows) if said_stored else 0
        log(f"POST /papers of 5, nearly full -> {response.status_code} {error.get('code')}, index update job "
            f"{job.get('state')}")  # fmt: skip
        if job.get("state") == "failed":
            outcome.expect(
                response.status_code == 507 and error.get("code") == "storage_error" and said_stored,
                f"POST /papers whose index update failed answered {short(response)}",
                server,
            )
        # an ingest that runs out of space
        fillers.append(fill(mount, 0))
        log(f"full: {free_bytes(mount)} bytes free")
        rows = pool.take(40)
        expect_ingest_refused(outcome, server, rows, "ingest, disk full")
        status, err = run_cli(["ingest", str(write_jsonl(root / "full.jsonl", rows))], env)
        outcome.expect(status == 1 and "Error:" in err, f"CLI ingest on a full disk exited {status}: {err[-400:]!r}")
        log(f"CLI ingest, disk full -> exit {status}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        health = server.get("/health")
        outcome.expect(health.status_code == 200, f"/health on a full disk -> {short(health)}", server)
        log(f"/health on a full disk: {health.text[:300]}")
        shown = server.get(f"/papers/{base.ids[0]}")
        outcome.expect(
            shown.status_code == 200 or json_error(shown) is not None, f"show on a full disk -> {short(shown)}", server
        )
        log(f"GET /papers/{base.ids[0]} on a full disk -> {shown.status_code} {json_error(shown)}")
        check_answers(outcome, server, base.ids[0], "disk full")
        # space freed
        for path in fillers:
            path.unlink()
        refused = [row["id"] for row in rows if server.get(f"/papers/{row['id']}").status_code != 404]
        outcome.expect(not refused, f"papers of the refused ingests were stored: {refused}", server)
        health = server.health()
        outcome.expect(
            health.get("papers_stored") == stored,
            f"after freeing space papers_stored {health.get('papers_stored')} != acknowledged {stored}",
            server,
        )
        built = rebuild_and_check_count(outcome, server, stored, "HTTP rebuild after freeing space")
        status, err = run_cli(["build"], env)
        outcome.expect(status == 0, f"CLI build after freeing space exited {status}: {err[-400:]!r}")
        rows = pool.take(5)
        response = post_papers(server, rows, 30)
        outcome.expect(response.status_code == 200, f"POST /papers after freeing space -> {short(response)}", server)
        stored += len(rows) if response.status_code in (200, 202) else 0
        health = server.health()
        outcome.expect(
            health.get("papers_stored") == stored == health.get("papers_indexed"),
            f"at the end stored {health.get('papers_stored')}, indexed {health.get('papers_indexed')}, "
            f"acknowledged {stored}",
            server,
        )
        check_answers(outcome, server, rows[0]["id"], "at the end")
        outcome.figures.update(acknowledged=stored, indexed=health.get("papers_indexed"), rebuilt=bool(built))
    finally:
        server.stop()
        for path in fillers:
            path.unlink(missing_ok=True)


def rebuild_and_check_count(outcome: Outcome, server: Server, stored: int, label: str) -> str:
    response = server.post("/rebuild", json={})
    if not outcome.expect(response.status_code == 202, f"{label}: POST /rebuild -> {short(response)}", server):
        return ""
    job = server.wait_job(response.json()["job"]["id"])
    if not outcome.expect(job["state"] == "succeeded", f"{label}: job {job['state']}: {job['error']}", server):
        return ""
    ready = server.get("/ready").json()
    outcome.expect(
        ready.get("version") == job["result"]["build_id"] and ready.get("papers_indexed") == stored,
        f"{label}: /ready {ready}, expected {job['result']['build_id']} with {stored} papers",
        server,
    )
    log(f"{label}: version {job['result']['build_id']} with {ready.get('papers_indexed')} papers")
    return str(job["result"]["build_id"])


def disk_full_rlimit(outcome: Outcome, base: Base, root: Path, pool: Pool) -> None:
    index_dir = base.copy(root / "indexes")
    env = environment(index_dir)
    stored = len(base.ids)
    before = current_id(index_dir)
    status, err = run_cli(["build"], env, fsize=FSIZE_LIMIT)
    expect_build_refused(outcome, index_dir, status, err, before, "build, file size limit")
    rows = pool.take(60)
    status, err = run_cli(["ingest", str(write_jsonl(root / "full.jsonl", rows))], env, fsize=FSIZE_LIMIT)
    outcome.expect(status == 1 and "Error:" in err, f"CLI ingest under the limit exited {status}: {err[-400:]!r}")
    server = Server(index_dir, root, "serve-limited", fsize=FSIZE_LIMIT).start()
    try:
        check_answers(outcome, server, base.ids[0], "limited server")
        expect_rebuild_refused(outcome, server, index_dir, before, "HTTP rebuild, file size limit")
        expect_ingest_refused(outcome, server, rows, "ingest, file size limit")
        response = post_papers(server, pool.take(2), 30)  # small: fits in the store, its index update does not
        stored += 2 if response.status_code in (200, 202) else 0
        log(f"POST /papers of 2 under the limit -> {response.status_code}")
        outcome.expect(server.health().get("papers_stored") == stored, "papers_stored changed under the limit", server)
        check_answers(outcome, server, base.ids[0], "limited server, after the refusals")
    finally:
        server.stop()
    server = Server(index_dir, root, "serve").start()  # "space freed": no limit
    try:
        settle(outcome, server, "restart without the limit")
        built = rebuild_and_check_count(outcome, server, stored, "HTTP rebuild without the limit")
        health = server.health()
        outcome.expect(
            health.get("papers_stored") == stored == health.get("papers_indexed"),
            f"at the end stored {health.get('papers_stored')}, indexed {health.get('papers_indexed')}, "
            f"acknowledged {stored}",
            server,
        )
        outcome.figures.update(acknowledged=stored, indexed=health.get("papers_indexed"), rebuilt=bool(built))
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="kills per kill scenario (build-kill, server-kill)")
    parser.add_argument("--n", type=int, default=300, help="papers in the base index")
    parser.add_argument("--workdir", type=Path, default=None, help="where to work (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (indexes and server logs)")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--disk-full", choices=("auto", "tmpfs", "rlimit"), default="auto",
                        help="disk-full mechanism: tmpfs if it can be mounted (auto), or RLIMIT_FSIZE")  # fmt: skip
    args = parser.parse_args()
    if args.n < 50:
        parser.error("--n must be at least 50")
    selected = args.only or list(SCENARIOS)
    rng = random.Random(args.seed)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fault-inject-", dir=args.workdir))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up below runs
    started = time.perf_counter()
    results: list[tuple[Outcome, float]] = []
    try:
        rows = load_records(args.n + 500)
        pool = Pool(rows[args.n :])
        print(f"base index: {args.n} SciFact abstracts, real model, 2 versions, in {root}", flush=True)
        start = time.perf_counter()
        base = make_base(root, rows[: args.n])
        print(f"base built in {time.perf_counter() - start:.0f} s (incremental build with model load "
              f"{base.build_seconds:.1f} s, ingest {base.ingest_seconds:.1f} s)", flush=True)  # fmt: skip
        runs: dict[str, Callable[[Path], Outcome]] = {
            "build-kill": lambda folder: scenario_build_kill(base, folder, pool, rng, args.rounds),
            "server-kill": lambda folder: scenario_server_kill(base, folder, pool, rng, args.rounds),
            "damaged": lambda folder: scenario_damaged(base, folder),
            "disk-full": lambda folder: scenario_disk_full(base, folder, pool, args.disk_full),
        }
        for name in selected:
            print(f"scenario {name} ...", flush=True)
            folder = root / name
            folder.mkdir()
            start = time.perf_counter()
            try:
                outcome = runs[name](folder)
            except Exception as error:
                outcome = Outcome(name)
                outcome.expect(False, f"{error.__class__.__name__}: {error}\n{traceback.format_exc()}")
            finally:
                cleanup_children()
            results.append((outcome, time.perf_counter() - start))
    finally:
        cleanup_children()
    print()
    failed = False
    for outcome, seconds in results:
        figures = ", ".join(f"{key} {value}" for key, value in outcome.figures.items())
        verdict = "FAIL" if outcome.failures else "PASS"
        failed |= bool(outcome.failures)
        print(f"{verdict} {outcome.name}: {figures}; {seconds:.0f} s", flush=True)
        for failure in outcome.failures:
            print(f"    - {failure}")
        for note in outcome.notes:
            print(f"    note: {note}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.keep or failed:
        print(f"work folder kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
