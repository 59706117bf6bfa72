"""Who may read and write.

Every endpoint that changes the index needs the bearer token in ``RECOMMENDER_API_TOKEN``: missing
credentials are a 401 (with ``WWW-Authenticate``), a wrong token a 403, and a server started without a token
refuses every write (403) instead of leaving them open. Reads are open unless ``RECOMMENDER_READ_TOKEN`` is
set; then they need that token (or the write token). Probes and descriptions (/health, /ready, /metrics,
/openapi.json) stay open. Tokens are compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, request

from ..errors import ForbiddenError, UnauthorizedError

P = ParamSpec("P")
R = TypeVar("R")


def _bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header; ``None`` for no header or another scheme."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(token: str, configured: str | None) -> bool:
    """Constant-time comparison, so response times do not reveal how much of a guessed token was right."""
    if not configured:
        return False
    return hmac.compare_digest(token.encode(), configured.encode())


def check_write_token(configured: str | None, header: str | None) -> None:
    """Raise unless ``header`` is ``Bearer <configured token>``."""
    if not configured:
        raise ForbiddenError("writes are disabled on this server: start it with RECOMMENDER_API_TOKEN set")
    token = _bearer(header)
    if token is None:
        raise UnauthorizedError("this endpoint changes the index: send 'Authorization: Bearer TOKEN'")
    if not _matches(token, configured):
        raise ForbiddenError("the bearer token is not valid for writes on this server")


#: Endpoints that answer without a token even when reads are protected: liveness/readiness probes, metrics
#: scrapers and the API description carry no corpus data.
OPEN_ENDPOINTS = frozenset({"api.health", "api.ready", "api.openapi", "metrics", "static", "ui.index"})


def check_read_token(read_token: str | None, write_token: str | None, header: str | None) -> None:
    """Raise unless reads are open or ``header`` carries the read token (or the write token)."""
    if not read_token:
        return
    token = _bearer(header)
    if token is None:
        raise UnauthorizedError("reads on this server need a token: send 'Authorization: Bearer TOKEN'")
    # Both comparisons always run, so the time taken does not tell which token was nearly right.
    read_ok, write_ok = _matches(token, read_token), _matches(token, write_token)
    if not (read_ok or write_ok):
        raise ForbiddenError("the bearer token is not valid on this server")


def read_access() -> None:
    """``before_request`` hook: protect every non-open endpoint when a read token is configured."""
    if request.endpoint in OPEN_ENDPOINTS:
        return
    settings = current_app.extensions["recommender"].settings
    check_read_token(settings.read_token, settings.api_token, request.headers.get("Authorization"))


def write_access(view: Callable[P, R]) -> Callable[P, R]:
    """Decorator for write endpoints."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        service = current_app.extensions["recommender"]
        check_write_token(service.settings.api_token, request.headers.get("Authorization"))
        return view(*args, **kwargs)

    return guarded
