"""Attacks on the HTTP API, each reported as held or failed with figures.

A fresh index of ``--n`` real SciFact abstracts (../shared/data/scifact/corpus.jsonl) is built in a temporary
folder with the real bundled model (HF_HUB_OFFLINE=1), then ``recommender serve`` (waitress) is started on
127.0.0.1 and a free port, with a random write token (RECOMMENDER_API_TOKEN) and its own TMPDIR inside the
folder. Every attack runs while a prober thread calls ``GET /health`` and ``GET /papers/<id>/related`` every
0.2 s, each on a new connection with a 5 s timeout. An attack HELD when every /health answered 200 within 1 s,
the server is still alive afterwards and the attack's own expectation holds; otherwise it FAILED.

Attacks (full duration; ``--quick`` duration):

1. ``paste29``: POST /papers/upload, form field ``text`` = a ~500-byte page whose last line is an author name
   and 29 digits (a run, spaced, and 40 then a letter); expect a 2xx or a 4xx JSON error within 10 s each.
2. ``theme-flood``: 16 clients GET /themes?k=<random 2..30> in a loop, 45 s (15 s); expect every related probe
   answered 200 too; counts 200 and 409 answers.
3. ``slowloris``: 200 sockets send a partial request header, one byte every 5 s, for 60 s (20 s).
4. ``gzip-bomb``: uploads of a gzip of 5,242,880 lines of ``{}``, of ``[`` + 1 GB of spaces (stream-compressed),
   and of a JSONL record with a 30 MB abstract; expect 413/422 with a message each (and, for the big record after
   a small one, the small one stored and the big one rejected naming the field), and the server's VmRSS and
   VmHWM (/proc/PID/status) growing by < 200 MB.
5. ``rebuild-flood``: 300 POST /rebuild (8 threads); expect most (> 50%) coalesced (a job id already seen) or
   refused 409/429, none 5xx; then one new paper POSTed is indexed (/related 200) within 120 s.
6. ``wait-hold``: 16 concurrent POST /papers with ``wait=300``, watched for up to 320 s (40 s); expect the
   probes fine.
7. ``metrics``: 2,000 requests (1,000 with --quick) with made-up methods and paths, in two halves; expect the
   second half (new made-up names) to grow /metrics < 1.25x and /metrics to stay < 512 KB.
8. ``nested-json``: POST /search with 100,000 nested ``[``; expect a 400 JSON error, not a 500.
9. ``smuggle``: raw requests with both Content-Length and Transfer-Encoding: chunked, and with an obs-folded
   Transfer-Encoding; expect a 400 and the connection closed (no second response).
10. ``host``: GET /health?x with ``Host: evil.example``; expect 400.
11. ``big-body``: POST /search declaring Content-Length: 1073741824 and streaming up to 8 MB; expect a 413 within
   5 s and the server's temporary files (its TMPDIR, open deleted files included) growing by < 8 MB.

Prints one line per attack as it ends and a summary table; exit status 1 if any attack failed (or the set-up
did). The full run takes about 12 minutes (wait-hold can take its full 320 s); ``--quick`` about 4-5 minutes
on 2 shared cores, most of it the index build. Only 127.0.0.1 is contacted. The server is always stopped
(SIGTERM, then SIGKILL) and the folder removed unless ``--keep``.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/attack.py [--quick] [--only NAME[,NAME]] [--n 500] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import random
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
RECOMMENDER = [sys.executable, "-m", "recommender"]
HOST = "127.0.0.1"
HEALTH_LIMIT = 1.0  # seconds: a /health answer slower than this is a failure
PROBE_EVERY = 0.2
PROBE_TIMEOUT = 5.0
MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------ helpers
def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_records() -> list[dict[str, str]]:
    rows = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("abstract") and row.get("title"):
                rows.append({"id": f"sf-{row['id']}", "title": row["title"], "abstract": row["abstract"]})
    return rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def child_env(index_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RECOMMENDER_")}
    return {**env, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "RECOMMENDER_INDEX_DIR": str(index_dir),
            **extra}  # fmt: skip


def cli(index_dir: Path, *arguments: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [*RECOMMENDER, *arguments], env=child_env(index_dir), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise SystemExit(f"{arguments[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int | None, bytes, float, str | None]:
    """One request on a new connection: (status, body, seconds, error)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started, None
    except (OSError, http.client.HTTPException) as error:
        return None, b"", time.perf_counter() - started, f"{error.__class__.__name__}: {error}"
    finally:
        connection.close()


