"""Running the app under waitress, configured for hostile clients, with a graceful stop.

Limits (:class:`ServerLimits`, from :class:`~recommender.settings.Settings`; ``recommender serve`` options):

* ``connection_limit`` (default 1000, waitress's own is 100): open connections at once. Past it waitress stops
  accepting and new clients wait in the kernel's backlog until a slot frees. The soft ``RLIMIT_NOFILE`` is
  raised at start to fit it (two descriptors per connection: the socket and a spooled body or answer, plus
  a reserve); if the hard limit is lower, the connection limit is lowered to fit and a warning logged. The
  main loop uses ``poll`` (``select`` fails on descriptors above 1023).
* ``header_timeout`` (10 s): a request's header must arrive within this many seconds of its first byte,
  ``body_timeout`` (120 s): its body within this many seconds of the header's end; else a 408 (JSON) and the
  connection is closed. Checked when bytes arrive, so a client trickling a byte every few seconds
  (slowloris) is cut off; one that sends nothing is closed by the idle timeout.
* ``channel_timeout`` (30 s; waitress's own is 120 s): a connection with no traffic and no request in flight
  is closed (checked every ``cleanup_interval``, a third of it, at most 10 s).
* body and header size: a body larger than ``Settings.max_upload_bytes`` + 64 KiB (the largest legitimate
  body; the app's own per-endpoint caps apply below it) is refused with a 413 from its ``Content-Length``
  alone, before a byte of it is read or spooled to disk (a chunked body is cut off at the cap); a header block
  over 64 KiB gets a 431.
* framing (:func:`~recommender.web.guard.framing_problem`): ``Content-Length`` with ``Transfer-Encoding``,
  ``Transfer-Encoding`` in HTTP/1.0, or a folded header: 400 and the connection is closed (waitress 3.0.2
  would take the chunked body and keep the connection open, and joins folded lines).

Errors that waitress answers itself (400, 408, 413, 431, 501) use the app's JSON error shape. Slow headers
and bodies cost no worker thread: waitress reads requests in its asynchronous main loop and hands a worker
only complete requests.

SIGTERM (what container runtimes and systemd send) is turned into the same orderly stop as Ctrl+C: waitress
stops accepting connections and gives requests in flight up to 5 s; then background jobs get
``shutdown_timeout`` seconds. A build still running after that is abandoned: versions are published by an
atomic rename, so the previous version stays current and nothing half-written is ever served.
"""

from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from .. import remote
from ..settings import Settings
from . import EXTENSION, SECURITY_HEADERS
from .guard import framing_problem

log = logging.getLogger(__name__)

#: Bytes allowed above ``Settings.max_upload_bytes`` at the server layer (multipart boundaries and part
#: headers); the app's own cap (``MAX_CONTENT_LENGTH``) still answers, in JSON, for bodies in between.
BODY_OVERHEAD = 64 * 1024
#: Largest request line plus header block (waitress's own default is 256 KiB).
MAX_HEADER_BYTES = 64 * 1024
#: Descriptors per connection (socket, spooled body or answer) and for everything else (index, store, logs).
FDS_PER_CONNECTION = 2
FD_RESERVE = 256
#: JSON error codes for the errors waitress answers itself (the app's codes where it has one).
_ERROR_CODES = {
    400: "invalid_input",
    408: "request_timeout",
    413: "request_entity_too_large",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}


