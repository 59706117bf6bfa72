"""Who may write: every endpoint that changes the index needs the bearer token in ``RECOMMENDER_API_TOKEN``.

Missing credentials are a 401 (with ``WWW-Authenticate``), a wrong token a 403, and a server started without
a token refuses every write (403) instead of leaving them open. Tokens are compared in constant time and
never logged or echoed.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from ..errors import ForbiddenError, UnauthorizedError

View = TypeVar("View", bound=Callable[..., Any])


def check_write_token(configured: str | None, header: str | None) -> None:
    """Raise unless ``header`` is ``Bearer <configured token>``."""
    if not configured:
        raise ForbiddenError("writes are disabled on this server: start it with RECOMMENDER_API_TOKEN set")
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("this endpoint changes the index: send 'Authorization: Bearer TOKEN'")
    if not hmac.compare_digest(token.strip().encode(), configured.encode()):
        raise ForbiddenError("the bearer token is not valid for writes on this server")


def write_access(view: View) -> View:
    """Decorator for write endpoints."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        service = current_app.extensions["recommender"]
        check_write_token(service.settings.api_token, request.headers.get("Authorization"))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
