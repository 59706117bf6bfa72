"""The web page's shell and assets, without a browser: served, self-contained, and never echoing input.

The page (``GET /``) must work offline and under its own Content-Security-Policy: no URL of another host
anywhere in its HTML, scripts or styles, no inline script, no markup built from data (no ``innerHTML``), and a
search in the address bar read by the script, not templated into the HTML. The browser tests
(tests/test_browser.py) check the behaviour; these check the contract fast.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from helpers import fake_factory

from recommender.service import Recommender
from recommender.settings import Settings
from recommender.web import create_app
from recommender.web.ui import PAGE_POLICY

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "recommender" / "web"
STATIC = WEB / "static"
EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|https?://", re.IGNORECASE)
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


@pytest.fixture()
def app(built):
    return create_app(service=built)


@pytest.fixture()
def client(app):
    return app.test_client()


LINK_OUT = ("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/", "https://pmc.ncbi.nlm.nih.gov/")


def static_files() -> list[Path]:
    return sorted(path for path in STATIC.rglob("*") if path.is_file())


def test_the_page_is_served_with_its_own_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy == PAGE_POLICY
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_and_its_assets_name_no_other_host(client):
    html = client.get("/").get_data(as_text=True)
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script>" not in html and " style=" not in html and "onclick" not in html  # the policy would block them
    for path in static_files():
        # The SVG namespace is an XML name the page's charts are created in, never fetched; the result cards'
        # link-out prefixes are where a person may go (a new tab, on a click), never what the page fetches.
        text = path.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', '""')
        for target in LINK_OUT:
            text = text.replace(f'"{target}"', '""')
        assert not EXTERNAL.search(text), f"{path.name}: {EXTERNAL.search(text)}"


def test_every_referenced_asset_and_module_is_served_with_its_type(client):
    html = client.get("/").get_data(as_text=True)
    assets = ASSET.findall(html)
    assert {"/static/app.js", "/static/app.css"} <= set(assets)
    for module in STATIC.glob("*.js"):  # every `import ... from "./x.js"` resolves
        for name in re.findall(r'from "\./([^"]+)"', module.read_text(encoding="utf-8")):
            assert (STATIC / name).is_file(), f"{module.name} imports a missing {name}"
            assets.append(f"/static/{name}")
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        expected = "text/css" if asset.endswith(".css") else ("text/javascript", "application/javascript")
        assert response.mimetype in expected, (asset, response.mimetype)  # nosniff: a wrong type would not run
        response.close()


def test_scripts_never_turn_data_into_markup():
    for path in STATIC.glob("*.js"):
        code = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in code, f"{path.name} uses {sink}"
        assert 'setAttribute("style"' not in code  # inline style attributes are blocked by the policy


def test_a_search_in_the_address_is_not_echoed_into_the_page(client):
    plain = client.get("/").get_data(as_text=True)
    hostile = client.get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&view=%22%3E%3Cimg%20src%3Dx%3E")
    assert hostile.status_code == 200
    assert hostile.get_data(as_text=True) == plain  # q is read by the script from location, never templated
    assert "alert(1)" not in hostile.get_data(as_text=True)


def test_the_page_shell_loads_without_a_token_when_reads_are_protected(index_dir):
    settings = Settings(index_dir=index_dir, show_progress=False, read_token="read-secret")
    client = create_app(service=Recommender(settings, embedder_factory=fake_factory)).test_client()
    assert client.get("/").status_code == 200  # the shell carries no corpus data
    assert client.get("/static/app.js").status_code == 200
    assert client.post("/search", json={"text": "anoikis"}).status_code == 401  # the data still needs the token


def test_every_input_of_the_page_has_a_label(client):
    html = client.get("/").get_data(as_text=True)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    assert controls
    for control in controls:
        found = re.search(r'\bid="([^"]+)"', control)
        assert found and found.group(1) in labelled, f"no <label for> on {control}"


def test_templates_and_assets_are_shipped_with_the_package():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["recommender"]
    package = REPO / "recommender"
    shipped = [WEB / "templates" / "index.html", *static_files()]
    for path in shipped:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), f"{relative} not in package-data"