def error_message(data: bytes) -> str | None:
    """The JSON error's message, or None when the body is not the usual JSON error shape."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return str(parsed["error"].get("message") or "") or None
    return None


def raw_exchange(port: int, payload: bytes, wait: float = 5.0) -> tuple[bytes, bool]:
    """Send ``payload`` on a raw socket, read until the server closes or ``wait`` passes: (data, closed)."""
    data = b""
    closed = False
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.settimeout(1.0)
        with contextlib.suppress(OSError):
            sock.sendall(payload)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
    return data, closed


def statuses(data: bytes) -> list[int]:
    found = []
    for line in data.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12 and line[9:12].isdigit():
            found.append(int(line[9:12]))
    return found


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "attack" + secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts += [head.encode(), content, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------------------------------------- server
class Server:
    def __init__(self, index_dir: Path, tmpdir: Path, log_path: Path, token: str) -> None:
        self.index_dir, self.tmpdir, self.log_path, self.token = index_dir, tmpdir, log_path, token
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout: float = 180) -> None:
        command = [*RECOMMENDER, "serve", "--host", HOST, "--port", str(self.port), "--log-format", "text",
                   "--shutdown-timeout", "10"]  # fmt: skip
        env = child_env(self.index_dir, RECOMMENDER_API_TOKEN=self.token, TMPDIR=str(self.tmpdir))
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with status {self.process.returncode}:\n{self.log_tail()}")
            if call(self.port, "GET", "/ready", timeout=3)[0] == 200:
                return
            time.sleep(0.3)
        raise SystemExit(f"the server was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def memory_kb(self) -> dict[str, int]:
        """VmRSS and VmHWM of the server process, in kB (empty when it is gone)."""
        values = {}
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
        return values

    def temp_bytes(self) -> int:
        """Bytes in the server's TMPDIR: files listed there plus open (possibly deleted) files under it."""
        total = 0
        seen: set[tuple[int, int]] = set()
        for path in self.tmpdir.rglob("*"):
            with contextlib.suppress(OSError):
                info = path.stat()
                if path.is_file() and (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_size
        fd_dir = Path(f"/proc/{self.process.pid}/fd")
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith(str(self.tmpdir)):
                        info = fd.stat()
                        if (info.st_dev, info.st_ino) not in seen:
                            seen.add((info.st_dev, info.st_ino))
                            total += info.st_size
        return total

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join("      | " + line[:300] for line in text.splitlines()[-lines:])

    def stop(self) -> str:
        if self.process is None or self.process.poll() is not None:
            return f"already exited ({None if self.process is None else self.process.returncode})"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            code = self.process.wait(30)
            return f"exited with status {code} after SIGTERM"
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            return "killed (SIGKILL) after SIGTERM was not enough"


# ------------------------------------------------------------------------------------------------- prober
@dataclass
class Probe:
    kind: str  # "health" or "related"
    status: int | None
    seconds: float
    error: str | None


class Prober(threading.Thread):
    """``GET /health`` and a related-papers request every 0.2 s; samples collected per attack."""

    def __init__(self, port: int, paper_id: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.related_path = f"/papers/{quote(paper_id, safe='')}/related?k=5"
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.samples: list[Probe] = []

    def run(self) -> None:
        next_tick = time.monotonic()
        while not self.stop_event.is_set():
            for kind, path in (("health", "/health"), ("related", self.related_path)):
                status, _, seconds, error = call(self.port, "GET", path, timeout=PROBE_TIMEOUT)
                with self.lock:
                    self.samples.append(Probe(kind, status, seconds, error))
            next_tick += PROBE_EVERY
            self.stop_event.wait(max(0.0, next_tick - time.monotonic()))
            next_tick = max(next_tick, time.monotonic() - PROBE_EVERY)

    def take(self) -> list[Probe]:
        with self.lock:
            samples, self.samples = self.samples, []
        return samples


# ------------------------------------------------------------------------------------------------ attacks
@dataclass
class Context:
    server: Server
    ids: list[str]
    spare: list[dict[str, str]]
    quick: bool
    rng: random.Random

    def take_papers(self, count: int) -> list[dict[str, str]]:
        taken, self.spare = self.spare[:count], self.spare[count:]
        if len(taken) < count:
            raise RuntimeError("ran out of spare papers")
        return taken


@dataclass
class Verdict:
    ok: bool
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def expect(verdict: Verdict, condition: bool, problem: str) -> None:
    if not condition:
        verdict.ok = False
        verdict.problems.append(problem)


PASTE_PAGE = (
    "Hypoxia and glycolytic flux in cultured tumour cells\n"
    "Smith J, Jones K, Brown L\n\n"
    "Abstract\n"
    "Hypoxia induces HIF-1 alpha, which raises the expression of glycolytic enzymes and glucose transporters.\n"
    "We measured lactate output and oxygen consumption in three cell lines under 1% oxygen and found that\n"
    "glycolytic flux doubled within twelve hours while mitochondrial respiration fell.\n\n"
)


def paste(ctx: Context, page: str) -> tuple[int | None, bytes, float, str | None]:
    body = urlencode({"text": page, "wait": "0"}).encode()
    headers = {**ctx.server.auth, "Content-Type": "application/x-www-form-urlencoded"}
    return call(ctx.server.port, "POST", "/papers/upload", body, headers, timeout=120)


def attack_paste29(ctx: Context) -> Verdict:
    baseline_status, _, baseline_seconds, _ = paste(ctx, PASTE_PAGE + "Smith J\n")
    verdict = Verdict(True, {"without_digits": f"{baseline_status} in {baseline_seconds:.2f} s"})
    pages = {  # digits after the last author name, as a run and spaced (the regex backtracked on both shapes)
        "run": PASTE_PAGE + "Smith J" + "1" * 29 + "\n",
        "spaced": PASTE_PAGE + "Smith J" + " 1" * 29 + "\n",
        "run40x": PASTE_PAGE + "Smith J" + "1" * 40 + "x\n",
    }
    for name, page in pages.items():
        status, data, seconds, error = paste(ctx, page)
        verdict.figures[name] = f"{len(page.encode())} B -> {status} in {seconds:.2f} s"
        expect(verdict, error is None, f"{name}: no answer: {error}")
        answered = status is not None and (200 <= status < 300 or (400 <= status < 500 and bool(error_message(data))))
        expect(verdict, answered, f"{name}: {status} {data[:200]!r}")
        expect(verdict, seconds < 10, f"{name}: answer took {seconds:.1f} s (> 10 s)")
    return verdict


def attack_theme_flood(ctx: Context) -> Verdict:
    seconds = 15 if ctx.quick else 45
    deadline = time.monotonic() + seconds
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            status, _, _, error = call(ctx.server.port, "GET", f"/themes?k={rng.randint(2, 30)}", timeout=60)
            with lock:
                counts[str(status) if error is None else "error"] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + 65))
    verdict = Verdict(True, {"seconds": seconds, "answers": dict(counts), "200": counts["200"], "409": counts["409"]})
    expect(verdict, not any(thread.is_alive() for thread in threads), "theme clients still waiting 60 s after")
    verdict.figures["related_must_hold"] = True
    return verdict


