"""Hostile corpus text in the theme reports: Markdown, CSV and HTML exports must keep it inert and visible.

Ids, titles, DOIs, journals, labels and terms come from whatever was ingested, so each can carry backticks,
raw HTML, Markdown link syntax, newlines or spreadsheet formulas. The Markdown report is rendered with a
permissive CommonMark renderer (markdown-it-py with raw HTML on and its link-scheme filter off, as a naive
renderer would be) when that is importable; otherwise the checks fall back to the Markdown text itself.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest

from recommender.paper import Paper
from recommender.themes.fitted import FittedThemes
from recommender.themes.report import render
from recommender.themes.theme import Merge, Theme

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SAFE_HREF = re.compile(r"https://(doi\.org|pubmed\.ncbi\.nlm\.nih\.gov)/[A-Za-z0-9%._~/-]+")

PAPERS = [
    Paper(id=f"a` {IMG} `b", title=f"Backtick id {IMG}", doi="10.1000/ok", journal=f"J {SCRIPT}", year=2020),
    Paper(id="id\n# Injected heading\n" + SCRIPT, title="Newline id", doi="10.1000/nl"),
    Paper(id="``", title="Only backticks", pmid="123"),
    Paper(id='=HYPERLINK("http://evil.example","x")', title="=cmd|' /C calc'!A0", doi="=1+1"),
    Paper(id="+1", title="+SUM(A1:A9)", doi="javascript:alert(1)"),
    Paper(id="-2", title="-2+3", doi="10.1000/x) [click](javascript:alert(1)"),
    Paper(id="@SUM(A1)", title="@SUM(A1)", doi='10.1000/"><script>alert(1)</script>'),
    Paper(id="\tTAB", title="\ttab title", pmid="1 onmouseover=alert(1)"),
    Paper(id="\rCR", title="\rcr title\n# Heading in a title\n" + SCRIPT),
    Paper(id="plain", title=f"*bold* _it_ [x](javascript:alert(1)) ](javascript:alert(1)) {IMG}", doi="10.1/a"),
]
UNASSIGNED = Paper(id="=unassigned()", title="-unassigned title")


@pytest.fixture()
def report_input() -> tuple[FittedThemes, dict[str, Paper]]:
    ids = [paper.id for paper in PAPERS]
    themes = [
        Theme(id=0, label=f'=HYPERLINK("x") {IMG}', size=5, terms=["`code`", IMG, "-minus"], papers=ids[:5]),
        Theme(id=1, label="@label ](javascript:alert(1))", size=5, terms=["+plus", "*star*"], papers=ids[5:]),
    ]
    coordinates = {paper_id: [float(i), float(i % 3)] for i, paper_id in enumerate([*ids, UNASSIGNED.id])}
    theme_map = FittedThemes(
        build_id="b1", model="fake", method="spectral", requested_k=2, k=2, papers=len(ids) + 1, silhouette=0.5,
        themes=themes, unassigned=[UNASSIGNED.id], hierarchy=[Merge(left=0, right=1, distance=0.4, size=2)],
        similarity=[[1.0, 0.2], [0.2, 1.0]], coordinates=coordinates,
    )  # fmt: skip
    return theme_map, {paper.id: paper for paper in [*PAPERS, UNASSIGNED]}


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


def one_line(text: str) -> str:
    return " ".join(text.split())


def markdown_html(text: str) -> str | None:
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # not a declared dependency: the text checks below still run
        return None
    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # a naive renderer: no scheme filter of its own
    return renderer.render(text)


def assert_no_live_markup(parsed: Collector) -> None:
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "img", "iframe", "object", "embed", "svg"), (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "xlink:href"):
                assert "javascript:" not in (value or "").lower(), (tag, name, value)
                assert SAFE_HREF.fullmatch(value or ""), (tag, name, value)


def test_markdown_report_keeps_hostile_text_inert_and_visible(report_input):
    text = render(*report_input, fmt="md", title=f"corpus {IMG}")
    html = markdown_html(text)
    if html is None:
        assert "<img" not in text and "<script" not in text and "](javascript:" not in text
        return
    parsed = parse(html)
    assert_no_live_markup(parsed)
    tags = [tag for tag, _ in parsed.tags]
    assert tags.count("h1") == 1 and tags.count("h2") == 3  # two themes and the grouping; no injected heading
    assert "em" not in tags and "strong" not in tags
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert len(links) == sum(1 for paper in PAPERS if paper.doi or paper.pmid)  # no extra link from a DOI
    shown = "".join(parsed.text)
    for paper in PAPERS:
        assert one_line(paper.id) in shown, paper.id
        assert one_line(paper.title) in shown, paper.title
    assert IMG in shown and SCRIPT in shown and "](javascript:alert(1))" in shown


def test_markdown_links_are_percent_encoded_doi_org(report_input):
    text = render(*report_input, fmt="md")
    targets = re.findall(r"\]\((https://[^)\s]*)\)", text)
    assert targets and all(SAFE_HREF.fullmatch(target) for target in targets), targets
    assert "https://doi.org/javascript%3Aalert%281%29" in targets


def test_csv_cells_never_start_like_a_formula(report_input):
    rows = list(csv.reader(io.StringIO(render(*report_input, fmt="csv"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert cells
    bad = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert bad == []
    ids = {row[0] for row in rows[1:]}
    for paper in [*PAPERS, UNASSIGNED]:  # the value survives, behind the quote
        assert paper.id in ids or "'" + paper.id in ids, paper.id


def test_html_report_links_are_inert(report_input):
    page = render(*report_input, fmt="html", title=f"corpus {IMG}")
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.tags]
    for tag, attrs in parsed.tags:
        if tag in ("svg", "circle"):  # the map itself, made by the report
            continue
        assert tag not in ("script", "img", "iframe"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert "javascript:" not in value.lower() and SAFE_HREF.fullmatch(value), value
    assert tags.count("a") == sum(1 for paper in PAPERS if paper.doi or paper.pmid)
    shown = "".join(parsed.text)
    assert IMG in shown and SCRIPT in shown
