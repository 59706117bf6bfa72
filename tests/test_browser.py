"""The web page in a real browser: headless Debian chromium driven by Playwright, against the real app served by
waitress on loopback over an index built with the fake embedder.

Checked as a biologist would use it: search, a linkable search, related papers, marking and refining, a
pasted DOI, the theme map (drawn, hover, click, filters, theme list), uploading the four seed documents with
the write token (and the refusal of a wrong one), keyboard use, and protected reads. The corpus holds papers
whose title, abstract, journal and id are XSS payloads: on every view they must show as literal text and
never run (``window.__xss`` stays undefined). Every request the page makes must go to the app itself.
Screenshots of each view are written to ``artifacts/screenshots/``.

The browser is Debian's chromium (``/usr/bin/chromium``; ``make test`` installs it), never one downloaded by
Playwright. Without it these tests fail, saying so, rather than skip.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from helpers import CORPUS, RIS_RECORD, built_service, filler_papers
from waitress.server import create_server

from recommender.service import Recommender
from recommender.settings import Settings
from recommender.web import create_app

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture reports it as a failure, with what to run
    expect = None

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("RECOMMENDER_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-write-token-5e1"
READ_TOKEN = "browser-read-token-77c"
TIMEOUT_MS = 30_000  # generous: CI machines are shared; a passing expect returns at once

XSS_TITLE = "<img src=x onerror=window.__xss=1> Anoikis resistance in detached melanoma cells"
XSS_JOURNAL = "<script>window.__xss=3</script>Journal of Payloads"
XSS_ID = "x<svg onload=window.__xss=4>"
XSS_PAPER = {
    "id": XSS_ID,
    "title": XSS_TITLE,
    "abstract": "<script>window.__xss=2</script> Detached melanoma cells resist anoikis. Anoikis resistance "
    "drives metastasis <img src=x onerror=window.__xss=5>.",
    "journal": XSS_JOURNAL,
    "year": 2024,
}
DOI = "10.5555/anoikis.2024.17"
PMID = "38000017"
DOI_PAPER = {
    "doi": DOI,
    "pmid": PMID,
    "authors": ["Ada Lovelace", "Grace Hopper", "Rosalind Franklin", "Barbara McClintock"],
    "title": "Integrin loss and anoikis resistance in squamous carcinoma",
    "abstract": "Loss of integrin signalling leaves detached squamous carcinoma cells resistant to anoikis; "
    "anoikis resistance predicts metastasis.",
    "journal": "Oncology Test",
    "year": 2024,
}
PAPERS = [*CORPUS, XSS_PAPER, DOI_PAPER]
UPLOAD_XSS_ID = "up<img src=x onerror=window.__xss=6>"
UPLOAD_XSS_FILE = "<img src=x onerror=window.__xss=7>.ris"


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module (a fresh temporary profile); each test gets its own context."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium. Run `make test` (its set-up installs "
            "it) or `apt-get install chromium`; Playwright's own browser downloads are never used."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "playwright is not installed: run `make test` (installs the test extras) or pip install -e '.[test]'"
        )
    expect.set_options(timeout=TIMEOUT_MS)  # expect() has its own 5 s default, apart from the context's
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def server(request: pytest.FixtureRequest, index_dir: Path, tmp_path: Path) -> Iterator[str]:
    """The real app under waitress on a free loopback port; ``indirect`` params add settings (a read token)."""
    extra = getattr(request, "param", {})
    service = built_service(index_dir, tmp_path, PAPERS, api_token=TOKEN, **extra)
    waitress, thread, base = serve(service)
    yield base
    stop(waitress, thread, service)


@dataclass
class Session:
    """A page on the app, with what it fetched from elsewhere and the script errors it raised."""

    page: Any
    base: str
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_selector("body[data-ready=true]")

    def settle(self) -> None:
        """Wait two animation frames: the map redraws and the tooltip follow the pointer once per frame."""
        self.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")

    def assert_safe(self) -> None:
        """No payload ran, nothing was fetched from another host, no script error, no markup from data."""
        assert self.page.evaluate("() => window.__xss") is None
        # The theme list's year charts are SVG the page draws itself; any other SVG would have come from data.
        found = "document.querySelectorAll('img, svg:not(.year-chart), iframe, object, embed').length"
        assert self.page.evaluate(f"() => {found}") == 0
        assert self.page.evaluate("() => document.scripts.length") == 1  # the page's own module only
        assert not self.external, f"requests to other hosts: {self.external}"
        assert not self.errors, f"errors on the page: {self.errors}"

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def hit_ids(self) -> list[str]:
        return self.page.locator("#results-list li.hit").evaluate_all("items => items.map((item) => item.dataset.id)")


def open_session(browser: Any, base: str) -> tuple[Any, Session]:
    """A fresh browser context on ``base`` that refuses (and records) every request to another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    session = Session(context.new_page(), base)

    def route(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            session.external.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    session.page.on("pageerror", lambda error: session.errors.append(f"script error: {error}"))
    session.page.on(
        "console",
        lambda message: (
            session.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return context, session


def serve(service: Recommender) -> tuple[Any, threading.Thread, str]:
    """``service``'s app under waitress on a free loopback port, in a background thread."""
    waitress = create_server(create_app(service=service), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=waitress.run, name="waitress", daemon=True)
    thread.start()
    return waitress, thread, f"http://127.0.0.1:{waitress.effective_port}"


def stop(waitress: Any, thread: threading.Thread, service: Recommender) -> None:
    waitress.close()
    thread.join(5)
    waitress.task_dispatcher.shutdown()
    service.close(5)


@pytest.fixture()
def session(browser: Any, server: str) -> Iterator[Session]:
    context, session = open_session(browser, server)
    yield session
    context.close()


def search(session: Session, text: str) -> None:
    """Type a search and press Enter, as a person would; wait for its results."""
    session.page.fill("#q", text)
    session.page.press("#q", "Enter")
    expect(session.page.locator("#results-heading")).to_have_text(f"Results for “{text}”")


# --------------------------------------------------------------------------------------------- search
def test_a_text_search_shows_results_with_why_they_are_related(session):
    session.open("/")
    search(session, "IL-6 STAT3 signalling from fibroblasts")
    page = session.page
    hits = page.locator("#results-list li.hit")
    assert hits.count() >= 5
    first = hits.first
    expect(first.locator(".hit-title")).not_to_be_empty()
    expect(first.locator(".journal")).not_to_be_empty()
    expect(first.locator(".year")).to_have_text(re.compile(r"^\d{4}$"))
    expect(first.locator(".score")).to_have_text(re.compile(r"^score \d+\.\d{3}$"))
    expect(first.locator(".parts")).to_have_text(re.compile(r"meaning \d+\.\d{3}, words \d+\.\d{3}"))
    # Why related: the shared terms that meet the label rule (used by at most a third of the other papers), as
    # the query writes them.
    terms = first.locator(".term").all_inner_texts()
    assert any("IL-6" in term or "STAT3" in term for term in terms), terms
    # The hit's sentence with the shared terms marked.
    marked = first.locator(".snippet mark").all_inner_texts()
    assert marked and all(word.strip() for word in marked), marked
    assert "?q=IL-6+STAT3+signalling+from+fibroblasts" in page.url  # the search is now a link
    # The payloads are shown, as text, where any other title and journal are.
    search(session, "anoikis resistance detached cells")
    expect(page.locator("#results-list .hit-title", has_text=XSS_TITLE)).to_have_count(1)
    expect(page.locator("#results-list .journal", has_text=XSS_JOURNAL)).to_have_count(1)
    session.assert_safe()
    session.screenshot("search")


def test_hits_show_their_strength_and_weak_matches_stand_apart(browser, index_dir, tmp_path):
    """In an index large enough for calibrated strengths (50+ papers), each hit shows its strength and the
    weak ones come under one divider, dimmed."""
    service = built_service(index_dir, tmp_path, [*PAPERS, *filler_papers()], api_token=TOKEN)
    waitress, thread, base = serve(service)
    context, session = open_session(browser, base)
    try:
        session.open("/")
        search(session, "anoikis resistance")
        page = session.page
        first = page.locator("#results-list li.hit").first
        expect(first.locator(".match")).to_have_text(re.compile(r"^(Strong match|Related)$"))
        expect(first.locator(".parts")).to_have_text(re.compile(r"probability \d\.\d{3}, meaning"))
        items = page.locator("#results-list > li")
        classes = [items.nth(i).get_attribute("class") or "" for i in range(items.count())]
        assert "hit weak" in classes, classes
        divider = classes.index("weak-divider")
        assert all(name == "hit weak" for name in classes[divider + 1 :]) and "hit weak" not in classes[:divider]
        expect(page.locator(".weak-divider")).to_have_count(1)
        expect(page.locator("li.hit.weak .match").first).to_have_text("Weak match")
        session.assert_safe()
        session.screenshot("strength")
    finally:
        context.close()
        stop(waitress, thread, service)


def test_a_search_link_opens_with_its_results_and_hostile_links_stay_text(session):
    session.open("/?q=" + quote("IL-6 STAT3 cancer-associated fibroblasts"))
    page = session.page
    expect(page.locator("#q")).to_have_value("IL-6 STAT3 cancer-associated fibroblasts")
    expect(page.locator("#results-list li.hit").first).to_be_visible()
    assert session.hit_ids()[0] in {"c1", "c2", "c3"}
    session.screenshot("search_link")

    hostile = "<script>window.__xss=8</script><img src=x onerror=window.__xss=9>"
    session.open("/?q=" + quote(hostile))
    expect(page.locator("#results-heading")).to_contain_text("<script>window.__xss=8</script>")
    expect(page.locator("#q")).to_have_value(hostile)
    session.assert_safe()


def test_a_result_opens_its_related_papers_and_the_paper(session):
    session.open("/?q=" + quote("anoikis resistance metastasis"))
    page = session.page
    hit = page.locator("#results-list li.hit").filter(has_text="Anoikis resistance of detached lung cancer cells")
    hit.locator("button.open").click()
    expect(page.locator("#paper-title")).to_have_text("Anoikis resistance of detached lung cancer cells")
    expect(page.locator("#results-heading")).to_contain_text("Papers related to")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('related to')")
    related = session.hit_ids()
    assert related and "a1" not in related  # the paper itself is never its own neighbour
    assert {"a2", "a3"} & set(related[:3])
    assert "paper=a1" in page.url  # the paper view is a link too
    session.screenshot("related")

    # The hostile paper's own view: title, journal, id and abstract are text.
    page.locator("#results-list li.hit").filter(has_text=XSS_TITLE).locator("button.open").click()
    expect(page.locator("#paper-title")).to_have_text(XSS_TITLE)
    expect(page.locator("#paper .journal")).to_have_text(XSS_JOURNAL)
    expect(page.locator("#paper .ids dd").first).to_have_text(XSS_ID)
    expect(page.locator("#paper .abstract")).to_contain_text("<script>window.__xss=2</script>")
    session.assert_safe()
    session.screenshot("paper_hostile")
    assert urlencode({"paper": XSS_ID}) in page.url
    session.open("/?" + urlencode({"paper": XSS_ID}))  # the paper view's link opens it again
    expect(page.locator("#paper-title")).to_have_text(XSS_TITLE)
    expect(page.locator("#results-list li.hit").first).to_be_visible()
    session.assert_safe()


def test_marking_papers_refines_the_list_without_them(session):
    session.open("/?q=" + quote("anoikis resistance"))
    page = session.page
    before = session.hit_ids()
    liked = page.locator("#results-list li.hit").filter(has_text="Anoikis resistance of detached lung cancer cells")
    disliked = page.locator("#results-list li.hit").filter(has_text=XSS_TITLE)
    liked.locator("button.mark-positive").click()
    disliked.locator("button.mark-negative").click()
    expect(liked.locator("button.mark-positive")).to_have_attribute("aria-pressed", "true")
    expect(disliked.locator("button.mark-negative")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#marks-summary")).to_contain_text("1 more like this, 1 less like this")
    expect(page.locator("#marks-list")).to_contain_text(XSS_TITLE)  # the marks list shows titles as text
    page.click("#refine")
    expect(page.locator("#results-heading")).to_contain_text("Refined")
    after = session.hit_ids()
    assert after and after != before
    assert "a1" not in after and XSS_ID not in after  # marked papers are left out
    assert after[0] in {"a2", "a3", f"doi:{DOI}"}  # more like the anoikis paper
    session.assert_safe()
    session.screenshot("refined")


def test_a_pasted_doi_or_pmid_opens_that_paper(session):
    session.open("/")
    page = session.page
    page.fill("#q", DOI)
    page.press("#q", "Enter")
    expect(page.locator("#paper-title")).to_have_text(DOI_PAPER["title"])
    expect(page.locator("#paper .ids")).to_contain_text(DOI)
    expect(page.locator("#results-heading")).to_contain_text("Papers related to")
    assert f"doi:{DOI}" not in session.hit_ids()
    session.screenshot("pasted_doi")
    page.fill("#q", DOI_PAPER["pmid"])
    page.press("#q", "Enter")
    expect(page.locator("#paper .ids")).to_contain_text(DOI_PAPER["pmid"])
    page.fill("#q", "anoikis")  # one word that is no paper's id: searched as text
    page.press("#q", "Enter")
    expect(page.locator("#results-heading")).to_have_text("Results for “anoikis”")
    expect(page.locator("#paper")).to_be_hidden()
    session.assert_safe()


# ------------------------------------------------------------------------------------------- the map
CANVAS_PIXELS = """(canvas) => {
  const { width, height } = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const scale = width / canvas.clientWidth;
  const cells = new Map();
  let painted = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4 + 3] < 200) continue;
      painted += 1;
      const key = `${Math.floor(x / 12)},${Math.floor(y / 12)}`;
      const cell = cells.get(key) || { x: 0, y: 0, n: 0 };
      cell.x += x; cell.y += y; cell.n += 1;
      cells.set(key, cell);
    }
  }
  const blobs = [...cells.values()].filter((c) => c.n >= 6).map((c) => [c.x / c.n / scale, c.y / c.n / scale]);
  return { painted, blobs };
}"""


def drawn(session: Session) -> int:
    session.settle()
    return int(session.page.locator("#map-canvas").get_attribute("data-drawn"))


def test_the_theme_map_draws_filters_and_shows_papers(session):
    session.open("/")
    page = session.page
    page.click("button[data-view=map]")
    expect(page.locator("#theme-list li.theme").first).to_be_visible()
    assert "view=map" in page.url
    expect(page.locator("#map-count")).to_have_text(f"Showing {len(PAPERS)} of {len(PAPERS)} papers.")
    assert drawn(session) == len(PAPERS)
    canvas = page.locator("#map-canvas")
    pixels = canvas.evaluate(CANVAS_PIXELS)
    assert pixels["painted"] > 100 and pixels["blobs"], "the map canvas is blank"

    # The theme list: labels, sizes, representative papers; all papers accounted for.
    labels = page.locator("#theme-list .theme-label").all_inner_texts()
    sizes = [int(text.split()[0]) for text in page.locator("#theme-list .theme-size").all_inner_texts()]
    assert len(labels) >= 2 and all(labels) and sum(sizes) == len(PAPERS)
    assert any("anoikis" in label.lower() for label in labels)
    expect(page.locator("#theme-list .representatives button").first).to_be_visible()

    # Hover every dot: the tooltip names the paper, as text, payload included.
    box = canvas.bounding_box()
    seen = set()
    for x, y in pixels["blobs"]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        session.settle()
        tooltip = page.locator("#map-tooltip")
        if tooltip.is_visible():
            seen.add(tooltip.locator(".tooltip-title").inner_text())
    titles = {paper["title"] for paper in PAPERS}
    assert seen and seen <= titles
    assert XSS_TITLE in seen, f"the payload paper's dot was not reached: {seen}"
    page.mouse.move(box["x"] + pixels["blobs"][0][0], box["y"] + pixels["blobs"][0][1])
    session.settle()
    session.screenshot("map_tooltip")

    # Click a dot: the paper and its related papers open beside the map.
    page.mouse.click(box["x"] + pixels["blobs"][0][0], box["y"] + pixels["blobs"][0][1])
    expect(page.locator("#map-paper-title")).to_have_text(re.compile("."))
    assert page.locator("#map-paper-title").inner_text() in titles
    expect(page.locator("#map-paper li.hit").first).to_be_visible()

    # Filters change what is drawn.
    page.fill("#map-year-min", "2021")
    expect(page.locator("#map-count")).to_have_text(re.compile(r"^Showing \d+ of"))
    newer = sum(1 for paper in PAPERS if paper["year"] >= 2021)
    assert drawn(session) == newer < len(PAPERS)
    page.fill("#map-year-min", "")
    page.fill("#map-journal", "oncology")
    oncology = sum(1 for paper in PAPERS if "oncology" in paper["journal"].lower())
    expect(page.locator("#map-count")).to_have_text(f"Showing {oncology} of {len(PAPERS)} papers.")
    assert drawn(session) == oncology
    page.click("#map-reset")
    first_theme = page.locator("#theme-list button.theme-button").first
    first_theme.click()
    expect(first_theme).to_have_attribute("aria-pressed", "true")
    assert drawn(session) == sizes[0]
    session.screenshot("map_theme")
    first_theme.click()
    assert drawn(session) == len(PAPERS)

    # A representative paper in the theme list opens it too (the keyboard route to the map's papers).
    page.locator("#theme-list .representatives button").first.click()
    expect(page.locator("#map-paper-title")).to_be_visible()
    session.assert_safe()
    session.screenshot("map")


MAP_XSS_LABEL = "<img src=x onerror=window.__xss=11> hostile theme"


def synthetic_map(n: int = 20_000, themes: int = 12) -> dict[str, Any]:
    """A /themes/map answer for ``n`` papers in ``themes`` blobs (the fake index is too small to show scale)."""
    import numpy as np

    generator = np.random.default_rng(8)
    theme = generator.integers(0, themes, n)
    centres = generator.uniform(-1, 1, (themes, 2))
    points = centres[theme] + generator.normal(0, 0.12, (n, 2))
    journals = [XSS_JOURNAL, *(f"Synthetic Journal {j}" for j in range(1, 300))]
    return {
        "build_id": "synthetic",
        "k": themes,
        "themes": [
            {
                "id": t,
                "label": MAP_XSS_LABEL if t == 0 else f"synthetic theme {t}",
                "terms": ["<script>window.__xss=12</script>", f"term {t}"],
                "size": int((theme == t).sum()),
                "representatives": [f"s{i}" for i in np.flatnonzero(theme == t)[:5]],
            }
            for t in range(themes)
        ],
        "journals": journals,
        "id": [f"s{i}" for i in range(n)],
        "x": np.round(points[:, 0], 4).tolist(),
        "y": np.round(points[:, 1], 4).tolist(),
        "theme": theme.tolist(),
        "year": generator.integers(1990, 2026, n).tolist(),
        "journal": generator.integers(-1, len(journals), n).tolist(),
        "title": [
            XSS_TITLE if i % 1000 == 0 else f"Synthetic paper {i} of theme {t}" for i, t in enumerate(theme.tolist())
        ],
    }


def test_the_map_draws_20000_papers(session):
    """Scale: 20,000 dots drawn, hovered and filtered (the answer is synthetic, with hostile labels and titles; the
    page is the real one). While the map is being fitted, the page says so."""
    answer = synthetic_map()
    body = json.dumps(answer)
    held = []
    session.page.route("**/themes/map*", lambda route: held.append(route))  # answered once the busy state is seen
    session.open("/")
    page = session.page
    page.click("button[data-view=map]")
    expect(page.locator("#map-busy")).to_be_visible()
    expect(page.locator("#map-busy")).to_contain_text("Fitting the theme map")
    expect(page.locator("#map-region")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#status")).to_have_text("Fitting the theme map…")
    started = page.evaluate("() => performance.now()")
    held[0].fulfill(body=body, content_type="application/json")
    page.wait_for_function("() => document.getElementById('map-canvas').dataset.drawn === '20000'", polling="raf")
    shown_ms = page.evaluate("() => performance.now()") - started
    expect(page.locator("#map-busy")).to_be_hidden()
    expect(page.locator("#map-region")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#theme-list li.theme")).to_have_count(12)
    expect(page.locator("#theme-list .theme-label").first).to_have_text(MAP_XSS_LABEL)
    expect(page.locator("#theme-list .theme-terms").first).to_contain_text("<script>window.__xss=12</script>")
    expect(page.locator("#theme-list .representatives button", has_text=XSS_TITLE).first).to_be_visible()
    pixels = page.locator("#map-canvas").evaluate(CANVAS_PIXELS)
    assert pixels["painted"] > 10_000
    box = page.locator("#map-canvas").bounding_box()
    page.mouse.move(box["x"] + pixels["blobs"][0][0], box["y"] + pixels["blobs"][0][1])
    session.settle()
    expect(page.locator("#map-tooltip .tooltip-title")).to_have_text(
        re.compile(r"^(Synthetic paper \d+ of theme \d+|<img .*)$")
    )
    session.screenshot("map_20000")
    started = page.evaluate("() => performance.now()")
    page.fill("#map-year-min", "2020")
    page.wait_for_function("() => document.getElementById('map-canvas').dataset.drawn !== '20000'", polling="raf")
    filtered_ms = page.evaluate("() => performance.now()") - started
    assert drawn(session) == sum(1 for year in answer["year"] if year >= 2020)
    print(
        f"20,000-paper map: shown {shown_ms:.0f} ms after the answer (parse + draw), refiltered in {filtered_ms:.0f} ms"
    )
    session.assert_safe()


def test_a_sampled_map_says_it_is_a_sample_of_the_whole_corpus(session):
    """A corpus beyond the point budget comes as a sample: the count names the sample and the corpus, and the
    papers in no theme are counted over the corpus, not the sample."""
    answer = {**synthetic_map(n=2_000, themes=4), "sampled": True, "total": 1_000_000, "unthemed": 1_234}
    answer["theme"][:10] = [-1] * 10
    session.page.route(
        "**/themes/map*", lambda route: route.fulfill(body=json.dumps(answer), content_type="application/json")
    )
    session.open("/")
    page = session.page
    page.click("button[data-view=map]")
    page.wait_for_function("() => document.getElementById('map-canvas').dataset.drawn === '2000'", polling="raf")
    expect(page.locator("#map-count")).to_have_text(
        "Showing 2,000 of 2,000 points, a sample of the 1,000,000 papers (every theme in proportion)."
    )
    expect(page.locator("#theme-list li.no-theme")).to_contain_text("1,234 papers fit no theme")
    session.assert_safe()


# ------------------------------------------------------------------------------------------- uploads
def set_token(session: Session, token: str) -> None:
    page = session.page
    if not page.locator("#token-panel").evaluate("(panel) => panel.open"):
        page.click("#token-panel summary")
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")


def test_uploading_the_seeds_with_the_token_shows_the_ingest_summary(session, seeds_dir, expected_seeds):
    seeds = [str(seeds_dir / name) for name in sorted(expected_seeds)]
    assert len(seeds) == 4
    session.open("/?view=upload")
    page = session.page

    set_token(session, "not-the-token")
    page.set_input_files("#upload-files", seeds)
    page.click("#upload-submit")
    expect(page.locator("#alert")).to_contain_text("refused (403)")
    expect(page.locator("#upload-items .ingest.failed")).to_contain_text("403")
    expect(page.locator("#token-panel")).to_have_attribute("open", "")
    session.screenshot("upload_forbidden")

    set_token(session, TOKEN)
    expect(page.locator("#token-state")).to_have_text("(set for this tab)")
    uploads: list[str] = []  # every upload request the page sends: all the files go in one (one index update)
    page.on("request", lambda request: uploads.append(request.method) if "/papers/upload" in request.url else None)
    page.click("#upload-submit")
    items = page.locator("#upload-items .ingest.ok")
    expect(items).to_have_count(4, timeout=60_000)
    for item in items.all():
        expect(item.locator("dd").first).to_have_text("1")  # read: one paper per seed document
        expect(item.locator(".job")).to_contain_text("done")
    expect(page.locator("#status")).to_contain_text("Added 4")
    expect(page.locator("#alert")).to_be_hidden()
    assert uploads == ["POST"]
    expect(page.locator("#upload-items h4")).to_have_text(sorted(expected_seeds))  # one summary per file, in order
    session.screenshot("upload")

    # A hostile file name and a pasted record with a hostile id: the summary shows them as text.
    page.set_input_files(
        "#upload-files", files=[{"name": UPLOAD_XSS_FILE, "mimeType": "text/plain", "buffer": RIS_RECORD.encode()}]
    )
    record = {"id": UPLOAD_XSS_ID, "title": "<script>window.__xss=10</script>Anoikis upload", "abstract": "Anoikis."}
    page.fill("#upload-text", json.dumps([record]))
    page.click("#upload-submit")
    expect(page.locator("#upload-items .ingest.ok")).to_have_count(2, timeout=60_000)
    expect(page.locator("#upload-items h4").first).to_have_text(UPLOAD_XSS_FILE)
    expect(page.locator("#upload-items .paper-id", has_text=UPLOAD_XSS_ID)).to_have_count(1)
    session.assert_safe()
    session.screenshot("upload_hostile")

    # A file that cannot be read among good ones: its own error in its summary, the others stored.
    uploads.clear()
    other = RIS_RECORD.replace("10.1038/nature02766", "10.1000/browser.2").replace("TrkB", "TrkB-2")
    page.set_input_files(
        "#upload-files",
        files=[
            {"name": "junk.bin", "mimeType": "application/octet-stream", "buffer": b"\x00\x01\x02" * 10},
            {"name": "other.ris", "mimeType": "text/plain", "buffer": other.encode()},
        ],
    )
    page.click("#upload-submit")
    expect(page.locator("#upload-items .ingest")).to_have_count(2, timeout=60_000)
    expect(page.locator("#upload-items .ingest.failed h4")).to_have_text("junk.bin")
    expect(page.locator("#upload-items .ingest.failed .error")).to_contain_text("nothing_ingested")
    expect(page.locator("#upload-items .ingest.ok h4")).to_have_text("other.ris")
    expect(page.locator("#upload-items .ingest.ok .job")).to_contain_text("done")
    expect(page.locator("#status")).to_contain_text("1 input(s) failed")
    assert uploads == ["POST"]

    # The added papers are searchable at once: a seed DOI opens.
    page.click("button[data-view=search]")
    page.fill("#q", "10.1186/s40164-025-00713-9")
    page.press("#q", "Enter")
    expect(page.locator("#paper .ids")).to_contain_text("10.1186/s40164-025-00713-9")


# --------------------------------------------------------------------------------------------- access
def test_keyboard_reaches_the_search_box_and_the_result_buttons(session):
    session.open("/?q=" + quote("hypoxia glycolysis"))
    page = session.page
    expect(page.locator("#results-list li.hit").first).to_be_visible()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached = []
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => {
                  const el = document.activeElement;
                  return { id: el.id, cls: el.className, outline: getComputedStyle(el).outlineStyle };
                }"""
            )
        )
        if reached[-1]["cls"].startswith("mark mark-positive"):
            break
    ids = [item["id"] for item in reached]
    classes = [item["cls"] for item in reached]
    assert "q" in ids and "open" in classes, reached
    assert ids.index("q") < classes.index("open")
    assert all(item["outline"] == "solid" for item in reached), "focus must be visible"
    assert classes[-1].startswith("mark mark-positive")
    page.keyboard.press("Enter")  # a mark toggles from the keyboard
    expect(page.locator("#results-list button.mark-positive").first).to_have_attribute("aria-pressed", "true")
    session.screenshot("keyboard")
    # The search form works from the keyboard alone: type, Enter, focus lands on the new results.
    page.focus("#q")
    page.keyboard.press("Control+A")
    page.keyboard.type("IL-6 STAT3")
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_be_focused()
    expect(page.locator("#results-heading")).to_have_text("Results for “IL-6 STAT3”")
    session.assert_safe()


@pytest.mark.parametrize("server", [{"read_token": READ_TOKEN}], indirect=True)
def test_protected_reads_ask_for_the_token_then_work(session):
    session.open("/?q=" + quote("anoikis resistance"))
    page = session.page
    expect(page.locator("#alert")).to_contain_text("needs a token (401)")
    expect(page.locator("#token-panel")).to_have_attribute("open", "")
    set_token(session, READ_TOKEN)
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results-list li.hit").first).to_be_visible()
    expect(page.locator("#alert")).to_be_hidden()
    session.screenshot("read_token")
    session.assert_safe()


# ----------------------------------------------------------------------------- the real model, the seeds
@pytest.mark.e2e
def test_with_the_real_model_the_uploaded_seeds_pair_up_by_theme(browser, index_dir, real_factory, seeds_dir):
    """The product's smallest true test, in the browser: an empty index, the four seed documents uploaded
    through the page, and each seed's nearest paper is the other seed of its theme (anoikis resistance;
    CAF signalling)."""
    settings = Settings(index_dir=index_dir, show_progress=False, api_token=TOKEN)
    service = Recommender(settings, embedder_factory=real_factory)
    waitress, thread, base = serve(service)
    context, session = open_session(browser, base)
    try:
        session.open("/?view=upload")
        page = session.page
        set_token(session, TOKEN)
        page.set_input_files("#upload-files", [str(path) for path in sorted(seeds_dir.glob("*.txt"))])
        page.click("#upload-submit")
        expect(page.locator("#upload-items .ingest.ok")).to_have_count(4, timeout=120_000)
        for item in page.locator("#upload-items .ingest.ok").all():
            expect(item.locator(".job")).to_contain_text("done", timeout=120_000)
        stored = list(service.store.papers())

        def seed(starts: str) -> str:
            return next(paper.id for paper in stored if paper.abstract.startswith(starts))

        pairs = {  # each seed's DOI (as a user would paste it) -> the other seed of its theme
            "10.1002/smll.202500136": seed("Metastasis significantly contributes"),
            "10.1186/s40164-025-00713-9": seed("Recent studies indicate that cancer-associated fibroblasts"),
        }
        for doi, partner in pairs.items():
            page.click("button[data-view=search]")
            page.fill("#q", doi)
            page.press("#q", "Enter")
            expect(page.locator("#paper .ids")).to_contain_text(doi)
            expect(page.locator("#results-heading")).to_contain_text("Papers related to")
            expect(page.locator("#results-list li.hit").first).to_have_attribute("data-id", partner)
        session.screenshot("seeds_real_model")
        session.assert_safe()
    finally:
        context.close()
        stop(waitress, thread, service)


# --------------------------------------------------------------------------- the researcher's loop
def test_result_cards_link_out_and_a_list_exports_and_pages(session, tmp_path):
    import bibtexparser
    from pylatexenc.latex2text import LatexNodes2Text

    session.open("/?q=" + quote("anoikis resistance"))
    page = session.page
    card = page.locator("#results-list li.hit").filter(has_text=DOI_PAPER["title"])
    expect(card.locator(".authors")).to_have_text("Ada Lovelace, Grace Hopper, Rosalind Franklin et al.")
    link = card.locator("a.link-doi")
    expect(link).to_have_attribute("href", f"https://doi.org/{DOI}")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(card.locator("a.link-pubmed")).to_have_attribute("href", f"https://pubmed.ncbi.nlm.nih.gov/{PMID}/")
    # Following the DOI opens the resolver in a new tab (a stand-in answers: the tests never leave the machine).
    page.context.route(
        "https://doi.org/**", lambda route: route.fulfill(body="<title>DOI resolver</title>", content_type="text/html")
    )
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.url == f"https://doi.org/{DOI}"
    popup.value.close()
    session.screenshot("cards")

    # Export the list as BibTeX: the file holds the listed papers in list order.
    shown = page.locator("#results-list .hit-title").all_inner_texts()
    page.select_option("#results-format", "bibtex")
    with page.expect_download() as download:
        page.click("#results-export")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    entries = bibtexparser.parse_string(saved.read_text(encoding="utf-8")).entries
    latex = LatexNodes2Text()
    assert [latex.latex_to_text(entry.fields_dict["title"].value) for entry in entries] == shown
    expect(page.locator("#status")).to_contain_text(f"Exported {len(shown)} papers")

    # "More results" continues the list without repeating a paper; newest-first re-orders it.
    expect(page.locator("#results-more")).to_be_visible()
    page.click("#results-more")
    expect(page.locator("#results-list li.hit")).to_have_count(len(PAPERS))
    expect(page.locator("#status")).to_contain_text(f"({len(PAPERS)} shown)")
    ids = session.hit_ids()
    assert len(ids) == len(PAPERS) and len(set(ids)) == len(ids)
    expect(page.locator("#results-more")).to_be_hidden()
    page.select_option("#results-sort", "year")
    expect(page.locator("#status")).to_contain_text("Newest first")
    years = [int(text) for text in page.locator("#results-list .year").all_inner_texts()]
    assert years == sorted(years, reverse=True)
    session.assert_safe()


def test_a_collection_built_from_results_recommends_and_exports(session, tmp_path):
    import rispy

    session.open("/?q=" + quote("anoikis resistance"))
    page = session.page
    set_token(session, TOKEN)
    page.fill("#save-target", "anoikis review")
    for title in (DOI_PAPER["title"], "Anoikis resistance of detached lung cancer cells"):
        button = page.locator("#results-list li.hit").filter(has_text=title).locator("button.save")
        button.click()
        expect(button).to_have_text("Saved to anoikis review")
    page.click("button[data-view=collections]")
    page.locator("#collection-list button", has_text="anoikis review").click()
    expect(page.locator("#collection-title")).to_have_text("anoikis review")
    expect(page.locator("#collection-papers li.hit")).to_have_count(2)
    expect(page.locator("#collection-papers a.link-doi")).to_have_attribute("href", f"https://doi.org/{DOI}")
    session.screenshot("collection")

    # Paste a PMID list: known ones are added, the others named.
    page.fill("#collection-name", "anoikis review")
    page.fill("#collection-ids", "PMID: 99999999\nhttps://pubmed.ncbi.nlm.nih.gov/" + PMID + "/")
    page.click("#collection-form button[type=submit]")
    expect(page.locator("#alert")).to_contain_text("99999999")
    expect(page.locator("#collection-papers li.hit")).to_have_count(2)  # the known PMID was already in it

    with page.expect_download() as download:
        page.click("#collection-export")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    entries = rispy.loads(saved.read_text(encoding="utf-8"))
    assert len(entries) == 2 and all("anoikis review" in entry["keywords"] for entry in entries)

    page.click("#collection-recommend")
    expect(page.locator("#results-heading")).to_contain_text("Recommended from the collection")
    ids = session.hit_ids()
    assert ids and "a1" not in ids and f"doi:{DOI}" not in ids  # the collection's papers are the examples
    assert ids[0] in {"a2", "a3", XSS_ID}
    session.screenshot("collection_recommend")
    session.assert_safe()


def test_a_theme_exports_its_papers_tagged_with_its_label(session, tmp_path):
    import rispy

    session.open("/?view=map")
    page = session.page
    first = page.locator("#theme-list li.theme").first
    expect(first).to_be_visible()
    label = first.locator(".theme-label").inner_text()
    size = int(first.locator(".theme-size").inner_text().split()[0])
    with page.expect_download() as download:
        first.locator("button.theme-export").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    entries = rispy.loads(saved.read_text(encoding="utf-8"))
    assert len(entries) == size and all(label in entry["keywords"] for entry in entries)
    session.screenshot("theme_export")
    session.assert_safe()
