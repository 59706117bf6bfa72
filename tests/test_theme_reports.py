"""Theme maps kept with the index, incremental assignment, and the shareable reports (fake embedder)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import CORPUS, TOPIC, jsonl, write

from recommender.errors import InvalidInputError
from recommender.paper import Paper
from recommender.themes.fitted import FittedThemes
from recommender.themes.report import (
    GOLDEN_ANGLE,
    LEGEND_LABEL,
    NOISE_COLOUR,
    PALETTE,
    render,
    short_label,
    theme_colour,
)
from recommender.themes.theme import Theme
from recommender.web import create_app

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture()
def built(make_service, tmp_path):
    service = make_service()
    records = [
        *CORPUS,
        {"id": "x1", "title": f"Hypoxia {XSS}", "abstract": f"Hypoxia and HIF-1alpha {XSS} glycolysis."},
    ]
    service.ingest([write(tmp_path / "c.jsonl", jsonl(records))])
    service.build()
    return service


class Collector(HTMLParser):
    """Tags, attributes and text of an HTML page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Collector:
    collector = Collector()
    collector.feed(page)
    collector.close()
    return collector


def test_themes_are_kept_and_reproducible(built):
    first = built.themes(3)
    assert (built.settings.index_path / "themes.json").exists()
    again = built.themes(3)
    assert again.to_dict() == first.to_dict()
    refit = built.themes(3, refit=True)
    assert [t.papers for t in refit.themes] == [t.papers for t in first.themes]  # same input, same seed


def add_and_build(service, folder, record: dict) -> None:
    service.ingest([write(folder / f"{record['id']}.jsonl", jsonl([record]))])
    service.build()


def test_new_papers_join_the_nearest_theme_without_refitting(built, tmp_path):
    before = built.themes(3)
    add_and_build(built, tmp_path, {
        "id": "n1", "title": "Anoikis resistance again", "abstract": "Detached cells resist anoikis; anoikis resistance."
    })  # fmt: skip
    after = built.themes(3)
    assert after.incremental == ["n1"] and after.build_id != before.build_id
    home = next(theme for theme in after.themes if "n1" in theme.papers)
    assert {TOPIC.get(p) for p in home.papers if p != "n1"} == {"a"}
    assert [t.label for t in after.themes] == [t.label for t in before.themes]
    assert built.themes(3, refit=True).incremental == []


def test_a_refit_after_additions_keeps_theme_ids_and_reports_the_matching(built, tmp_path):
    before = built.themes(3)
    add_and_build(built, tmp_path, {
        "id": "n2", "title": "IL-6 from fibroblasts", "abstract": "Cancer-associated fibroblasts secrete IL-6; STAT3 signalling."
    })  # fmt: skip
    refit = built.themes(3, refit=True)
    changes = refit.changes
    assert changes.compared_with == before.build_id and changes.ari >= 0.8
    assert changes.papers_compared == before.papers and changes.ended == []
    old_home = {p: t.id for t in before.themes for p in t.papers}
    new_home = refit.theme_of()
    assert sum(old_home[p] == new_home[p] for p in old_home) >= 0.8 * len(old_home)  # same ids for the same papers
    assert {t.id: t.previous_id for t in changes.themes} == {t.id: t.id for t in refit.themes}


def test_sub_themes_of_one_theme(built):
    parent = built.themes(2)
    biggest = parent.themes[0]
    sub = built.themes(2, within=biggest.id)
    assert sorted(p for t in sub.themes for p in t.papers) == sorted(biggest.papers)
    with pytest.raises(InvalidInputError):
        built.themes(within=42)


def test_html_report_is_self_contained_and_escaped(built):
    page = built.theme_report(3)
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.tags]
    charts = [attrs["aria-label"] for tag, attrs in parsed.tags if tag == "svg"]
    assert charts[0].startswith("Map of the papers") and tags.count("circle") == len(CORPUS) + 1
    assert charts[1:] and all(label.startswith("Papers per year") for label in charts[1:])  # the corpus has years
    cards = [attrs for tag, attrs in parsed.tags if attrs.get("class") == "card"]
    assert len(cards) == 3
    assert "script" not in tags and "img" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not (name in ("src", "srcset", "data") or name.startswith("on")), (tag, name)
            if name == "href":
                assert value.startswith(("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/")), value
    assert "url(" not in page and "@import" not in page
    assert XSS in "".join(parsed.text)  # shown as text, never as markup


@pytest.mark.parametrize("fmt", ["md", "json", "csv"])
def test_other_formats(built, fmt):
    text = built.theme_report(3, fmt=fmt)
    if fmt == "json":
        assert len(json.loads(text)["themes"]) == 3
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted(row["paper_id"] for row in rows) == sorted([r["id"] for r in CORPUS] + ["x1"])
    else:
        assert text.count("\n## [") == 3 and "<script>" not in text
    with pytest.raises(InvalidInputError):
        built.theme_report(3, fmt="pdf")


