"""Operations: request ids, one structured log line per request, and Prometheus metrics at ``/metrics``.

Every request gets an id — the caller's ``X-Request-ID`` if it is a plain token, else a new one — echoed in
the response header and attached to every log record written while the request runs, so a user's error
report can be matched to the server log. Logs are JSON lines (python-json-logger) or plain text; headers
are never logged, so tokens cannot leak into logs. Metrics (prometheus-client) live in a registry owned by
the app, not the process-global one, so several apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
import uuid
from http import HTTPStatus

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter

from ..errors import RecommenderError
from ..jobs import current_job

METRICS = "recommender_metrics"
ACCESS_LOG = "recommender.web.access"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: Latency buckets (seconds) around what the service does: sub-ms lookups to multi-second theme fits.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Label values are bounded (a label set per value lives for the process, and every scrape sends them all):
#: methods and statuses from fixed sets, routes from the app's URL rules (see _method, _status, _route).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUSES = frozenset(int(status) for status in HTTPStatus)

access_log = logging.getLogger(ACCESS_LOG)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record: the current request's id, ``job:<id>`` inside a background job
    (builds started by a request outlive it), or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            if has_request_context():
                record.request_id = g.get("request_id", "-")
            else:
                job = current_job.get()
                record.request_id = f"job:{job}" if job else "-"
        return True


def configure_logging(fmt: str = "auto", *, verbose: bool = False) -> None:
    """Send logs to stderr as JSON lines (``fmt="json"``) or text; the package's own at INFO, others at WARNING.
    ``auto``: text for a person at a terminal (``make run``), JSON for a log collector reading a pipe or file."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json" or (fmt == "auto" and not sys.stderr.isatty()):
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("recommender").setLevel(logging.INFO)
    # waitress warns once per request that waits for a worker thread: thousands of lines a minute under load,
    # all saying what the latency metrics already show.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class Metrics:
    """The app's counters: requests by endpoint and status, latencies, and the index's state at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "recommender_http_requests",
            "HTTP requests answered, by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "recommender_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.papers = Gauge("recommender_papers_indexed", "Papers in the version being served", registry=self.registry)
        self.stored = Gauge("recommender_papers_stored", "Papers in the paper store", registry=self.registry)
        self.jobs = Gauge("recommender_jobs_active", "Queued or running background jobs", registry=self.registry)


def _route() -> str:
    """The matched route pattern (bounded label values), not the raw path with its ids."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _method() -> str:
    """The request method as a label: a client may send any token as a method, so unknown ones are "other"."""
    return request.method if request.method in _METHODS else "other"


def _status(code: int) -> str:
    """The status as a label: the registered HTTP statuses (what the app and werkzeug send), else "other"."""
    return str(code) if code in _STATUSES else "other"


def install(app: Flask) -> None:
    """Request ids, access logs and metrics for ``app``; adds ``GET /metrics``."""
    metrics = Metrics()
    app.extensions[METRICS] = metrics

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("started")
        elapsed = time.perf_counter() - started if started is not None else 0.0
        route, method = _route(), _method()
        metrics.requests.labels(method, route, _status(response.status_code)).inc()
        metrics.latency.labels(method, route).observe(elapsed)
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        path = json.dumps(request.path, ensure_ascii=True)[1:-1]  # no raw control characters in text logs
        access_log.info(
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            elapsed * 1000,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "remote": request.remote_addr,
            },
        )
        return response

    @app.get("/metrics", endpoint="metrics")
    def _metrics() -> Response:
        service = app.extensions["recommender"]
        metrics.papers.set(service.serving_size())
        metrics.jobs.set(len(service.jobs.active()))
        with contextlib.suppress(RecommenderError):  # a damaged store shows in /health; metrics still answer
            metrics.stored.set(service.store.count())
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0])
