"""Theme reports a researcher can read and share: one self-contained HTML file, Markdown, JSON or CSV.

The HTML page needs nothing from the network: the map is inline SVG (one dot per paper, coloured by theme,
the title as a tooltip; the legend names each theme by its label), styles are inline, links to papers (doi.org,
PubMed) are plain links. Every piece of corpus text goes through Jinja2's autoescaping, so an abstract
containing ``<script>`` shows as text. A theme has the colour the web page's map gives it (:func:`theme_colour`),
so a report read beside the page matches it.

Corpus text is hostile input in every format. Link targets are only ever ``https://doi.org/`` or PubMed with
the DOI/PMID percent-encoded (:func:`paper_url`), so no DOI can close a Markdown link or smuggle a scheme. In
Markdown, text has every Markdown punctuation character backslash-escaped and ``&``/``<``/``>`` written as
entities (:func:`markdown_text`), and ids go in code spans fenced by more backticks than any run inside them
(:func:`markdown_code`). In CSV, a cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return: OWASP's CSV injection list) is prefixed with ``'`` (:func:`csv_cell`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from ..export import csv_cell
from ..paper import Paper
from . import REPORT_FORMATS
from .fitted import FittedThemes
from .theme import Theme

FORMATS = REPORT_FORMATS
#: Theme colours by theme id, exactly as the web page's map picks them (``PALETTE``, ``NO_THEME`` and
#: ``themeColour`` in ``recommender/web/static/map.js``; a test reads both files and checks they agree): the
#: colour-blind-aware Tableau 10 first, then hues spread by the golden angle for maps with more themes.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#8c8c3a",
)  # fmt: skip
NOISE_COLOUR = "#a0a4a8"
GOLDEN_ANGLE = 137.508
#: Longest theme label the map's legend shows (characters); the full label is the item's tooltip.
LEGEND_LABEL = 40
MAP_SIZE = 640
MAX_LISTED = 10
CHART_WIDTH = 240
CHART_HEIGHT = 40
#: The charts show at most this many years (the most recent), whatever the corpus's span.
MAX_CHART_YEARS = 80

_ENVIRONMENT = Environment(
    loader=PackageLoader("recommender", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


#: Hosts a report may link to; anything else is dropped rather than linked.
LINK_HOSTS = ("doi.org", "pubmed.ncbi.nlm.nih.gov")
#: Punctuation with a meaning inside a Markdown line (CommonMark, GFM tables and strikethrough, common
#: extensions' math and attributes); each is written backslash-escaped. Text never starts a line, so list and
#: heading markers need no escape.
_MARKDOWN_PUNCTUATION = frozenset("\\`*_{}[]()#!|~$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_BACKTICK_RUNS = re.compile(r"`+")


def paper_url(paper: Paper | None) -> str | None:
    """The paper's doi.org (or else PubMed) link, identifier percent-encoded; ``None`` when it has neither."""
    if paper is None:
        return None
    if paper.doi:
        return safe_url("https://doi.org/" + quote(str(paper.doi), safe="/"))
    if paper.pmid:
        return safe_url(f"https://pubmed.ncbi.nlm.nih.gov/{quote(str(paper.pmid), safe='')}/")
    return None


