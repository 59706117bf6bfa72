"""Checks on what a client sends before the app does anything with it: the ``Host`` header and the framing.

Host (DNS rebinding): a web page on ``evil.example`` whose name is re-pointed at 127.0.0.1 can make a
researcher's browser read this server's open endpoints as "same origin"; the browser still sends
``Host: evil.example``. So a request must name an allowed host (``Settings.allowed_hosts``, env
``RECOMMENDER_ALLOWED_HOSTS``, ``serve --allowed-host``; the bound host, localhost, 127.0.0.1 and ::1 always;
any port; ``*`` allows any), else it gets a 400 ``bad_host`` before the rate limit, the token check or any
route runs. Flask's ``TRUSTED_HOSTS`` is not used: werkzeug 3.1 cuts every allowed name at its first ``:``,
so an IPv6 literal such as ``[::1]`` could never match, and it compares case-sensitively.

Framing (request smuggling): :func:`framing_problem` names a request header block that two HTTP parsers
could read differently — ``Content-Length`` together with ``Transfer-Encoding`` (RFC 9112 §6.3: the server
must close the connection), ``Transfer-Encoding`` in HTTP/1.0 (§6.1), or a header folded over lines
(obs-fold, §5.2). waitress pops ``Transfer-Encoding`` and rewrites ``Content-Length`` before the WSGI app
sees the request, so no WSGI middleware can tell; the server layer (:mod:`.server`) refuses them with a 400
in the app's JSON shape and closes the connection.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request

from ..errors import RecommenderError

#: Always allowed: names of this machine's loopback interface, which a rebinding page cannot send.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
#: Bind addresses that are not a name clients use (all interfaces): not added to the allowed hosts.
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


class BadHostError(RecommenderError):
    """The ``Host`` header names a host this server is not configured to answer for."""

    code = "bad_host"
    http_status = 400


def _normalise(host: str) -> str:
    """``HOST[:PORT]`` (or ``[V6]:PORT``) -> the lower-case host without port, brackets or a trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif host.count(":") == 1:  # name:port (a bare IPv6 address has several colons)
        host, _, port = host.partition(":")
    else:
        port = ""
    if port and not port.isdigit():
        return ""  # "localhost:80@evil" and the like name no host at all
    return host.rstrip(".")


def allowed_hosts(extra: Iterable[str]) -> frozenset[str] | None:
    """The host names to accept: loopback plus ``extra`` (normalised); ``None`` when ``extra`` has ``*``."""
    extra = list(extra)
    if "*" in extra:
        return None
    return frozenset(_normalise(host) for host in (*LOOPBACK_HOSTS, *extra) if _normalise(host))


def host_allowed(header: str | None, allowed: frozenset[str] | None) -> bool:
    """Whether a ``Host`` header value names one of ``allowed`` (an entry ``.lab.org`` allows subdomains)."""
    if allowed is None:
        return True
    if not header:
        return False
    host = _normalise(header)
    if host in allowed:
        return True
    return any(entry.startswith(".") and (host.endswith(entry) or host == entry[1:]) for entry in allowed)


def install_host_check(app: Flask, extra: Iterable[str]) -> None:
    """Refuse requests whose ``Host`` is not allowed (see the module docstring); registered before the rate
    limit and the token checks, so a rebinding page learns nothing from them either."""
    allowed = allowed_hosts(extra)
    if allowed is None:
        return

    @app.before_request
    def _check_host() -> None:
        header = request.environ.get("HTTP_HOST")
        if not host_allowed(header, allowed):
            shown = repr(header[:100]) if header else "(none)"
            raise BadHostError(
                f"Host {shown} is not allowed on this server: add the name clients use to RECOMMENDER_ALLOWED_HOSTS "
                "(comma-separated) or `recommender serve --allowed-host NAME`"
            )


def framing_problem(header_block: bytes) -> str | None:
    """Why a raw request header block (request line and fields, CRLF-separated) is ambiguous, or ``None``."""
    request_line, _, fields = header_block.partition(b"\r\n")
    names = set()
    for line in fields.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            return "a header folded over several lines (obs-fold) is not accepted"
        names.add(line.partition(b":")[0].strip().lower())
    if b"transfer-encoding" in names:
        if b"content-length" in names:
            return "a request may not carry both Content-Length and Transfer-Encoding"
        if request_line.rstrip().endswith(b"HTTP/1.0"):
            return "Transfer-Encoding is not defined in HTTP/1.0"
    return None
