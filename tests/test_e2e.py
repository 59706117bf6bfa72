"""End to end on the four real seeds with the real offline model: CLI, Flask app and the WSGI server.

This is the product's smallest true test: two anoikis-resistance papers and two CAF-signalling papers in
four messy formats must be parsed right, related to each other and grouped into two named themes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import ANOIKIS, CAF, write

from recommender.service import Recommender
from recommender.settings import Settings
from recommender.web import create_app

pytestmark = pytest.mark.e2e


def test_ingested_records_match_expected_fields(seeded, expected_seeds):
    _, ids, run = seeded
    for name, expected in expected_seeds.items():
        record = json.loads(run("show", ids[name], "--json").stdout)
        assert (record["title"] or None) == expected["title"]
        assert (record["doi"], record["journal"], record["year"]) == (
            expected["doi"],
            expected["journal"],
            expected["year"],
        )
        assert (record["authors"][0] if record["authors"] else None) == expected["first_author"]
        assert record["abstract"].startswith(expected["abstract_starts"])
        assert any(record["abstract"].endswith(end) for end in expected["abstract_ends"])
        assert not any(bad in json.dumps(record, ensure_ascii=False) for bad in expected["must_not_contain"])


def test_related_pairs_the_seeds_by_theme(seeded):
    _, ids, run = seeded
    hits = json.loads(run("related", ids[ANOIKIS[0]], "-k", "3", "--json").stdout)
    assert hits[0]["id"] == ids[ANOIKIS[1]]
    assert ids[ANOIKIS[0]] not in [hit["id"] for hit in hits]
    assert any("anoikis" in term.lower() for term in hits[0]["shared_terms"])
    caf_hits = json.loads(run("related", ids[CAF[1]], "-k", "1", "--json").stdout)
    assert caf_hits[0]["id"] == ids[CAF[0]]


def test_two_themes_split_anoikis_from_fibroblast_signalling(seeded):
    _, ids, run = seeded
    result = run("themes", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    themes = json.loads(result.stdout)["themes"]
    groups = {frozenset(theme["papers"]): theme["label"].lower() for theme in themes}
    anoikis = frozenset(ids[name] for name in ANOIKIS)
    caf = frozenset(ids[name] for name in CAF)
    assert set(groups) == {anoikis, caf}
    assert "anoikis" in groups[anoikis]
    assert "fibroblast" in groups[caf] or "caf" in groups[caf]


def test_automatic_number_of_themes_finds_the_same_two(seeded):
    _, ids, run = seeded
    report = json.loads(run("themes", "--json").stdout)
    assert report["k"] == 2
    assert {frozenset(theme["papers"]) for theme in report["themes"]} == {
        frozenset(ids[name] for name in ANOIKIS),
        frozenset(ids[name] for name in CAF),
    }


def test_named_themes_gather_their_papers_and_keep_their_names(seeded):
    _, ids, run = seeded
    result = run("themes", "--seed-theme", "anoikis resistance", "--seed-theme", "CAF IL-6 STAT3 signalling", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    named = {theme["label"]: set(theme["papers"]) for theme in report["themes"] if theme["seed"]}
    assert named == {
        "anoikis resistance": {ids[name] for name in ANOIKIS},
        "CAF IL-6 STAT3 signalling": {ids[name] for name in CAF},
    }
    assert [theme["id"] for theme in report["themes"][:2]] == [0, 1] and report["seed_themes"] == list(named)
    text = run("themes", "--seed-theme", "anoikis resistance", "--seed-theme", "CAF IL-6 STAT3 signalling")
    assert "[0] anoikis resistance" in text.stdout and "(named)" in text.stdout
    assert run("themes", "--seed-theme", "").exit_code == 1  # a clear error, not a crash


def test_theme_years_reach_the_json_and_the_report(seeded, tmp_path):
    _, _ids, run = seeded
    report = json.loads(run("themes", "--k", "2", "--json").stdout)
    for theme in report["themes"]:
        timeline = theme["timeline"]
        assert sum(timeline["counts"].values()) + timeline["undated"] == theme["size"]
        assert len(theme["confidence"]) == theme["size"]
    page = tmp_path / "themes.html"
    assert run("themes", "--k", "2", "--report", str(page)).exit_code == 0
    assert page.read_text(encoding="utf-8").count('aria-label="Papers per year') >= 1


def test_search_by_free_text(seeded):
    _, ids, run = seeded
    hits = json.loads(
        run("search", "IL-6/STAT3 signalling from cancer-associated fibroblasts", "-k", "2", "--json").stdout
    )
    assert {hit["id"] for hit in hits} == {ids[name] for name in CAF}


def test_bad_input_is_reported_and_the_index_stays_intact(seeded, tmp_path):
    _, ids, run = seeded
    before = json.loads(run("status", "--json").stdout)
    empty = write(tmp_path / "empty.txt", "")
    binary = write(tmp_path / "image.bin", bytes(range(256)) * 8)
    broken = write(tmp_path / "broken.jsonl", '{"title": "no abstract"}\nnot json at all\n')
    result = run("ingest", str(empty), str(binary), str(broken), "--json")
    assert result.exit_code == 1
    reasons = {(Path(r["source"]).name, r["position"]): r["reason"] for r in json.loads(result.stdout)["rejected"]}
    assert reasons[("empty.txt", None)] == "empty file"
    assert reasons[("image.bin", None)].startswith("binary file")
    assert reasons[("broken.jsonl", "line 1")].startswith("no abstract")
    assert reasons[("broken.jsonl", "line 2")].startswith("not valid JSON")
    assert json.loads(run("status", "--json").stdout) == before
    assert json.loads(run("related", ids[ANOIKIS[0]], "-k", "1", "--json").stdout)[0]["id"] == ids[ANOIKIS[1]]


def test_http_api_on_the_seeds(seeded, real_factory):
    folder, ids, _ = seeded
    service = Recommender(Settings(index_dir=folder, show_progress=False), embedder_factory=real_factory)
    client = create_app(service=service).test_client()
    assert client.get("/health").get_json()["papers_indexed"] == 4
    paper = client.get(f"/papers/{ids[CAF[0]]}")
    assert paper.status_code == 200 and paper.get_json()["doi"] == "10.1186/s40164-025-00713-9"
    related = client.get(f"/papers/{ids[ANOIKIS[0]]}/related?k=2")
    assert related.status_code == 200 and related.get_json()[0]["id"] == ids[ANOIKIS[1]]
    search = client.post("/search", json={"text": "anoikis resistance and metastasis", "k": 2})
    assert {hit["id"] for hit in search.get_json()} == {ids[name] for name in ANOIKIS}
    themes = client.get("/themes?k=2").get_json()["themes"]
    assert sorted(len(theme["papers"]) for theme in themes) == [2, 2]
    named = client.get("/themes?seed_themes=anoikis%20resistance&seed_themes=CAF%20IL-6%20STAT3%20signalling")
    assert named.status_code == 200
    first, second = named.get_json()["themes"][:2]
    assert first["label"] == "anoikis resistance" and set(first["papers"]) == {ids[name] for name in ANOIKIS}
    assert second["seed"] == "CAF IL-6 STAT3 signalling" and set(second["papers"]) == {ids[name] for name in CAF}
    report = client.get("/themes/report?format=md&seed_themes=anoikis%20resistance")
    assert report.status_code == 200 and "anoikis resistance" in report.get_data(as_text=True)
    too_long = client.get("/themes?seed_themes=" + "x" * 201)
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "invalid_input"
    assert client.get("/papers/missing").status_code == 404
    assert client.get(f"/papers/{ids[CAF[0]]}/related?k=zero").status_code == 400
    assert client.post("/search", json={"k": 2}).status_code == 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_production_server_serves_the_api(seeded):
    """`recommender serve` (waitress) answers real HTTP requests, errors included."""
    folder, ids, _ = seeded
    port = _free_port()
    executable = Path(sys.executable).with_name("recommender")
    env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(folder)}
    server = subprocess.Popen(
        [str(executable), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/search",
            data=json.dumps({"text": "cancer-associated fibroblasts", "k": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.load(response)[0]["id"] in {ids[name] for name in CAF}
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/papers/missing", timeout=10)
        assert missing.value.code == 404
        assert json.load(missing.value)["error"]["code"] == "not_found"
        # The command line finds the running server of its index and lets it answer.
        announced = list((folder / "default" / "servers").glob("*.json"))
        assert [json.loads(path.read_text())["url"] for path in announced] == [base]
        cli = [str(executable), "--verbose", "search", "cancer-associated fibroblasts", "-k", "1", "--json"]
        answer = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=True)
        assert f"answered by the server at {base}" in answer.stderr
        assert json.loads(answer.stdout)[0]["id"] in {ids[name] for name in CAF}
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert not list((folder / "default" / "servers").glob("*.json"))  # withdrawn when it stopped


def test_kill_9_during_builds_leaves_a_loadable_index(seeded, real_factory, tmp_path):
    """A `recommender build` process killed at several moments never leaves the index unusable."""
    folder, ids, _ = seeded
    copy = tmp_path / "indexes"
    shutil.copytree(folder, copy)
    executable = Path(sys.executable).with_name("recommender")
    env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(copy), "HF_HUB_OFFLINE": "1"}
    settings = Settings(index_dir=copy, show_progress=False)
    before = set(Recommender(settings).versions.build_ids())
    for delay in (0.5, 2.0, 3.5, 5.0, 8.0):
        build = subprocess.Popen([str(executable), "build", "--full"], env=env, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        build.kill()
        build.wait()
        service = Recommender(settings, embedder_factory=real_factory)
        assert service.versions.current_id() in set(service.versions.build_ids()) | before
        anoikis = ids[ANOIKIS[0]]
        assert [hit.id for hit in service.related(anoikis, 1)] == [ids[ANOIKIS[1]]]
        assert len(service.search("fibroblast IL-6 signalling", 2)) == 2