def safe_url(url: str) -> str | None:
    """``url`` if it is an https link to one of :data:`LINK_HOSTS` made only of URL-safe characters, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.hostname not in LINK_HOSTS or parts.username or parts.port:
        return None
    if not re.fullmatch(r"[A-Za-z0-9%._~/:-]+", url):
        return None
    return url


def _one_line(text: object) -> str:
    return _CONTROL_OR_SPACE.sub(" ", str(text)).strip()


def markdown_text(text: object) -> str:
    """``text`` on one line, inert in Markdown: punctuation backslash-escaped, ``& < >`` as entities."""
    return "".join(
        _ENTITIES.get(char) or (f"\\{char}" if char in _MARKDOWN_PUNCTUATION else char) for char in _one_line(text)
    )


def markdown_code(text: object) -> str:
    """``text`` as a Markdown code span, fenced by one backtick more than its longest run of backticks."""
    text = _one_line(text)
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")):
        text = f" {text} "  # CommonMark strips one space from each side of such a span
    return f"{fence}{text}{fence}"


def render(theme_map: FittedThemes, papers: dict[str, Paper], fmt: str = "html", *, title: str = "the index") -> str:
    """The report in one of :data:`FORMATS`; ``papers`` gives titles, journals and links by id."""
    if fmt == "json":
        return json.dumps(theme_map.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        return _csv(theme_map, papers)
    if fmt == "md":
        return _markdown(theme_map, papers, title)
    if fmt == "html":
        return _html(theme_map, papers, title)
    raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def theme_colour(theme_id: int) -> str:
    """The colour of a theme id (-1: no theme), as the web page's ``themeColour`` gives it, character for
    character: beyond the palette the hue is ``(id × 137.508) mod 360`` written as JavaScript's ``toFixed(1)``
    writes it (the exact binary value rounded, halves up)."""
    if theme_id < 0:
        return NOISE_COLOUR
    if theme_id < len(PALETTE):
        return PALETTE[theme_id]
    hue = Decimal(math.fmod(theme_id * GOLDEN_ANGLE, 360.0)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"hsl({hue} 55% 45%)"


def short_label(label: str, limit: int = LEGEND_LABEL) -> str:
    """``label`` on one line, cut to at most ``limit`` characters at a word boundary when there is one near,
    with an ellipsis: for the legend, where the full label is the tooltip."""
    text = _one_line(label)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _listed(theme: Theme, papers: dict[str, Paper]) -> list[dict[str, Any]]:
    listed = []
    for paper_id in theme.papers[:MAX_LISTED]:
        paper = papers.get(paper_id)
        where = ", ".join(str(part) for part in (paper.journal, paper.year) if part) if paper else ""
        title = paper.display_title if paper else paper_id
        listed.append({"id": paper_id, "title": title, "url": paper_url(paper), "where": where})
    return listed


def _merge_names(theme_map: FittedThemes) -> list[str]:
    """The hierarchy as sentences: "[2] joins [5] (distance 0.31)", groups named by their members."""
    names = {theme.id: f"[{theme.id}]" for theme in theme_map.themes}
    lines = []
    for step, merge in enumerate(theme_map.hierarchy):
        left, right = names.get(merge.left, "?"), names.get(merge.right, "?")
        lines.append(f"{left} joins {right} (cosine distance {merge.distance:.2f})")
        names[len(theme_map.themes) + step] = f"{left}+{right}"
    return lines


def _html(theme_map: FittedThemes, papers: dict[str, Paper], title: str) -> str:
    theme_of = theme_map.theme_of()
    points = theme_map.coordinates
    xs = [xy[0] for xy in points.values()] or [0.0]
    ys = [xy[1] for xy in points.values()] or [0.0]
    low_x, low_y = min(xs), min(ys)
    span_x, span_y = (max(xs) - low_x) or 1.0, (max(ys) - low_y) or 1.0
    margin = 12
    with_titles = len(points) <= 5000
    dots = []
    for paper_id, (x, y) in points.items():
        paper = papers.get(paper_id)
        dots.append({
            "x": round(margin + (x - low_x) / span_x * (MAP_SIZE - 2 * margin), 1),
            "y": round(margin + (1 - (y - low_y) / span_y) * (MAP_SIZE - 2 * margin), 1),  # y up, as on the page
            "colour": theme_colour(theme_of.get(paper_id, -1)),
            "title": (paper.display_title if paper else paper_id) if with_titles else "",
        })  # fmt: skip
    years = corpus_years(theme_map)
    themes = [
        {"id": theme.id, "label": theme.label, "short_label": short_label(theme.label), "size": theme.size,
         "terms": theme.terms, "seed": theme.seed, "colour": theme_colour(theme.id),
         "papers": _listed(theme, papers), "more": max(0, theme.size - MAX_LISTED), "chart": year_bars(theme, years)}
        for theme in theme_map.themes
    ]  # fmt: skip
    unthemed = sum(1 for paper_id in points if paper_id not in theme_of)
    radius = 4 if len(dots) < 500 else 2 if len(dots) < 5000 else 1.2
    return _ENVIRONMENT.get_template("themes.html").render(
        map=theme_map, title=title, themes=themes, dots=dots, size=MAP_SIZE, radius=radius,
        merges=_merge_names(theme_map), chart_width=CHART_WIDTH, chart_height=CHART_HEIGHT,
        unthemed=unthemed, noise_colour=NOISE_COLOUR,
    )  # fmt: skip


def corpus_years(theme_map: FittedThemes) -> list[int]:
    """Every year from the earliest to the latest any theme has a paper in (the shared axis of the charts)."""
    found = [int(year) for theme in theme_map.themes if theme.timeline for year in theme.timeline.counts]
    if not found:
        return []
    return list(range(max(min(found), max(found) - MAX_CHART_YEARS + 1), max(found) + 1))


def year_bars(theme: Theme, years: list[int]) -> dict[str, Any] | None:
    """Bars of a theme's papers per year for the inline SVG chart (None without dated papers)."""
    timeline = theme.timeline
    counts = {int(year): count for year, count in timeline.counts.items()} if timeline else {}
    if timeline is None or not counts or not years:
        return None
    share = timeline.share
    width = CHART_WIDTH / len(years)
    top = max(counts.values())
    bars = []
    for i, year in enumerate(years):
        count = counts.get(year, 0)
        height = round(CHART_HEIGHT * count / top, 1) if count else 0.0
        percent = 100 * share.get(str(year), 0.0)
        bars.append({
            "x": round(i * width, 1), "y": round(CHART_HEIGHT - height, 1), "width": round(max(width - 1, 0.5), 1),
            "height": height, "title": f"{year}: {count} papers ({percent:.0f}% of that year's papers)",
        })  # fmt: skip
    return {"bars": bars, "first": years[0], "last": years[-1], "trend": timeline.trend}


