"""The command line through click's runner, with the fake embedder injected via ``obj``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import CORPUS, fake_factory, jsonl, write

from recommender.cli import main


@pytest.fixture()
def run(index_dir):
    runner = CliRunner()

    def invoke(*args: str, factory=fake_factory):
        return runner.invoke(main, list(args), obj={"embedder_factory": factory}, catch_exceptions=False)

    return invoke


@pytest.fixture()
def corpus(tmp_path):
    return str(write(tmp_path / "corpus.jsonl", jsonl(CORPUS)))


def test_ingest_build_related_search_show_themes(run, corpus):
    ingest = run("ingest", corpus, "--json")
    assert ingest.exit_code == 0, ingest.output
    report = json.loads(ingest.stdout)
    assert [p["id"] for p in report["papers"]] == [r["id"] for r in CORPUS]
    assert all(p["source"] == corpus for p in report["papers"]) and report["rejected"] == []

    assert run("build").exit_code == 0

    related = json.loads(run("related", "a1", "-k", "2", "--json").stdout)
    assert [set(hit) >= {"id", "title", "score"} for hit in related] == [True, True]
    assert "a1" not in [hit["id"] for hit in related]

    search = json.loads(run("search", "hypoxia glycolysis", "-k", "1", "--json").stdout)
    assert search[0]["id"].startswith("h")

    shown = json.loads(run("show", "c1", "--json").stdout)
    assert shown["title"] == CORPUS[3]["title"]

    themes = json.loads(run("themes", "--k", "3", "--json").stdout)
    assert len(themes["themes"]) == 3 and all({"label", "terms", "papers"} <= set(t) for t in themes["themes"])

    text = run("related", "a1", "-k", "2")
    assert text.exit_code == 0 and "shared:" in text.output


def test_named_indexes_are_separate(run, corpus, index_dir):
    assert run("ingest", corpus, "--index", "lab").exit_code == 0
    assert (index_dir / "lab" / "papers.sqlite").exists()
    result = run("search", "anoikis")
    assert result.exit_code == 1 and "is empty" in result.stderr


def test_partly_bad_input_succeeds_and_reports(run, corpus, tmp_path):
    bad = write(tmp_path / "bad.jsonl", '{"title": "t"}\n{oops\n')
    result = run("ingest", corpus, str(bad), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["read"] == len(CORPUS)
    assert [(r["source"], r["position"]) for r in report["rejected"]] == [(str(bad), "line 1"), (str(bad), "line 2")]


def test_nothing_usable_exits_non_zero_with_the_summary(run, tmp_path):
    empty = write(tmp_path / "empty.jsonl", "")
    result = run("ingest", str(empty), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["rejected"] == [{"source": str(empty), "position": None, "reason": "empty file"}]
    assert "no usable paper" in result.stderr


def test_errors_are_one_line_messages(run, corpus):
    run("ingest", corpus)
    run("build")
    missing = run("related", "nope")
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no paper 'nope'")
    assert "Traceback" not in missing.output
    assert run("related", "a1", "-k", "0").exit_code == 2  # usage error from click
    bad_index = run("status", "--index", "../escape")
    assert bad_index.exit_code == 1 and "invalid index name" in bad_index.stderr


def test_status(run, corpus):
    run("ingest", corpus)
    before = json.loads(run("status", "--json").stdout)
    assert before["papers_stored"] == len(CORPUS) and before["version"] is None
    run("build")
    after = json.loads(run("status", "--json").stdout)
    assert after["papers_indexed"] == len(CORPUS) and after["model"] == "bundled:all-MiniLM-L6-v2"


def test_demo_builds_the_synthetic_corpus_and_prints_related_and_themes(run, index_dir):
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "Papers related to demo-001" in result.output
    assert "themes over 24 papers" in result.output
    assert (index_dir / "demo" / "CURRENT").exists()


def test_a_folder_with_one_file_of_each_format_ingests_in_one_command(run, tmp_path, seeds_dir):
    from test_ingest_bibliographic import BIBTEX, MEDLINE, PUBMED_XML, RIS

    folder = tmp_path / "mixed"
    write(folder / "efetch.xml", PUBMED_XML)
    write(folder / "export.nbib", MEDLINE)
    write(folder / "refs.ris", RIS)
    write(folder / "library.bib", BIBTEX)
    write(folder / "sheet.csv", "Title,Abstract\nA CSV paper on hypoxia,Hypoxia and HIF-1alpha in tumours.\n")
    write(folder / "lines.jsonl", jsonl(CORPUS[:2]))
    write(folder / "page.txt", (seeds_dir / "003_9350a2168f5ade3d.txt").read_text(encoding="utf-8"))
    result = run("ingest", str(folder), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    sources = {Path(paper["source"]).name for paper in report["papers"]}
    assert sources == {"efetch.xml", "export.nbib", "refs.ris", "library.bib", "sheet.csv", "lines.jsonl", "page.txt"}
    assert report["read"] == len(report["papers"]) and report["rejected"]  # the broken records are reported
    assert run("build").exit_code == 0
    for paper in report["papers"]:
        related = run("related", paper["id"], "-k", "2", "--json")
        assert related.exit_code == 0, related.output
        assert len(json.loads(related.stdout)) == 2


def test_column_option(run, tmp_path):
    sheet = write(tmp_path / "sheet.csv", "Heading,Summary\nMy title,An abstract about anoikis.\n")
    result = run("ingest", str(sheet), "--column", "title=Heading", "--column", "abstract=Summary", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["read"] == 1
    bad = run("ingest", str(sheet), "--column", "colour=Heading")
    assert bad.exit_code == 2 and "FIELD=COLUMN" in bad.output


def test_recommend_and_filters_on_the_command_line(run, corpus):
    run("ingest", corpus)
    run("build")
    hits = json.loads(run("recommend", "-p", "a1", "-p", "a2", "-n", "c1", "-k", "2", "--json").stdout)
    assert hits[0]["id"] == "a3"
    filtered = json.loads(run("related", "a1", "--journal", "oncology test", "--year-min", "2020", "--json").stdout)
    assert {hit["id"] for hit in filtered} == {"a3", "c2", "h3"}
    missing = run("recommend", "-p", "nope")
    assert missing.exit_code == 1 and "no paper 'nope'" in missing.stderr
    assert run("recommend", "-k", "2").exit_code == 2  # --positive is required


def test_fusion_can_be_configured(run, corpus, monkeypatch):
    run("ingest", corpus)
    run("build")
    default = json.loads(run("related", "a1", "-k", "3", "--json").stdout)
    lexical_only = json.loads(run("--paper-weight", "1", "related", "a1", "-k", "3", "--json").stdout)
    assert [h["score"] for h in default] != [h["score"] for h in lexical_only]
    monkeypatch.setenv("RECOMMENDER_FUSION", "rrf")
    rrf = json.loads(run("related", "a1", "-k", "3", "--json").stdout)
    assert all(hit["score"] < 0.05 for hit in rrf)  # reciprocal-rank scores are tiny
    monkeypatch.setenv("RECOMMENDER_FUSION", "magic")
    assert run("related", "a1").exit_code == 1


def test_themes_report_file(run, corpus, tmp_path):
    run("ingest", corpus)
    run("build")
    target = tmp_path / "themes.html"
    result = run("themes", "--k", "3", "--report", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert run("themes", "--k", "3", "--report", str(tmp_path / "t.md")).exit_code == 0
    assert (tmp_path / "t.md").read_text().startswith("# Themes")
    assert (
        json.loads(run("themes", "--k", "2", "--method", "agglomerative", "--json").stdout)["method"] == "agglomerative"
    )
    unknown = run("themes", "--report", str(tmp_path / "themes.xlsx"))  # was silently written as HTML
    assert unknown.exit_code == 2 and "unknown extension" in unknown.stderr
    assert not (tmp_path / "themes.xlsx").exists()
    assert run("themes", "--report", str(tmp_path / "themes.xlsx"), "--format", "csv").exit_code == 0
    assert run("themes", "--report", str(tmp_path / "t.htm")).exit_code == 0
    density = run("themes", "--method", "hdbscan", "--k", "3")
    assert density.exit_code == 0 and "--k is ignored" in density.stderr


def test_ingest_prints_a_summary_and_each_paper_only_when_asked(run, corpus):
    quiet = run("ingest", corpus)
    assert quiet.exit_code == 0 and f"Read {len(CORPUS)} papers" in quiet.stdout
    assert "<-" not in quiet.stdout and "-v ingest" in quiet.stdout
    verbose = run("-v", "ingest", corpus)
    assert verbose.stdout.count("<-") == len(CORPUS)


def test_the_api_input_limits_hold_on_the_command_line(run, corpus):
    run("ingest", corpus)
    run("build")
    long_text = run("search", "anoikis " * 3000)
    assert long_text.exit_code == 1 and "longer than 20000 characters" in long_text.stderr
    assert run("search", "anoikis", "-k", "1001").exit_code == 2
    control = run("related", "a1\x07")
    assert control.exit_code == 1 and "control characters" in control.stderr
    too_long = run("show", "x" * 1001)
    assert too_long.exit_code == 1 and "at most 1000 characters" in too_long.stderr
    assert run("rollback", "--to", "../../etc").exit_code == 1


def write_fake_shards(folder: Path, *, truncated: list[bool], **manifest: object) -> None:
    """Shards as `embed-ray` would write them for the corpus with the fake model (no Ray needed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from helpers import FakeEmbedder

    from recommender.distributed import document_text
    from recommender.embedding_cache import SHARD_FORMAT, SHARD_MANIFEST, fingerprint, text_key
    from recommender.model_profiles import model_config

    config = model_config(None)
    texts = [text for record in CORPUS if (text := document_text(config, json.dumps(record)))]
    vectors = FakeEmbedder(config).encode_documents(texts)
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "key": [text_key(text) for text in texts],
            "vector": pa.array(vectors.tolist(), pa.list_(pa.float32())),
            "truncated": (truncated * len(texts))[: len(texts)],
        }
    )
    pq.write_table(table, folder / "part-0.parquet")
    body = {"format": SHARD_FORMAT, "fingerprint": fingerprint(config), "count": len(texts), **manifest}
    (folder / SHARD_MANIFEST).write_text(json.dumps(body))


