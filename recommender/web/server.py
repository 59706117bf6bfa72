"""Running the app under waitress with a graceful stop.

SIGTERM (what container runtimes and systemd send) is turned into the same orderly stop as Ctrl+C: waitress
stops accepting connections and gives requests in flight up to 5 s; then background jobs get
``shutdown_timeout`` seconds. A build still running after that is abandoned: versions are published by an
atomic rename, so the previous version stays current and nothing half-written is ever served.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from flask import Flask
from waitress.server import create_server

from . import EXTENSION

log = logging.getLogger(__name__)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop catches it, closes its sockets and waits for its worker threads


def run_server(app: Flask, *, host: str, port: int, threads: int, shutdown_timeout: float) -> None:
    """Serve until SIGTERM/SIGINT, then stop in order (see the module docstring)."""
    server = create_server(app, host=host, port=port, threads=threads, ident="recommender")
    previous = signal.signal(signal.SIGTERM, _stop)
    log.info("serving", extra={"url": f"http://{host}:{port}", "threads": threads})
    try:
        server.run()
    except KeyboardInterrupt:  # pragma: no cover - waitress normally handles it
        pass
    finally:
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
