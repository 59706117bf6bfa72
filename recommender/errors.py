"""One error family for the whole package.

Every failure a user can cause or meet derives from :class:`RecommenderError`, which carries a stable
machine-readable ``code`` and an HTTP status. The web layer turns any of them into the single JSON error
shape ``{"error": {"code", "message"}}``; the CLI prints the message and exits non-zero. Core modules raise
these and never know which front end is calling.
"""

from __future__ import annotations

from typing import Any


class RecommenderError(Exception):
    """Base class: a failure with a message written for the user, not a traceback."""

    code = "error"
    http_status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        #: Seconds after which the same request may succeed (sent as ``Retry-After``); ``None``: not a matter of time.
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: ``{"error": {"code", "message"[, "details"]}}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class InvalidInputError(RecommenderError):
    """The caller sent something unusable (bad parameter, malformed body, unreadable file)."""

    code = "invalid_input"
    http_status = 400


class NotFoundError(RecommenderError):
    """An id, index or file that does not exist."""

    code = "not_found"
    http_status = 404


class IndexNotBuiltError(RecommenderError):
    """The index has papers (or not) but no built version to search yet."""

    code = "index_not_built"
    http_status = 409


class StaleIndexError(RecommenderError):
    """The paper exists in the store but was ingested after the last build."""

    code = "index_stale"
    http_status = 409


class IndexMismatchError(RecommenderError):
    """The built index does not match the configured model or this program's format."""

    code = "index_mismatch"
    http_status = 409


class IndexCorruptError(RecommenderError):
    """Files of a built index are missing or inconsistent with its manifest."""

    code = "index_corrupt"
    http_status = 500


class ModelLoadError(RecommenderError):
    """The sentence-transformers model could not be loaded."""

    code = "model_error"
    http_status = 503


class NothingIngestedError(RecommenderError):
    """An ingest read no usable paper at all (every input was rejected)."""

    code = "nothing_ingested"
    http_status = 400


class NothingIngestedTooLargeError(NothingIngestedError):
    """Nothing was read because every input was over a size limit (a gzip bomb, an endless line, a huge field)."""

    code = "too_large"
    http_status = 413


class BusyError(RecommenderError):
    """Another build or write of the same index, or another theme fit, is in progress: try again later."""

    code = "busy"
    http_status = 409


class QueueFullError(RecommenderError):
    """Too many background jobs are waiting already; the request is refused rather than queued for hours."""

    code = "queue_full"
    http_status = 429


class TooLargeError(RecommenderError):
    """An input is over a size limit (bytes, records, decompressed size); the message names the limit."""

    code = "too_large"
    http_status = 413


class ParseTimeoutError(RecommenderError):
    """Reading an uploaded document took longer than the time limit; the store is unchanged."""

    code = "parse_timeout"
    http_status = 422


class ConflictError(RecommenderError):
    """The request asks for something that already exists (a collection of that name)."""

    code = "conflict"
    http_status = 409


class RemoteServiceError(RecommenderError):
    """A remote service (NCBI E-utilities) failed or kept refusing after retries."""

    code = "remote_error"
    http_status = 502


class UnauthorizedError(RecommenderError):
    """A write was sent without credentials."""

    code = "unauthorized"
    http_status = 401


class ForbiddenError(RecommenderError):
    """A write was sent with a wrong token, or writes are disabled on this server."""

    code = "forbidden"
    http_status = 403


class NotReadyError(RecommenderError):
    """The service is alive but has no loadable index version to answer from (readiness probe)."""

    code = "not_ready"
    http_status = 503


class StorageError(RecommenderError):
    """The disk refused a write (full, read-only, I/O error) or the paper store cannot be read.

    Writes are transactions or staged folders, so whatever was stored or built before stays as it was.
    """

    code = "storage_error"
    http_status = 507


def failure_reason(error: BaseException) -> str:
    """Why an OS or library call failed, for a message: the OS's own words ("No space left on device") when
    there are some, else the exception's text."""
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def http_status_for(code: str | None) -> int:
    """The HTTP status of an error code (for errors recorded as data, e.g. a failed job's); 500 if unknown."""
    pending: list[type[RecommenderError]] = [RecommenderError]
    while pending:
        kind = pending.pop()
        if kind.code == code:
            return kind.http_status
        pending.extend(kind.__subclasses__())
    return 500