def test_theme_endpoints(built):
    client = create_app(service=built).test_client()
    body = client.get("/themes?k=3").get_json()
    assert len(body["themes"]) == 3 and "hierarchy" in body and "similarity" in body
    report = client.get("/themes/report?k=3")
    assert report.status_code == 200 and report.mimetype == "text/html"
    assert "default-src 'none'" in report.headers["Content-Security-Policy"]
    assert "<script>alert" not in report.get_data(as_text=True)
    assert client.get("/themes/report?format=csv&k=3").mimetype == "text/csv"
    assert client.get("/themes?method=magic").status_code == 400
    assert client.get("/themes/report?format=pdf").status_code == 400
    assert client.get("/themes?within=99").status_code == 400


# ----------------------------------------------------------------------------- the HTML map: legend and colours
MAP_JS = Path(__file__).resolve().parents[1] / "recommender" / "web" / "static" / "map.js"


def legend_map() -> tuple[FittedThemes, dict[str, Paper]]:
    """Twelve themes (beyond the ten palette colours), one with a long label, and one paper in no theme."""
    labels = [f"theme {i} term" for i in range(12)]
    labels[1] = "Cancer-associated fibroblasts, IL-6 STAT3 signalling, chemoresistance of gastric cancer"
    themes = [
        Theme(id=i, label=label, terms=["term"], size=2, papers=[f"p{i}a", f"p{i}b"], titles=["A", "B"])
        for i, label in enumerate(labels)
    ]
    ids = [paper_id for theme in themes for paper_id in theme.papers] + ["loose"]
    theme_map = FittedThemes(
        build_id="b1", model="fake", method="spectral", requested_k=12, k=12, papers=len(ids), silhouette=None,
        themes=themes, unassigned=["loose"], coordinates={paper_id: [float(i), float(i % 5)] for i, paper_id in enumerate(ids)},
    )  # fmt: skip
    return theme_map, {paper_id: Paper(id=paper_id, title=f"Title {paper_id}") for paper_id in ids}


def test_the_map_legend_names_each_theme_by_its_label():
    theme_map, papers = legend_map()
    parsed = parse(render(theme_map, papers, "html"))
    items = [attrs for tag, attrs in parsed.tags if tag == "span" and attrs.get("class") == "item"]
    assert len(items) == len(theme_map.themes) + 1  # and "no theme"
    for theme, attrs in zip(theme_map.themes, items, strict=False):
        assert attrs["title"] == f"[{theme.id}] {theme.label}"  # the full label as the tooltip
        assert short_label(theme.label) in parsed.text
    long = short_label(theme_map.themes[1].label)
    assert long.endswith("…") and len(long) <= LEGEND_LABEL and theme_map.themes[1].label.startswith(long[:-1])
    assert short_label("theme 3 term") == "theme 3 term"


def test_the_legend_shows_labels_in_a_fitted_report(built):
    parsed = parse(built.theme_report(3))
    titles = [attrs["title"] for tag, attrs in parsed.tags if tag == "span" and attrs.get("class") == "item"]
    assert titles == [f"[{theme.id}] {theme.label}" for theme in built.themes(3).themes]


def test_report_colours_are_the_web_pages():
    theme_map, papers = legend_map()
    parsed = parse(render(theme_map, papers, "html"))
    items = [attrs["style"] for tag, attrs in parsed.tags if tag == "span" and attrs.get("class") == "item"]
    assert items == [f"--c: {theme_colour(theme.id)}" for theme in theme_map.themes] + [f"--c: {NOISE_COLOUR}"]
    theme_of = {**theme_map.theme_of(), "loose": -1}
    dots = [attrs["fill"] for tag, attrs in parsed.tags if tag == "circle"]
    assert dots == [theme_colour(theme_of[paper_id]) for paper_id in theme_map.coordinates]
    assert theme_colour(-1) == NOISE_COLOUR and theme_colour(10).startswith("hsl(")


def js_constant(source: str, name: str) -> str:
    found = re.search(rf"^const {name} = (.*?);$", source, re.S | re.M)
    assert found, f"map.js has no const {name}"
    return found.group(1)


def test_the_report_palette_is_the_web_pages():
    """One palette: the report's copy of map.js's PALETTE, NO_THEME and themeColour rule must agree."""
    source = MAP_JS.read_text(encoding="utf-8")
    assert json.loads(re.sub(r",\s*\]$", "]", js_constant(source, "PALETTE"))) == list(PALETTE)
    assert json.loads(js_constant(source, "NO_THEME")) == NOISE_COLOUR
    rule = re.search(r"export function themeColour\(themeId\) \{\n.*?\n\}", source, re.S)
    assert rule and f"themeId * {GOLDEN_ANGLE}) % 360).toFixed(1)}} 55% 45%)" in rule.group(0)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run map.js's themeColour")
def test_theme_colours_match_map_js_character_for_character():
    source = MAP_JS.read_text(encoding="utf-8")
    rule = re.search(r"export function (themeColour\(themeId\) \{\n.*?\n\})", source, re.S)
    assert rule
    ids = list(range(-1, 400))
    program = (
        f"const PALETTE = {js_constant(source, 'PALETTE')}; const NO_THEME = {js_constant(source, 'NO_THEME')};\n"
        f"function {rule.group(1)}\nconsole.log(JSON.stringify({json.dumps(ids)}.map(themeColour)));"
    )
    answer = subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(answer.stdout) == [theme_colour(theme_id) for theme_id in ids]
