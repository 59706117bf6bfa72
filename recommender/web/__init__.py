"""The HTTP API: a Flask application factory over one :class:`~recommender.service.Recommender`.

``create_app(settings)`` builds an app whose only state is the service stored in
``app.extensions["recommender"]`` (no module globals), so several apps can live in one process, e.g. in
tests. Routes live in :mod:`.api`; the single JSON error shape in :mod:`.errors`.
"""

from __future__ import annotations

from flask import Flask

from ..service import Recommender
from ..settings import Settings
from .api import api
from .errors import register_error_handlers

EXTENSION = "recommender"
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, *, service: Recommender | None = None) -> Flask:
    """A Flask app serving ``service`` (or a new one built from ``settings`` / the environment)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = service or Recommender(settings or Settings.from_env())
    app.register_blueprint(api)
    register_error_handlers(app)
    return app
