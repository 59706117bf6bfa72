"""The HTTP API: a Flask application factory over one :class:`~recommender.service.Recommender`.

``create_app(settings)`` builds an app whose only state is the service stored in
``app.extensions["recommender"]`` (no module globals), so several apps can live in one process, e.g. in
tests. Routes live in :mod:`.api`; the single JSON error shape in :mod:`.errors`.
"""

from __future__ import annotations

from flask import Flask, Response

from ..service import Recommender
from ..settings import Settings
from . import observability
from .api import api
from .auth import read_access
from .errors import register_error_handlers
from .guard import install_host_check
from .limits import body_cap, install_rate_limit
from .ui import ui

EXTENSION = "recommender"
#: Sent with every answer: browsers must not guess types (a JSON body with markup in it stays JSON), and an
#: answer is never framed or given a referrer. Pages that need more (the theme report) set their own CSP.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(settings: Settings | None = None, *, service: Recommender | None = None) -> Flask:
    """A Flask app serving ``service`` (or a new one built from ``settings`` / the environment)."""
    app = Flask(__name__)
    service = service or Recommender(settings or Settings.from_env())
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_upload_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = service.settings.max_upload_bytes  # pasted text in the upload form
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = service
    observability.install(app)  # first: request ids exist for every later hook and log line
    install_host_check(app, service.settings.allowed_hosts)  # before anything answers (DNS rebinding)
    app.before_request(body_cap)
    install_rate_limit(app, service.settings.rate_limit)  # before auth: token guessing is limited too
    app.before_request(read_access)
    app.after_request(_security_headers)
    app.register_blueprint(api)
    app.register_blueprint(ui)  # GET /: the web page for people (its own CSP)
    register_error_handlers(app)
    return app
