"""One JSON error shape for every endpoint: ``{"error": {"code", "message"}}`` with a 4xx/5xx status.

Errors of the package carry their own code and status; Flask/werkzeug HTTP errors (unknown route, wrong
method, body too large) are converted to the same shape; anything unexpected is logged with its traceback
and answered as a 500 without internals.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import RecommenderError, UnauthorizedError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RecommenderError)
    def _recommender_error(error: RecommenderError) -> tuple[Response, int]:
        if error.http_status >= 500:
            log.error("%s: %s", error.code, error.message)
        response = jsonify(error.to_dict())
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, UnauthorizedError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="recommender"'
        return response, error.http_status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        code = re.sub(r"[^a-z0-9]+", "_", (error.name or "error").lower()).strip("_")
        return error_response(status, code, error.description or error.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error; see the server log")
