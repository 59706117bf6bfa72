"""Theme maps kept with the index, incremental assignment, and the shareable reports (fake embedder)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from helpers import CORPUS, TOPIC, jsonl, write

from recommender.errors import InvalidInputError
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
    assert [t["papers"] for t in refit.themes] == [t["papers"] for t in first.themes]  # same input, same seed


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
    home = next(theme for theme in after.themes if "n1" in theme["papers"])
    assert {TOPIC.get(p) for p in home["papers"] if p != "n1"} == {"a"}
    assert [t["label"] for t in after.themes] == [t["label"] for t in before.themes]
    assert built.themes(3, refit=True).incremental == []


def test_a_refit_after_additions_keeps_theme_ids_and_reports_the_matching(built, tmp_path):
    before = built.themes(3)
    add_and_build(built, tmp_path, {
        "id": "n2", "title": "IL-6 from fibroblasts", "abstract": "Cancer-associated fibroblasts secrete IL-6; STAT3 signalling."
    })  # fmt: skip
    refit = built.themes(3, refit=True)
    changes = refit.changes
    assert changes["compared_with"] == before.build_id and changes["ari"] >= 0.8
    assert changes["papers_compared"] == before.papers and changes["ended"] == []
    old_home = {p: t["id"] for t in before.themes for p in t["papers"]}
    new_home = refit.theme_of()
    assert sum(old_home[p] == new_home[p] for p in old_home) >= 0.8 * len(old_home)  # same ids for the same papers
    assert {t["id"]: t["previous_id"] for t in changes["themes"]} == {t["id"]: t["id"] for t in refit.themes}


def test_sub_themes_of_one_theme(built):
    parent = built.themes(2)
    biggest = parent.themes[0]
    sub = built.themes(2, within=biggest["id"])
    assert sorted(p for t in sub.themes for p in t["papers"]) == sorted(biggest["papers"])
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