def test_a_build_from_shards_names_the_window_the_shards_record(run, corpus, tmp_path):
    """Found by a README check: a build importing Ray shards into a fresh cache printed "None-token window"."""
    write_fake_shards(tmp_path / "shards", truncated=[True, False], max_seq_length=256)
    assert run("ingest", corpus).exit_code == 0
    built = run("build", "--embeddings", str(tmp_path / "shards"))
    assert built.exit_code == 0, built.output
    assert "papers are longer than the model's 256-token window" in built.stderr
    manifest = json.loads(run("build", "--json").stdout)
    assert (manifest["embedded"], manifest["max_seq_length"]) == (0, 256)


def test_a_build_from_shards_of_unknown_window_never_says_none_token(run, corpus, tmp_path):
    write_fake_shards(tmp_path / "shards", truncated=[True, False])  # an older manifest: no window
    assert run("ingest", corpus).exit_code == 0
    built = run("build", "--embeddings", str(tmp_path / "shards"))
    assert built.exit_code == 0, built.output
    assert "papers are longer than the model's token window" in built.stderr and "None" not in built.output


def test_listing_a_kept_theme_map_imports_no_scikit_learn(run, corpus, index_dir, tmp_path):
    """The README's promise: `themes` answered from the kept map (also one brought up to a newer build)
    imports neither scikit-learn (~2 s) nor the model. A fresh process, so the module cache is clean."""
    import subprocess
    import sys

    assert run("ingest", corpus).exit_code == 0 and run("build").exit_code == 0
    fitted = run("themes", "--local", "--json")
    assert fitted.exit_code == 0, fitted.output
    more = {"id": "n1", "title": "Hypoxia and lactate", "abstract": "Hypoxic tumour cells export lactate."}
    assert run("ingest", str(write(tmp_path / "more.jsonl", jsonl([more])))).exit_code == 0
    assert run("build").exit_code == 0  # the kept map is now one build behind: listing extends it
    code = (
        "import json, sys\n"
        "from recommender.cli import main\n"
        "try:\n"
        f"    main(['--index-dir', {str(index_dir)!r}, 'themes', '--local', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = sorted({name.split('.')[0] for name in sys.modules} & {'sklearn', 'torch', 'jinja2'})\n"
        "    print(json.dumps(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [theme["label"] for theme in listed["themes"]] == [t["label"] for t in json.loads(fitted.stdout)["themes"]]
    assert "n1" in [paper for theme in listed["themes"] for paper in theme["papers"]]  # placed, not refitted
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_the_paper_weight_help_states_the_bounds_the_code_uses():
    """Found by a README check: --help said "0.2 to 0.6" while paper queries range from 0.1 to 0.6."""
    from recommender.retrieval import PAPER_WEIGHT_CLINICAL, PAPER_WEIGHT_MOLECULAR

    shown = " ".join(CliRunner().invoke(main, ["--help"]).stdout.split())
    assert f"(default: {PAPER_WEIGHT_CLINICAL:g} to {PAPER_WEIGHT_MOLECULAR:g} by how molecular" in shown
    assert (PAPER_WEIGHT_CLINICAL, PAPER_WEIGHT_MOLECULAR) == (0.1, 0.6)


def test_a_build_in_a_fresh_process_prints_no_bm25s_debug_line(corpus, index_dir):
    """The CLI as a user runs it (bm25s imported for the first time during the build), without -v."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from helpers import fake_factory\n"
        "from recommender.cli import main\n"
        f"for args in (['ingest', {corpus!r}], ['build']):\n"
        f"    main(['--index-dir', {str(index_dir)!r}, *args], obj={{'embedder_factory': fake_factory}},"
        " standalone_mode=False)\n"
    )
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "bm25s" not in done.stderr and "DEBUG" not in done.stderr
