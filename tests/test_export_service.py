"""Export through the service, the CLI and the HTTP API: the stored records, every field, read back by our
own ingest (the writers themselves are tested format by format in test_export.py)."""

from __future__ import annotations

import json

import rispy
from click.testing import CliRunner
from helpers import CORPUS, jsonl, write
from test_web import assert_error

from recommender.cli import main
from recommender.ingest import read_paths
from recommender.paper import Paper
from recommender.web import create_app


def test_cli_exports_every_stored_paper_and_ingest_reads_them_back(built, tmp_path, index_dir):
    out = tmp_path / "papers.ris"
    result = CliRunner().invoke(main, ["--index-dir", str(index_dir), "export", "--format", "ris", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 9 papers as ris" in result.output
    back = {item.id: item for _, _, item in read_paths([out]) if isinstance(item, Paper)}
    assert len(back) == len(CORPUS)
    for record in CORPUS:
        paper = next(p for p in back.values() if p.title == record["title"])
        assert paper.abstract == record["abstract"] and paper.year == record["year"]
        assert paper.journal == record["journal"]
    assert not list(tmp_path.glob(".*.partial"))


def test_cli_export_of_chosen_ids_and_a_clear_error_for_an_unknown_one(built, tmp_path, index_dir):
    runner = CliRunner()
    result = runner.invoke(
        main, ["--index-dir", str(index_dir), "export", "--format", "csl-json", "--id", "a1", "--id", "c2"]
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [item["title"] for item in items] == [CORPUS[0]["title"], CORPUS[4]["title"]]
    out = tmp_path / "x.bib"
    bad = runner.invoke(
        main, ["--index-dir", str(index_dir), "export", "--format", "bibtex", "--id", "nope", "-o", str(out)]
    )
    assert bad.exit_code != 0 and "nope" in bad.output and not out.exists()
    assert not list(tmp_path.glob(".*.partial"))


def test_http_export_of_ids_and_of_a_theme_tagged_with_its_label(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "c.jsonl", jsonl(CORPUS))])
    service.build()
    client = create_app(service=service).test_client()
    response = client.get("/export?format=ris&ids=a1&ids=a2")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    entries = rispy.loads(response.get_data(as_text=True))
    assert [entry["title"] for entry in entries] == [CORPUS[0]["title"], CORPUS[1]["title"]]
    theme = service.themes().themes[0]
    tagged = client.get(f"/export?format=csv&theme={theme.id}")
    assert tagged.status_code == 200 and theme.label in tagged.get_data(as_text=True)
    assert_error(client.get("/export?format=docx"), 400)
    assert_error(client.get("/export?format=ris&ids=missing"), 404)
    assert_error(client.get("/export?theme=999"), 400)


def test_cli_export_takes_the_format_from_the_output_extension(built, tmp_path, index_dir):
    """Found by a README check: `export -o file.bib` wrote RIS whatever the extension."""
    runner = CliRunner()
    starts = {
        "all.bib": "@article{", "all.bibtex": "@article{", "all.ris": "TY  - ", "all.nbib": "TI  - ",
        "all.txt": "TI  - ", "all.json": "[", "all.csv": "Key,Item Type,",
    }  # fmt: skip
    for name, start in starts.items():
        out = tmp_path / name
        result = runner.invoke(main, ["--index-dir", str(index_dir), "export", "--id", "a1", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8-sig").startswith(start), name
    to_stdout = runner.invoke(main, ["--index-dir", str(index_dir), "export", "--id", "a1"])
    assert to_stdout.stdout.startswith("TY  - ") and "as ris" in to_stdout.stderr


def test_cli_export_refuses_an_extension_of_another_format_or_of_none(built, tmp_path, index_dir):
    runner = CliRunner()
    out = tmp_path / "out"
    for args, message in [
        (["--format", "ris", "-o", str(out / "refs.bib")], "the extension .bib means bibtex, but the format"),
        (["-o", str(out / "refs.xlsx")], "cannot tell the export format from '.xlsx'"),
    ]:
        refused = runner.invoke(main, ["--index-dir", str(index_dir), "export", *args])
        assert refused.exit_code == 1 and message in refused.stderr, refused.output
    assert not out.exists()  # refused before anything is written
    out.mkdir()
    for fmt, name in [("bibtex", "x.bib"), ("csv", "x.txt")]:  # .txt may hold any text: the format given wins
        done = runner.invoke(main, ["--index-dir", str(index_dir), "export", "--format", fmt, "-o", str(out / name)])
        assert done.exit_code == 0, done.output
    assert sorted(path.name for path in out.iterdir()) == ["x.bib", "x.txt"]
