"""How much a client may send: request body caps and an optional per-client rate limit.

Bodies: write endpoints that carry papers accept up to ``Settings.max_upload_bytes``; every other endpoint
takes at most :data:`MAX_QUERY_BODY` (a search text is capped at 20,000 characters, so 256 KiB is ample).
Larger bodies get a 413 before any of them is parsed.

Rate limit: Flask-Limiter, keyed by client address, in memory (one server process; a lab's shared box). The
limit string is Flask-Limiter's notation ("300/minute", "20/second;1000/hour"). A client over it gets a 429
in the usual JSON error shape with ``Retry-After``. Probes and metrics are exempt. Behind a reverse proxy,
every client has the proxy's address unless the app is wrapped in werkzeug's ``ProxyFix``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from ..errors import InvalidInputError
from .auth import OPEN_ENDPOINTS

MAX_QUERY_BODY = 256 * 1024
#: Files one ``POST /papers/upload`` may carry (each read on its own, all indexed by one update); more is a
#: 413 before any is read. Their total size is the upload cap's (``MAX_CONTENT_LENGTH``).
MAX_UPLOAD_FILES = 50
#: Endpoints whose bodies carry papers (the upload cap applies).
UPLOAD_ENDPOINTS = frozenset({"api.add_papers", "api.upload_papers"})


def body_cap() -> None:
    """``before_request`` hook: the smaller cap for everything but uploads."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_QUERY_BODY


def install_rate_limit(app: Flask, limit: str | None) -> Limiter | None:
    """Limit each client to ``limit`` requests (``None``: no limit); a malformed limit is refused at start."""
    if not limit:
        return None
    try:
        parse_many(limit)
    except ValueError:
        raise InvalidInputError(
            f"invalid rate limit {limit!r}: use e.g. '300/minute' or '20/second;1000/hour'"
        ) from None
    return Limiter(
        get_remote_address,
        app=app,
        default_limits=[limit],
        storage_uri="memory://",
        headers_enabled=True,
        default_limits_exempt_when=lambda: request.endpoint in OPEN_ENDPOINTS,
    )
