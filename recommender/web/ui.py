"""The web page for people: search, related papers, the theme map and the upload form, in the browser.

``GET /`` serves one HTML shell (a Jinja template) and its own scripts and styles from the app's ``static``
folder; the page then talks to the JSON API of :mod:`.api` with ``fetch``. The shell holds no corpus data, so
it loads without a token even when reads are protected (``ui.index`` is in ``auth.OPEN_ENDPOINTS``); every
paper, title and theme arrives as JSON and is put on the page as text nodes, never parsed as markup.

The app's default Content-Security-Policy (``default-src 'none'``) would block the page's own scripts, so
this view sets a policy of its own: scripts, styles and fetches from this origin only, images only as
``data:`` URLs, no frames, no plugins, forms posted only here. Nothing is loaded from another host.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

ui = Blueprint("ui", __name__)

#: The page's policy: only its own origin for code, styles and API calls; ``data:`` images (the empty favicon).
PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


@ui.get("/")
def index() -> Response:
    """The single-page UI. A search in the address bar (``/?q=...``) is read by the script from the URL, never
    echoed into the HTML, so a hostile ``q`` cannot become markup."""
    response = Response(render_template("index.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response