@dataclass(frozen=True)
class ServerLimits:
    """What one client may hold of the server (see the module docstring)."""

    connection_limit: int = 1000
    channel_timeout: float = 30.0
    header_timeout: float = 10.0
    body_timeout: float = 120.0
    max_body_bytes: int = 16 * 1024 * 1024 + BODY_OVERHEAD
    max_header_bytes: int = MAX_HEADER_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        return cls(
            connection_limit=settings.connection_limit,
            channel_timeout=settings.channel_timeout,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_body_bytes=settings.max_upload_bytes + BODY_OVERHEAD,
        )

    def adjustments(self, connection_limit: int | None = None) -> dict[str, Any]:
        """waitress's ``create_server`` keyword arguments for these limits."""
        channel_timeout = max(1, math.ceil(self.channel_timeout))
        return {
            "connection_limit": connection_limit or self.connection_limit,
            "channel_timeout": channel_timeout,
            "cleanup_interval": max(1, min(10, channel_timeout // 3)),
            "max_request_body_size": self.max_body_bytes,
            "max_request_header_size": self.max_header_bytes,
            "asyncore_use_poll": hasattr(select, "poll"),
        }


def _json_error(status: int, message: str) -> bytes:
    code = _ERROR_CODES.get(status, "error")
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class _Parser(HTTPRequestParser):
    """waitress's parser, refusing ambiguous framing and remembering when the request's header and body began."""

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.started = time.monotonic()  # created when the request's first byte arrives
        self.body_started: float | None = None

    def parse_header(self, header_plus: bytes) -> None:
        problem = framing_problem(header_plus)
        if problem is not None:
            log.warning("refused a request with ambiguous framing: %s", problem)
            version = header_plus.partition(b"\r\n")[0].rstrip()[-3:]
            self.version = "1.1" if version == b"1.1" else "1.0"  # the version the 400 is answered in
            raise ParsingError(problem)  # -> 400, connection closed, the rest of the stream discarded
        super().parse_header(header_plus)

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.error is not None:
            # waitress would still invite a refused request's body with "100 Continue" and read up to the cap
            self.expect_continue = False
        elif self.headers_finished and self.body_started is None:
            self.body_started = time.monotonic()
        return consumed


class _JsonErrorTask(ErrorTask):
    """The errors waitress answers itself (malformed, too large, timed out) in the app's JSON shape."""

    def execute(self) -> None:
        error = self.request.error
        body = _json_error(error.code, f"{error.reason.lower()}: {error.body}")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class HardenedChannel(HTTPChannel):
    """A connection with header and body deadlines; subclassed per server with its limits."""

    parser_class = _Parser
    error_task_class = _JsonErrorTask
    #: The request still being received (HTTPChannel's attribute, declared for the type checker).
    request: _Parser | None
    header_timeout = 10.0
    body_timeout = 120.0

    def handle_read(self) -> None:
        super().handle_read()
        request = self.request  # the request still being received, if any
        if request is None or self.requests or self.will_close or self.close_when_flushed:
            return
        now = time.monotonic()
        if not request.headers_finished:
            if now - request.started > self.header_timeout:
                self._time_out("header", self.header_timeout)
        elif request.body_started is not None and now - request.body_started > self.body_timeout:
            self._time_out("body", self.body_timeout)

    def _time_out(self, part: str, limit: float) -> None:
        """Answer 408 and close: runs in the main loop, with no request of this connection in a worker."""
        body = _json_error(408, f"the request {part} did not arrive within {limit:g} s")
        payload = (
            b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        log.info("closed a connection whose request %s took over %g s", part, limit, extra={"remote": self.addr[0]})
        with self.requests_lock:
            if self.request is not None:
                self.request.close()  # frees a spooled body
                self.request = None
            self.close_when_flushed = True
        with self.outbuf_lock:
            self.outbufs[-1].append(payload)
            self.current_outbuf_count += len(payload)
            self.total_outbufs_len += len(payload)


def _fit_fd_limit(connection_limit: int) -> int:
    """Raise the soft RLIMIT_NOFILE to fit ``connection_limit``; the limit that fits the hard one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return connection_limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = connection_limit * FDS_PER_CONNECTION + FD_RESERVE
    if hard != resource.RLIM_INFINITY and hard < need:
        fitted = max(10, (hard - FD_RESERVE) // FDS_PER_CONNECTION)
        log.warning(
            "the file descriptor limit (%d) is too low for %d connections: accepting at most %d",
            hard,
            connection_limit,
            fitted,
        )
        connection_limit, need = fitted, hard
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return connection_limit


def make_server(app: Flask, *, host: str, port: int, threads: int, limits: ServerLimits | None = None) -> Any:
    """A waitress server for ``app`` with ``limits`` (default: from the app's settings), not yet running.

    Port 0 picks a free port (``server.effective_port``); ``server.run()`` serves, ``server.close()`` stops.
    """
    if limits is None:
        limits = ServerLimits.from_settings(app.extensions[EXTENSION].settings)
    connection_limit = _fit_fd_limit(limits.connection_limit)
    channel = type(
        "RecommenderChannel",
        (HardenedChannel,),
        {"header_timeout": limits.header_timeout, "body_timeout": limits.body_timeout},
    )
    socket_map: dict[int, Any] = {}
    server = create_server(
        app,
        map=socket_map,
        host=host,
        port=port,
        threads=threads,
        ident="recommender",
        **limits.adjustments(connection_limit),
    )
    for dispatcher in list(socket_map.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = channel
    return server


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop catches it, closes its sockets and waits for its worker threads


def run_server(
    app: Flask, *, host: str, port: int, threads: int, shutdown_timeout: float, limits: ServerLimits | None = None
) -> None:
    """Serve until SIGTERM/SIGINT, then stop in order (see the module docstring).

    While serving, the server is announced in its index folder (:mod:`recommender.remote`), so command-line
    queries of the same index on this machine are answered by it instead of loading the index themselves."""
    server = make_server(app, host=host, port=port, threads=threads, limits=limits)
    service = app.extensions[EXTENSION]
    port = getattr(server, "effective_port", port)
    try:
        announcement: Path | None = remote.announce(service.settings.index_path, remote.local_url(host, port))
    except OSError as error:  # a read-only index folder: serve anyway, unannounced
        log.warning("cannot announce the server in the index folder: %s", error)
        announcement = None
    previous = signal.signal(signal.SIGTERM, _stop)
    adj = server.adj
    log.info(
        "serving",
        extra={
            "url": f"http://{host}:{port}",
            "threads": threads,
            "connection_limit": adj.connection_limit,
            "channel_timeout_s": adj.channel_timeout,
            "max_body_bytes": adj.max_request_body_size,
        },
    )
    try:
        server.run()
    except KeyboardInterrupt:  # pragma: no cover - waitress normally handles it
        pass
    finally:
        if announcement is not None:
            remote.withdraw(announcement)
        signal.signal(signal.SIGTERM, previous)
    log.info("stopped accepting requests; finishing background jobs", extra={"timeout_s": shutdown_timeout})
    clean = app.extensions[EXTENSION].close(shutdown_timeout)
    if clean:
        log.info("shut down cleanly")
        return
    log.warning(
        "a build was still running after %.0f s: abandoned, the previous version stays current", shutdown_timeout
    )
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the job thread cannot be interrupted, and interpreter exit would wait for it
