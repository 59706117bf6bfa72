"""Answering a command-line query through a server that already has the index and the model loaded.

A cold ``recommender search`` must import numpy, FAISS and an encoder and read the index before it can
answer; a running ``recommender serve`` of the same index answers the same question in milliseconds. So
``serve`` announces itself in the index folder (``servers/<host>-<pid>.json``: its URL, process id, host
name and start time), removes the announcement when it stops, and the command line looks for a live one:
same host, process alive, ``GET /ready`` answering within :data:`PROBE_SECONDS`. ``--server URL`` names a
server explicitly (another machine, a container).

Only the standard library is used here (``urllib``), so the command line stays light on this path. Any
failure of a found server (gone, not ready, an error) makes the caller answer locally; an explicitly named
server that fails is an error the user sees.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

from .errors import InvalidInputError, RecommenderError
from .fileio import atomic_write_text

SERVERS = "servers"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: How long a found server may take to say it is ready before the query is answered locally.
PROBE_SECONDS = 0.5
#: How long a query to a server may take (a text query encodes on a loaded model: well under a second).
QUERY_SECONDS = 60.0
#: Bytes of a server's answer read at most (a page of 1,000 hits with snippets is well under this).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: Announcement files read at most (each a few hundred bytes; stale ones are skipped, not deleted).
MAX_ANNOUNCEMENTS = 64


class ServerUnavailableError(RecommenderError):
    """A server could not answer (refused, timed out, or answered with an error that is not the user's)."""


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to ``host`` (a wildcard bind means loopback)."""
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def announce(index_path: Path, url: str) -> Path:
    """Record that this process serves ``index_path`` at ``url``; returns the file to :func:`withdraw`."""
    folder = index_path / SERVERS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_host()}-{os.getpid()}.json"
    record = {"url": url, "pid": os.getpid(), "host": _host(), "started": time.time()}
    atomic_write_text(path, json.dumps(record))  # a reader sees the whole announcement or none
    return path


def withdraw(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


def find(index_path: Path) -> str | None:
    """The URL of a live, ready server of this index on this host, or None."""
    folder = index_path / SERVERS
    try:
        candidates = sorted(folder.glob("*.json"), key=_mtime, reverse=True)[:MAX_ANNOUNCEMENTS]
    except OSError:
        return None
    for path in candidates:
        record = _read(path)
        if record is None or record.get("host") != _host() or not _alive(record.get("pid")):
            continue
        url = record.get("url")
        if isinstance(url, str) and _ready(url):
            return url
    return None


def check_url(url: str) -> str:
    """``url`` without a trailing slash, if it is an http(s) URL with a host; else an error the user sees."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"--server wants an http(s) URL such as http://127.0.0.1:8000, not {url!r}")
    return url.rstrip("/")


def request(url: str, path: str, *, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None) -> Any:
    """GET (or POST ``body`` as JSON) ``url + path`` and return the decoded JSON answer.

    A 4xx answer is the user's mistake (an unknown paper, a bad filter): raised as :class:`InvalidInputError`
    with the server's message, like the same mistake answered locally. Anything else that goes wrong is a
    :class:`ServerUnavailableError`."""
    target = url + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if data else {})}
    call = urllib.request.Request(target, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with _opener(url).open(call, timeout=QUERY_SECONDS) as answer:
            return json.loads(answer.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as error:
        message = _error_message(error)
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise InvalidInputError(message) from None
        raise ServerUnavailableError(f"the server at {url} answered {error.code}: {message}") from None
    except (OSError, ValueError) as error:  # refused, timed out, reset, not JSON
        raise ServerUnavailableError(f"no answer from the server at {url}: {error}") from None


def _error_message(error: urllib.error.HTTPError) -> str:
    """The message of the service's JSON error body ({"error": {"message": ...}}), else the HTTP reason."""
    with suppress(OSError, ValueError, AttributeError, TypeError):
        body = json.loads(error.read(64 * 1024))
        return str(body["error"]["message"])
    return str(error.reason)


def _ready(url: str) -> bool:
    try:
        with _opener(url).open(url + "/ready", timeout=PROBE_SECONDS) as answer:
            return answer.status == 200
    except (OSError, ValueError):
        return False


def _opener(url: str) -> urllib.request.OpenerDirector:
    """An opener that never sends a loopback request through an HTTP proxy from the environment (a proxy
    cannot reach this machine's 127.0.0.1); other URLs follow the environment as any client would."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in LOOPBACK:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8")[:4096])
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    except OSError:
        return False
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _host() -> str:
    return socket.gethostname()