def trend_text(theme: Theme) -> str:
    """ "growing", "shrinking", "steady" or "" (too few dated years), for text formats."""
    return (theme.timeline.trend if theme.timeline else None) or ""


def years_text(theme: Theme) -> str:
    """Papers per year as "2019: 3, 2020: 5" (text formats)."""
    counts = theme.timeline.counts if theme.timeline else {}
    return ", ".join(f"{year}: {count}" for year, count in counts.items())


def _markdown(theme_map: FittedThemes, papers: dict[str, Paper], title: str) -> str:
    clean = markdown_text
    lines = [
        f"# Themes of {clean(title)}",
        "",
        f"{theme_map.papers} papers, {theme_map.k} themes ({clean(theme_map.method)}).",
        "",
    ]
    for theme in theme_map.themes:
        lines += [f"## [{clean(theme.id)}] {clean(theme.label)} ({theme.size} papers)", "",
                  f"Distinctive terms: {clean(', '.join(theme.terms))}", ""]  # fmt: skip
        if theme.seed:
            lines += ["Named theme (given by you).", ""]
        if years_text(theme):
            trend = f" ({clean(trend_text(theme))})" if trend_text(theme) else ""
            lines += [f"Papers per year{trend}: {clean(years_text(theme))}", ""]
        for paper in _listed(theme, papers):
            link = f"[{clean(paper['title'])}]({paper['url']})" if paper["url"] else clean(paper["title"])
            lines.append(f"1. {link} {markdown_code(paper['id'])}")
        lines.append("")
    if theme_map.hierarchy:
        lines += ["## How the themes group", ""] + [f"1. {clean(line)}" for line in _merge_names(theme_map)] + [""]
    return "\n".join(lines)


def _csv(theme_map: FittedThemes, papers: dict[str, Paper]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def row(cells: list[Any]) -> None:
        writer.writerow([csv_cell(cell) for cell in cells])

    row([
        "paper_id", "theme_id", "theme_label", "rank_in_theme", "confidence", "title", "doi", "pmid", "year",
        "theme_trend",
    ])  # fmt: skip
    for theme in theme_map.themes:
        confidence = theme.confidence
        for rank, paper_id in enumerate(theme.papers, start=1):
            paper = papers.get(paper_id)
            score = confidence[rank - 1] if rank <= len(confidence) else None
            row([
                paper_id, theme.id, theme.label, rank, "" if score is None else score,
                paper.display_title if paper else "", paper.doi if paper else "", paper.pmid if paper else "",
                paper.year if paper else "", trend_text(theme),
            ])  # fmt: skip
    for paper_id in theme_map.unassigned:
        paper = papers.get(paper_id)
        reason = theme_map.unassigned_reasons.get(paper_id, "")
        row([paper_id, "", f"(no theme: {reason})" if reason else "(no theme)", "", "",
             paper.display_title if paper else "", "", "", "", ""])  # fmt: skip
    return buffer.getvalue()