def attack_slowloris(ctx: Context) -> Verdict:
    seconds = 20 if ctx.quick else 60
    sockets: list[socket.socket] = []
    connect_failures = 0
    for _ in range(200):
        try:
            sock = socket.create_connection((HOST, ctx.server.port), timeout=2)
            sock.settimeout(1.0)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            sockets.append(sock)
        except OSError:
            connect_failures += 1
    closed_by_server = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and sockets:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            for sock in list(sockets):
                try:
                    sock.sendall(b"a")
                except OSError:
                    closed_by_server += 1
                    sockets.remove(sock)
                    sock.close()
    finally:
        still_open = len(sockets)
        for sock in sockets:
            sock.close()
    return Verdict(True, {"seconds": seconds, "sockets": 200, "connect_failures": connect_failures,
                          "closed_by_server": closed_by_server, "open_at_end": still_open})  # fmt: skip


def gzip_stream(prefix: bytes, filler: bytes, total: int) -> bytes:
    """gzip of ``prefix`` + ``total`` bytes of repeated ``filler``, compressed chunk by chunk."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(prefix)]
    chunk = filler * (MB // len(filler))
    written = 0
    while written < total:
        piece = chunk[: min(len(chunk), total - written)]
        parts.append(compressor.compress(piece))
        written += len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)


def attack_gzip_bomb(ctx: Context) -> Verdict:
    bombs = {
        "5M-empty-objects": ("objects.jsonl.gz", gzip.compress(b"{}\n" * 5_242_880, 9)),
        "1GB-spaces": ("spaces.json.gz", gzip_stream(b"[", b" ", 1024 * MB)),
        "30MB-abstract": (
            "big.jsonl.gz",
            gzip.compress(b'{"id": "big-abstract", "title": "Big", "abstract": "' + b"word " * (6 * MB) + b'"}\n', 9),
        ),
        "30MB-abstract+small": (  # the small record is stored, the big one rejected naming the field
            "mixed.jsonl.gz",
            gzip.compress(
                b'{"id": "small-first", "title": "Small", "abstract": "A small record first, so this is JSON Lines."}\n'
                b'{"id": "big-abstract", "title": "Big", "abstract": "' + b"word " * (6 * MB) + b'"}\n',
                9,
            ),
        ),
    }
    before = ctx.server.memory_kb()
    verdict = Verdict(True, {"rss_before_mb": round(before.get("VmRSS", 0) / 1024)})
    for name, (filename, content) in bombs.items():
        body, content_type = multipart({"wait": "0"}, {"file": (filename, content)})
        headers = {**ctx.server.auth, "Content-Type": content_type}
        status, data, seconds, error = call(ctx.server.port, "POST", "/papers/upload", body, headers, timeout=120)
        message = error_message(data)
        verdict.figures[name] = f"{len(content) // 1024} KB gz -> {status} in {seconds:.1f} s"
        if name.endswith("+small"):
            expect(verdict, status in (200, 202), f"{name}: status {status} ({error or data[:160]!r})")
            expect(verdict, b"abstract too long" in data, f"{name}: the big record's rejection is not reported")
        else:
            expect(verdict, status in (413, 422), f"{name}: status {status} ({error or data[:160]!r})")
            expect(verdict, status not in (413, 422) or bool(message), f"{name}: {status} without a JSON message")
    after = ctx.server.memory_kb()
    rss_growth = (after.get("VmRSS", 0) - before.get("VmRSS", 0)) / 1024
    hwm_growth = (after.get("VmHWM", 0) - before.get("VmHWM", 0)) / 1024
    verdict.figures.update(rss_growth_mb=round(rss_growth), hwm_growth_mb=round(hwm_growth))
    expect(
        verdict,
        rss_growth < 200 and hwm_growth < 200,
        f"memory grew RSS +{rss_growth:.0f} MB, peak +{hwm_growth:.0f} MB",
    )
    return verdict


def attack_rebuild_flood(ctx: Context) -> Verdict:
    statuses_seen: Counter[str] = Counter()
    job_ids: list[str] = []
    lock = threading.Lock()
    todo = list(range(300))
    deadline = time.monotonic() + 240

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if not todo:
                    return
                todo.pop()
            headers = {**ctx.server.auth, "Content-Type": "application/json"}
            status, data, _, error = call(ctx.server.port, "POST", "/rebuild", b"{}", headers, timeout=30)
            job = None
            if status == 202:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    job = json.loads(data)["job"]["id"]
            with lock:
                statuses_seen[str(status) if error is None else "error"] += 1
                if job:
                    job_ids.append(job)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + 35))
    sent = sum(statuses_seen.values())
    distinct = len(set(job_ids))
    coalesced = len(job_ids) - distinct
    refused = statuses_seen["409"] + statuses_seen["429"]
    verdict = Verdict(True, {"sent": sent, "answers": dict(statuses_seen), "distinct_jobs": distinct,
                             "coalesced": coalesced, "refused": refused})  # fmt: skip
    expect(verdict, sent == 300, f"only {sent} of 300 requests answered in time")
    expect(verdict, coalesced + refused > sent / 2, f"only {coalesced + refused} of {sent} coalesced or refused")
    server_errors = sum(count for status, count in statuses_seen.items() if status.startswith("5") or status == "error")
    expect(verdict, server_errors == 0, f"{server_errors} answers were 5xx or connection errors")
    paper = ctx.take_papers(1)[0]
    started = time.monotonic()
    indexed_after = None
    headers = {**ctx.server.auth, "Content-Type": "application/json"}
    body = json.dumps({"papers": [paper], "wait": 0}).encode()
    posted = None
    while time.monotonic() - started < 120:
        if posted not in (200, 202):
            posted = call(ctx.server.port, "POST", "/papers", body, headers, timeout=30)[0]
        if posted in (200, 202):
            path = f"/papers/{quote(paper['id'], safe='')}/related?k=3"
            if call(ctx.server.port, "GET", path, timeout=10)[0] == 200:
                indexed_after = time.monotonic() - started
                break
        time.sleep(1.0)
    verdict.figures["post_papers"] = posted
    verdict.figures["indexed_after_s"] = None if indexed_after is None else round(indexed_after, 1)
    expect(verdict, indexed_after is not None, f"the new paper was not indexed within 120 s (POST answered {posted})")
    return verdict


def attack_wait_hold(ctx: Context) -> Verdict:
    window = 40 if ctx.quick else 320
    papers = ctx.take_papers(16)
    results: list[tuple[int | None, float]] = []
    lock = threading.Lock()

    def hold(paper: dict[str, str]) -> None:
        body = json.dumps({"papers": [paper], "wait": 300}).encode()
        headers = {**ctx.server.auth, "Content-Type": "application/json"}
        status, _, seconds, _ = call(ctx.server.port, "POST", "/papers", body, headers, timeout=window + 5)
        with lock:
            results.append((status, seconds))

    threads = [threading.Thread(target=hold, args=(paper,), daemon=True) for paper in papers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + window
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    counts = Counter(str(status) for status, _ in results)
    held = [seconds for _, seconds in results]
    return Verdict(True, {"window_s": window, "requests": 16, "answered": len(results), "answers": dict(counts),
                          "longest_s": round(max(held), 1) if held else None})  # fmt: skip


def attack_metrics(ctx: Context) -> Verdict:
    total = 1000 if ctx.quick else 2000
    status, before, _, _ = call(ctx.server.port, "GET", "/metrics", timeout=30)
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    todo = list(range(total))
    deadline = time.monotonic() + 180

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            with lock:
                if not todo:
                    return
                todo.pop()
            method = rng.choice(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]) if rng.random() < 0.3 else (
                "X" + secrets.token_hex(4).upper())  # fmt: skip
            if rng.random() < 0.5:  # a real route (a made-up method there is a 405) or a made-up path
                path = rng.choice(["/health", "/search", "/themes", "/papers/x", "/rebuild", "/versions"])
            else:
                path = "/" + "/".join(secrets.token_hex(rng.randint(2, 8)) for _ in range(rng.randint(1, 3)))
            got = call(ctx.server.port, method, path, timeout=10)
            with lock:
                counts[str(got[0]) if got[3] is None else "error"] += 1

    halfway: list[int] = []

    def run_half() -> None:
        threads = [threading.Thread(target=worker, args=(rng.random(),), daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic() + 15))

    rng = random.Random(7)
    todo[:] = list(range(total // 2))
    run_half()
    halfway.append(len(call(ctx.server.port, "GET", "/metrics", timeout=30)[1]))
    todo[:] = list(range(total - total // 2))
    run_half()
    status_after, after, _, _ = call(ctx.server.port, "GET", "/metrics", timeout=30)
    ratio = len(after) / max(1, len(before))
    verdict = Verdict(True, {"requests": sum(counts.values()), "answers": dict(counts.most_common(4)),
                             "metrics_before_kb": round(len(before) / 1024, 1),
                             "metrics_halfway_kb": round(halfway[0] / 1024, 1),
                             "metrics_after_kb": round(len(after) / 1024, 1), "growth": round(ratio, 2)})  # fmt: skip
    expect(verdict, status == 200 and status_after == 200, f"/metrics answered {status}, then {status_after}")
    # The first half may add each known (method, route, status) series once; made-up methods and paths must add
    # nothing, so the second half (new made-up names) leaves the size nearly where it was.
    second_half = len(after) / max(1, halfway[0])
    verdict.figures["second_half_growth"] = round(second_half, 2)
    expect(verdict, second_half < 1.25, f"/metrics grew {second_half:.2f}x during the second half")
    expect(verdict, len(after) < 512 * 1024, f"/metrics is {len(after) / 1024:.0f} KB")
    return verdict


def attack_nested_json(ctx: Context) -> Verdict:
    body = b"[" * 100_000
    status, data, seconds, error = call(
        ctx.server.port, "POST", "/search", body, {"Content-Type": "application/json"}, timeout=60
    )
    message = error_message(data)
    verdict = Verdict(True, {"status": status, "seconds": round(seconds, 2), "message": (message or "")[:60]})
    expect(verdict, status == 400 and message is not None, f"status {status} ({error or data[:160]!r})")
    return verdict


def attack_smuggle(ctx: Context) -> Verdict:
    follow = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    cases = {
        "CL+TE": (
            b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + follow
        ),
        "obs-fold TE": (
            b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n" + follow
        ),
    }
    verdict = Verdict(True)
    for name, payload in cases.items():
        data, closed = raw_exchange(ctx.server.port, payload)
        seen = statuses(data)
        verdict.figures[name] = f"responses {seen}, {'closed' if closed else 'left open'}"
        expect(verdict, seen[:1] == [400], f"{name}: responses {seen}")
        expect(verdict, len(seen) <= 1, f"{name}: the smuggled request was answered too ({seen})")
        expect(verdict, closed, f"{name}: connection left open")
    return verdict


def attack_host(ctx: Context) -> Verdict:
    data, _ = raw_exchange(
        ctx.server.port, b"GET /health?x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", wait=5
    )
    seen = statuses(data)
    verdict = Verdict(True, {"responses": seen})
    expect(verdict, seen[:1] == [400], f"responses {seen}")
    return verdict


def attack_big_body(ctx: Context) -> Verdict:
    limit = 8 * MB
    before = ctx.server.temp_bytes()
    peak = before
    sent = 0
    data = b""
    answered_after = None
    started = time.monotonic()
    with socket.create_connection((HOST, ctx.server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n"
        )
        chunk = b" " * 65536
        sock.settimeout(2.0)
        while time.monotonic() - started < 30:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                try:
                    piece = sock.recv(65536)
                except OSError:
                    piece = b""
                data += piece
                if statuses(data) or not piece:
                    answered_after = time.monotonic() - started
                    break
            if sent < limit:
                try:
                    sock.sendall(chunk)
                    sent += len(chunk)
                except OSError:  # the server closed its side: read what it said
                    with contextlib.suppress(OSError):
                        sock.settimeout(2.0)
                        data += sock.recv(65536)
                    answered_after = time.monotonic() - started
                    break
            else:
                time.sleep(0.05)
            if sent % (MB // 2) == 0:
                peak = max(peak, ctx.server.temp_bytes())
        peak = max(peak, ctx.server.temp_bytes())
    seen = statuses(data)
    growth = (peak - before) / MB
    verdict = Verdict(True, {"sent_mb": round(sent / MB, 1), "responses": seen,
                             "answered_after_s": None if answered_after is None else round(answered_after, 2),
                             "tmp_growth_mb": round(growth, 1)})  # fmt: skip
    expect(verdict, seen[:1] == [413], f"responses {seen} ({data[:120]!r})")
    expect(verdict, answered_after is not None and answered_after < 5, f"answered after {answered_after} s")
    expect(verdict, growth < limit / MB, f"temporary files grew {growth:.1f} MB")
    return verdict


ATTACKS: dict[str, Callable[[Context], Verdict]] = {
    "paste29": attack_paste29,
    "theme-flood": attack_theme_flood,
    "slowloris": attack_slowloris,
    "gzip-bomb": attack_gzip_bomb,
    "rebuild-flood": attack_rebuild_flood,
    "wait-hold": attack_wait_hold,
    "metrics": attack_metrics,
    "nested-json": attack_nested_json,
    "smuggle": attack_smuggle,
    "host": attack_host,
    "big-body": attack_big_body,
}


@dataclass
class Row:
    name: str
    held: bool
    seconds: float
    health_max: float
    health_p95: float
    probe_failures: int
    figures: dict[str, Any]
    problems: list[str]


def run_attack(name: str, ctx: Context, prober: Prober) -> Row:
    prober.take()
    started = time.monotonic()
    try:
        verdict = ATTACKS[name](ctx)
    except Exception as error:  # an attack that crashes is a failed attack, reported
        verdict = Verdict(False, {}, [f"the attack itself raised {error.__class__.__name__}: {error}"])
    time.sleep(2 * PROBE_EVERY)  # at least one probe after the attack
    samples = prober.take()
    health = [s for s in samples if s.kind == "health"]
    related = [s for s in samples if s.kind == "related"]
    latencies = [s.seconds for s in health]
    slow_or_bad = [s for s in health if s.status != 200 or s.seconds > HEALTH_LIMIT]
    related_bad = [s for s in related if s.status != 200]
    alive = ctx.server.alive() and call(ctx.server.port, "GET", "/health", timeout=10)[0] == 200
    expect(verdict, bool(health), "no /health probe answered or timed out during the attack")
    expect(verdict, not slow_or_bad, f"{len(slow_or_bad)} of {len(health)} /health probes failed or took > 1 s")
    if name in ("theme-flood", "wait-hold", "rebuild-flood"):
        expect(verdict, not related_bad, f"{len(related_bad)} of {len(related)} related probes failed")
    expect(verdict, alive, "the server is not alive (or /health not 200) after the attack")
    return Row(name, verdict.ok, time.monotonic() - started, max(latencies, default=0.0), percentile(latencies, 0.95),
               len(slow_or_bad) + len(related_bad), verdict.figures, verdict.problems)  # fmt: skip


def summary(rows: list[Row]) -> list[str]:
    lines = [
        f"{'attack':<14} {'result':<6} {'secs':>6} {'health max ms':>13} {'p95 ms':>7} {'probe fails':>11}  figures"
    ]
    for row in rows:
        figures = ", ".join(f"{key}={value}" for key, value in row.figures.items() if key != "related_must_hold")
        lines.append(
            f"{row.name:<14} {'held' if row.held else 'FAILED':<6} {row.seconds:6.1f} {1000 * row.health_max:13.0f} "
            f"{1000 * row.health_p95:7.0f} {row.probe_failures:>11}  {figures}"
        )
    return lines


# --------------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter attacks (a few minutes in all)")
    parser.add_argument("--only", default=None, help=f"comma-separated attacks to run, of: {', '.join(ATTACKS)}")
    parser.add_argument("--n", type=int, default=500, help="SciFact abstracts in the index")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = list(ATTACKS) if not args.only else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in ATTACKS]
    if unknown:
        raise SystemExit(f"unknown attack(s) {unknown}; choose from {', '.join(ATTACKS)}")
    os.environ["HF_HUB_OFFLINE"] = "1"
    rng = random.Random(args.seed)
    records = load_records()
    base, spare = records[: args.n], records[args.n :]
    workdir = Path(tempfile.mkdtemp(prefix="attack-"))
    index_dir, tmpdir = workdir / "indexes", workdir / "server-tmp"
    tmpdir.mkdir()
    server = Server(index_dir, tmpdir, workdir / "server.log", secrets.token_urlsafe(24))
    exit_code = 1
    prober = None
    rows: list[Row] = []
    try:
        corpus = workdir / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(row) + "\n" for row in base), encoding="utf-8")
        started = time.monotonic()
        cli(index_dir, "ingest", str(corpus))
        cli(index_dir, "build")
        log(f"built an index of {len(base)} SciFact abstracts in {time.monotonic() - started:.1f} s")
        server.start()
        log(f"server pid {server.process.pid} on {HOST}:{server.port}; log {server.log_path}")
        call(server.port, "POST", "/search", json.dumps({"text": "hypoxia", "k": 5}).encode(),
             {"Content-Type": "application/json"}, timeout=120)  # fmt: skip  # warm-up: model loaded
        ctx = Context(server, [row["id"] for row in base], spare, args.quick, rng)
        prober = Prober(server.port, base[0]["id"])
        prober.start()
        for name in names:
            if not server.alive():
                rows.append(Row(name, False, 0.0, 0.0, 0.0, 0, {}, ["not run: the server is gone"]))
                continue
            log(f"attack {name} ...")
            row = run_attack(name, ctx, prober)
            rows.append(row)
            log(f"{name}: {'held' if row.held else 'FAILED'} " + "; ".join(row.problems))
        print()
        print(*summary(rows), sep="\n")
        failed = [row for row in rows if not row.held]
        for row in failed:
            for problem in row.problems:
                print(f"FAILED {row.name}: {problem}")
        exit_code = 1 if failed else 0
        print(f"\n{len(rows) - len(failed)} held, {len(failed)} failed")
    finally:
        if prober is not None:
            prober.stop_event.set()
            prober.join(PROBE_TIMEOUT * 3)
        print(f"server stop: {server.stop()}")
        if exit_code and server.log_path.exists():
            print("server log, last lines:\n" + server.log_tail(25))
        if args.keep:
            print(f"working folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
