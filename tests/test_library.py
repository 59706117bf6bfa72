"""The Python API (recommender.library): a notebook gets the service's answers, typed, as tables and frames.

Unit tests use the fake embedder; the last test runs the README's notebook example as written, with the real
offline model, on the four seed documents.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import CORPUS, fake_factory, jsonl, write

from recommender import Library, Results, Themes
from recommender.errors import (
    IndexNotBuiltError,
    InvalidInputError,
    NotFoundError,
    NothingIngestedError,
    RecommenderError,
)
from recommender.paper import Paper
from recommender.retrieval import Filters
from recommender.service import Hit, IngestReport

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "faiss", "pandas")


@pytest.fixture()
def lib(built):
    return Library.from_service(built)


def hit(**fields: object) -> Hit:
    values: dict[str, object] = {
        "id": "p1", "title": "A title", "score": 0.5, "dense": 0.4, "lexical": 1.0, "shared_terms": ["IL-6"],
        "journal": None, "year": None, "doi": None, "pmid": None,
    }  # fmt: skip
    return Hit(**{**values, **fields})  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------- importing, opening
def test_importing_the_package_loads_neither_the_model_nor_faiss_nor_pandas():
    code = (
        "import sys, json, recommender\n"
        "from recommender import Library, Results, Themes, Settings, RecommenderError\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(done.stdout) == []


def test_heavy_names_are_still_importable_from_the_package():
    import recommender
    from recommender.service import Recommender

    assert recommender.Recommender is Recommender and recommender.Hit is Hit
    assert {"Library", "Results", "Themes", "Recommender"} <= set(dir(recommender))
    with pytest.raises(AttributeError):
        _ = recommender.NoSuchThing


def test_a_library_finds_its_index_as_the_cli_does(index_dir, monkeypatch):
    with Library(embedder_factory=fake_factory) as default:
        assert default.path == index_dir / "default"  # RECOMMENDER_INDEX_DIR, set by the fixture
    monkeypatch.setenv("RECOMMENDER_INDEX", "reviews")
    with Library(embedder_factory=fake_factory) as named:
        assert named.name == "reviews" and named.path == index_dir / "reviews"
    with Library.open(index_dir.parent / "elsewhere" / "mine", embedder_factory=fake_factory) as opened:
        assert (opened.name, opened.settings.index_dir) == ("mine", index_dir.parent / "elsewhere")
    assert "reviews" in repr(named)
    with pytest.raises(InvalidInputError):
        Library("../escape", embedder_factory=fake_factory)


def test_ingest_build_and_query_a_new_library(index_dir, tmp_path):
    first = write(tmp_path / "a.jsonl", jsonl(CORPUS[:3]))
    rest = write(tmp_path / "b.jsonl", jsonl(CORPUS[3:]))
    with Library(index_dir=index_dir, embedder_factory=fake_factory, show_progress=False) as lib:
        assert len(lib) == 0
        report = lib.ingest(first, [rest])  # a path, or a list of paths
        assert isinstance(report, IngestReport) and (report.added, report.total) == (len(CORPUS), len(CORPUS))
        assert len(lib) == len(CORPUS)
        with pytest.raises(IndexNotBuiltError):
            lib.related("a1")
        manifest = lib.build()
        assert manifest.count == len(CORPUS) and lib.status().papers_indexed == len(CORPUS)
        assert lib.related("a1", k=2).ids == ["a2", "a3"]


def test_the_context_manager_closes_the_service_it_opened(index_dir, monkeypatch):
    closed = []
    with Library(embedder_factory=fake_factory) as lib:
        monkeypatch.setattr(lib.service, "close", lambda timeout=30.0: closed.append(True))
    assert closed == [True]


def test_a_wrapped_service_is_left_to_its_owner(built, monkeypatch):
    closed = []
    monkeypatch.setattr(built, "close", lambda timeout=30.0: closed.append(True))
    with Library.from_service(built) as lib:
        assert lib.service is built
    assert closed == []


# ------------------------------------------------------------------------------------------ answers
def test_answers_are_the_services_hits(lib, built):
    assert list(lib.related("a1", k=3)) == built.related("a1", 3)
    assert list(lib.search("IL-6 STAT3", k=3)) == built.search("IL-6 STAT3", 3)
    assert list(lib.recommend(["c1"], ["h1"], k=3)) == built.recommend(["c1"], ["h1"], 3)
    assert lib.recommend("c1", k=3) == built.recommend(["c1"], [], 3)  # one id alone is a list of one
    assert lib.recommend(["a1", "a2", "a3", "c1"], "h1", k=1).query == "like 4 papers, unlike h1"
    assert lib.paper("a1") == built.show("a1") and isinstance(lib.paper("a1"), Paper)


def test_results_are_a_typed_sequence(lib):
    results = lib.related("a1", k=3)
    assert isinstance(results, Results) and len(results) == 3
    assert all(isinstance(item, Hit) for item in results) and results[0].id == results.ids[0]
    assert isinstance(results[1:], Results) and results[1:].ids == results.ids[1:]
    assert results.to_dicts() == [item.to_dict() for item in results]
    assert results[0] in results and results.index(results[2]) == 2


def test_keyword_filters_become_the_services_filters(lib, built):
    answer = lib.search("cancer", k=5, year_min=2020, journals="J Test", exclude=["a1"])
    expected = built.search("cancer", 5, filters=Filters(year_min=2020, journals=("J Test",), exclude=("a1",)))
    assert list(answer) == expected and all(item.year >= 2020 and item.journal == "J Test" for item in answer)
    themes = lib.themes(3)
    only = lib.related("a1", k=3, themes=themes[1].id)
    assert set(only.ids) <= set(themes[1].papers)
    with pytest.raises(TypeError, match="year_from"):
        lib.search("cancer", year_from=2020)  # type: ignore[call-arg]


def test_service_errors_propagate_unchanged(lib, tmp_path):
    with pytest.raises(NotFoundError):
        lib.related("no-such-paper")
    with pytest.raises(InvalidInputError, match="k must be"):
        lib.search("cancer", k=0)
    with pytest.raises(InvalidInputError, match="year_min"):
        lib.related("a1", year_min=20)
    with pytest.raises(NothingIngestedError) as caught:
        lib.ingest(write(tmp_path / "empty.txt", ""))
    assert isinstance(caught.value, RecommenderError) and caught.value.details["rejected"][0]["reason"] == "empty file"


def test_results_print_as_a_table(lib):
    text = repr(lib.related("a1", k=2))
    caption, header, *rows = text.splitlines()
    assert caption == "Results: 2 hits for related to 'a1'"
    assert header.split() == ["#", "score", "id", "year", "title"] and len(rows) == 2
    assert rows[0].split()[0] == "1" and "a2" in rows[0]
    assert repr(Results([])) == "Results: 0 hits"


def test_the_html_table_escapes_corpus_text():
    hostile = hit(title="<script>alert(1)</script>\nsecond line", id='x"><img src=x>', match="strong")
    page = Results([hostile], "search '<b>'")._repr_html_()
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; second line" in page and "<th>match</th>" in page


def test_long_values_are_cut_in_the_table_not_in_the_data():
    results = Results([hit(title="word " * 40)])
    assert "…" in repr(results) and results[0].title == "word " * 40


# ------------------------------------------------------------------------------------------- pandas
def test_results_frame_has_one_row_per_hit_and_a_column_per_hit_field(lib):
    results = lib.related("a1", k=3)
    frame = results.to_pandas()
    assert list(frame.columns) == [item.name for item in dataclasses.fields(Hit)]
    assert frame.index.name == "rank" and list(frame.index) == [1, 2, 3]
    assert list(frame["id"]) == results.ids and list(frame["score"]) == [item.score for item in results]
    assert str(frame["year"].dtype) == "Int64" and frame["year"].iloc[0] == results[0].year
    assert frame["shared_terms"].iloc[0] == results[0].shared_terms  # lists stay lists


def test_missing_values_stay_missing_in_the_frame():
    frame = Results([hit(year=None, strength=None), hit(id="p2", year=2017, strength=0.9)]).to_pandas()
    assert str(frame["year"].dtype) == "Int64" and frame["year"].isna().tolist() == [True, False]
    assert frame["year"].iloc[1] == 2017 and frame["strength"].isna().tolist() == [True, False]


def test_an_empty_answer_is_an_empty_frame_with_the_same_columns():
    frame = Results([]).to_pandas()
    assert len(frame) == 0 and list(frame.columns) == [item.name for item in dataclasses.fields(Hit)]


def test_themes_frames(lib):
    themes = lib.themes(3)
    assert isinstance(themes, Themes) and len(themes) == themes.k == 3
    frame = themes.to_pandas()
    assert frame.index.name == "id" and list(frame.index) == [theme.id for theme in themes]
    assert list(frame.columns[:6]) == ["label", "size", "terms", "seed", "trend", "papers"]
    assert "label_rule" in frame.columns and "titles" not in frame.columns and "timeline" not in frame.columns
    assert frame.loc[0, "label"] == themes[0].label and frame.loc[0, "terms"] == themes[0].terms
    assert themes.labels == dict(zip(frame.index, frame["label"], strict=True))
    papers = themes.papers_frame()
    assert list(papers.columns) == ["theme", "label", "rank", "id", "title", "confidence", "placed"]
    assert len(papers) == sum(theme.size for theme in themes) == 9
    first = papers[papers["theme"] == 0]
    assert list(first["id"]) == themes[0].papers and list(first["rank"]) == list(range(1, len(first) + 1))
    assert themes.theme_of()["a1"] == papers.set_index("id").loc["a1", "theme"]
    assert themes.to_dict()["k"] == 3


def test_themes_print_as_a_table(lib):
    caption, header, *rows = repr(lib.themes(3)).splitlines()
    assert caption.startswith("Themes: 3 over 9 papers (spectral")
    assert header.split() == ["id", "size", "label", "terms"] and len(rows) == 3
    assert "<table>" in lib.themes(3)._repr_html_()


def test_without_pandas_the_frames_say_how_to_install_it(lib, monkeypatch):
    results, themes = lib.related("a1", k=2), lib.themes(3)
    monkeypatch.setitem(sys.modules, "pandas", None)  # "import pandas" now raises ImportError
    for make in (results.to_pandas, themes.to_pandas, themes.papers_frame):
        with pytest.raises(ImportError, match=re.escape("pip install 'recommender[pandas]'")):
            make()
    assert results.to_dicts()  # the rest works without pandas


# ------------------------------------------------------------------------------------------- export
def test_export_takes_the_format_from_the_extension(lib, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert lib.export(tmp_path / "all.bib") == 9
    assert (tmp_path / "all.bib").read_text(encoding="utf-8").count("@article{") == 9
    assert lib.export(str(tmp_path / "two.nbib"), ids=["a1", "c1"]) == 2
    medline = (tmp_path / "two.nbib").read_text(encoding="utf-8")
    assert medline.startswith("TI  - Anoikis resistance of detached lung cancer cells\n")
    assert lib.export(tmp_path / "list.txt", "csv", ids="a1") == 1  # fmt given: the extension is not read
    assert (tmp_path / "list.txt").read_text(encoding="utf-8-sig").startswith("Key,Item Type,")
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []  # no partial file left


def test_export_to_a_stream_and_by_theme(lib):
    out = io.StringIO()
    assert lib.export(out, ids=["a1"]) == 1 and out.getvalue().startswith("TY  - ")  # RIS, the CLI's default
    theme = lib.themes(3)[0]
    tagged = io.StringIO()
    assert lib.export(tagged, "csl-json", theme=theme.id) == theme.size
    assert {item["id"] for item in json.loads(tagged.getvalue())} == set(theme.papers)


def test_export_refuses_to_guess_and_leaves_no_file(lib, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(InvalidInputError, match="cannot tell the export format"):
        lib.export(tmp_path / "papers.docx")
    with pytest.raises(InvalidInputError, match="unknown export format"):
        lib.export(tmp_path / "papers.ris", "word")
    with pytest.raises(NotFoundError):
        lib.export(tmp_path / "papers.ris", ids=["no-such-paper"])
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the README's example
README = REPO / "README.md"
MARKER = "<!-- tested: tests/test_library.py -->"


def readme_example() -> str:
    """The ```python block right after the marker in the README's "Python API (notebooks)" section."""
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    assert found, f"README.md has no ```python block after {MARKER}"
    return found.group(1)


