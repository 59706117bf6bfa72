"""PDFs as researchers keep them: journal, two-column, preprint and boxed layouts printed by chromium from made-up
articles (tests/pdf_pages.py; never downloaded); title, abstract, DOI, journal and year read; scans refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import built_service
from pdf_pages import ARTICLES, LAYOUTS, SCANNED_HTML, article_html, pdf_printer

from recommender.cli import main
from recommender.ingest import read_paths
from recommender.ingest.pdf import read_pdf
from recommender.ingest.records import Rejected
from recommender.paper import Paper
from recommender.web import create_app

pytestmark = pytest.mark.browser  # printing the PDFs needs Debian's chromium (make test installs it)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    made = {}
    with pdf_printer() as print_pdf:
        for number, article in enumerate(ARTICLES):
            for layout in LAYOUTS:
                made[f"{number}-{layout}"] = print_pdf(article_html(article, layout), folder / f"{number}-{layout}.pdf")
        made["scanned"] = print_pdf(SCANNED_HTML, folder / "scanned.pdf")
    return made


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("number", range(len(ARTICLES)))
def test_title_and_abstract_are_read_from_every_layout(pdfs, number, layout):
    article = ARTICLES[number]
    [(_, _, paper)] = list(read_paths([pdfs[f"{number}-{layout}"]]))
    assert isinstance(paper, Paper), paper
    assert paper.title.rstrip(".") == article.title
    first_label, first_text = article.abstract[0]
    assert paper.abstract.startswith(f"{first_label}: {first_text[:40]}" if first_label else first_text[:40])
    assert paper.abstract.endswith(article.abstract[-1][1][-40:])
    assert "Introduction" not in paper.abstract and "Keywords" not in paper.abstract
    assert paper.doi == article.doi
    if layout != "preprint":
        assert (paper.journal, paper.year) == (article.journal, article.year)


def test_a_scan_without_a_text_layer_is_refused_with_the_reason(pdfs):
    [(_, _, rejected)] = list(read_paths([pdfs["scanned"]]))
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("no text layer")


def test_damaged_pdfs_are_refused_not_crashed():
    for data in (b"%PDF-1.7\n" + b"\x00garbage" * 100, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF"):
        result = read_pdf(data)
        assert isinstance(result, Rejected) and result.reason


def test_cli_ingest_and_http_upload_of_a_pdf(pdfs, index_dir, tmp_path):
    result = CliRunner().invoke(
        main, ["--index-dir", str(tmp_path / "cli"), "ingest", str(pdfs["0-two-column"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["papers"][0]["id"] == f"doi:{ARTICLES[0].doi}"
    token = "pdf-token"
    client = create_app(service=built_service(index_dir, tmp_path, api_token=token)).test_client()
    upload = {"file": (io.BytesIO(pdfs["1-one-column"].read_bytes()), "paper.pdf")}
    response = client.post(
        "/papers/upload", data=upload, headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_json()
    paper = client.get(f"/papers/{ARTICLES[1].doi}").get_json()
    assert paper["title"] == ARTICLES[1].title and paper["abstract"].startswith("Background: Cancer-associated")