@pytest.mark.e2e
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, capsys, seeds_dir, expected_seeds):
    """Run as written from a working folder beside ``shared``, its temporary index made inside tmp_path."""
    for name in ("RECOMMENDER_INDEX", "RECOMMENDER_INDEX_DIR", "RECOMMENDER_MODEL", "RECOMMENDER_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "shared").symlink_to(seeds_dir.parent, target_is_directory=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # mkdtemp() lands in tmp_path
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(readme_example(), str(README), "exec"), namespace)

    report, related, hits, themes, frame = (namespace[n] for n in ("report", "related", "hits", "themes", "frame"))
    assert (report.added, report.rejected_count) == (4, 0)
    ids = {Path(paper["source"]).name: paper["id"] for paper in report.papers}
    group = {ids[name]: expected["theme"] for name, expected in expected_seeds.items()}
    anoikis = {paper_id for paper_id, theme in group.items() if theme == "anoikis resistance"}
    assert "doi:10.1002/smll.202500136" in anoikis
    assert related[0].id in anoikis - {"doi:10.1002/smll.202500136"}  # the other anoikis seed comes first
    assert "doi:10.1002/smll.202500136" not in related.ids and len(related) == 3
    assert set(hits.ids) == anoikis
    assert {frozenset(theme.papers) for theme in themes} == {
        frozenset(p for p in group if group[p] == theme) for theme in set(group.values())
    }
    assert list(frame.columns) == [item.name for item in dataclasses.fields(Hit)] and len(frame) == 3
    assert list(frame["id"]) == related.ids
    exported = Path(str(namespace["folder"])) / "anoikis.bib"
    assert exported.read_text(encoding="utf-8").count("@article{") == 2
    assert Path(str(namespace["folder"])).parent == tmp_path
    printed = capsys.readouterr().out
    assert "4 papers added, 0 rejected" in printed and "Results: 3 hits for related to" in printed
    assert "Themes: 2 over 4 papers" in printed


def test_collections_from_a_notebook(lib, tmp_path):
    lib.collections.add("anoikis", ["a1", "a2"])
    assert [paper.id for paper in lib.collections.get("anoikis").papers] == ["a1", "a2"]
    results = lib.recommend_collection("anoikis", k=3)
    assert results.ids[0] == "a3" and not {"a1", "a2"} & set(results.ids)
    target = tmp_path / "anoikis.ris"
    assert lib.export(target, collection="anoikis") == 2
    assert target.read_text(encoding="utf-8").count("TY  - ") == 2
