"""Delta versions (recommender.segments): papers added and removed without a rebuild, scored as one corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import CORPUS, built_service, filler_papers

from recommender import indexing
from recommender.lexical_index import LexicalIndex
from recommender.segments import Bm25Parameters, DeltaLexical, StackedLexical, StackedRows, StackedVectors
from recommender.vector_index import VectorIndex

# Every document four tokens long: the base's and the union's average lengths agree, so stacked scores must
# equal scores of one index built over everything, exactly.
BASE = [["anoikis", "cells", "erk", "cells"], ["stat3", "il-6", "caf", "cells"], ["glycolysis", "pfkfb3", "x", "y"]]
DELTA = [["anoikis", "bim", "erk", "z"], ["il-6", "il-6", "caf", "w"]]
HIDDEN = [1]  # base row 1 is hidden (deleted, or replaced by a newer text)


def stacked() -> tuple[StackedLexical, LexicalIndex, np.ndarray]:
    base = LexicalIndex.build(BASE)
    live = np.array([row for row in range(len(BASE)) if row not in HIDDEN])
    params = Bm25Parameters(**LexicalIndex.parameters(BASE))
    return StackedLexical(base, live, DeltaLexical(DELTA), params), LexicalIndex.build(BASE + DELTA), live


def test_stacked_bm25_scores_are_one_corpus_scores():
    """Scores under one set of statistics: the union's IDF (hidden documents count until the merge, as in
    Lucene) for base and delta documents alike."""
    lexical, union, live = stacked()
    rows = [*live.tolist(), *range(len(BASE), len(BASE) + len(DELTA))]  # union rows in stacked order
    for query in (["anoikis"], ["il-6", "caf"], ["erk", "erk", "glycolysis"], ["cells"], ["unknown"]):
        np.testing.assert_allclose(lexical.scores(query), union.scores(query)[rows], rtol=1e-5, atol=1e-7)
        assert lexical.upper_bound(query) == pytest.approx(union.upper_bound(query))
    for token in ("anoikis", "il-6", "bim", "cells", "unknown"):
        assert lexical.document_frequency(token) == union.document_frequency(token)
    assert lexical.holders("erk", np.arange(4)).tolist() == [True, False, True, False]
    assert lexical.contains("il-6", 3) and not lexical.contains("il-6", 0)
    matrix = lexical.score_matrix().toarray()
    vocabulary = lexical.vocabulary()
    expected = union.score_matrix().toarray()[rows]
    for column, token in enumerate(union.vocabulary()):
        if token:
            np.testing.assert_allclose(matrix[:, vocabulary.index(token)], expected[:, column], rtol=1e-5, atol=1e-7)
    queries, bounds = lexical.query_matrix([["anoikis", "bim", "bim"]])
    assert queries[0, vocabulary.index("bim")] == 2 and bounds[0] == pytest.approx(
        union.upper_bound(["anoikis", "bim", "bim"])
    )


def test_stacked_vectors_search_the_live_rows_and_the_delta_exactly():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 8)).astype(np.float32)
    delta = rng.normal(size=(5, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    delta /= np.linalg.norm(delta, axis=1, keepdims=True)
    live = np.setdiff1d(np.arange(50), [3, 17, 40])
    rows = StackedRows(base, live, delta)
    vectors = StackedVectors(VectorIndex.build(base, kind="flat"), live, delta)
    whole = np.asarray(rows)
    assert whole.shape == (52, 8) and rows.shape == (52, 8) and len(rows) == 52
    np.testing.assert_array_equal(rows[[0, 3, 47, 51]], np.vstack([base[0], base[4], delta[0], delta[4]]))
    np.testing.assert_array_equal(rows[50], delta[3])
    for query in rng.normal(size=(5, 8)).astype(np.float32):
        scores, found = vectors.search(query, 10)
        expected = np.argsort(-(whole @ query), kind="stable")[:10]
        assert found[0].tolist() == expected.tolist()
        np.testing.assert_allclose(scores[0], (whole @ query)[expected], rtol=1e-5)
        allowed = np.array([1, 2, 48, 50])
        _, found = vectors.search(query, 3, allowed=allowed)
        subset = allowed[np.argsort(-(whole[allowed] @ query), kind="stable")[:3]]
        assert found[0].tolist() == subset.tolist()


def new_paper(paper_id: str, title: str, abstract: str) -> dict:
    return {"id": paper_id, "title": title, "abstract": abstract, "year": 2024, "journal": "J Delta"}


NEW = new_paper(
    "n1",
    "PFKFB3 glycolysis sustains anoikis resistance of detached spheroids",
    "Detached spheroids raise PFKFB3 glycolysis and resist anoikis; PFKFB3 blockade restores anoikis.",
)


@pytest.fixture()
def service(index_dir, tmp_path):
    return built_service(index_dir, tmp_path, papers=CORPUS + filler_papers(60))


def update(service, **changes):
    job = service.start_update("test", **changes)
    assert job.wait(60) and job.state == "succeeded", job.to_dict()
    return service.versions.path(service.versions.current_id())


def manifest_of(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_added_papers_become_a_delta_version_searchable_at_once(service, index_dir, tmp_path):
    base_id = service.versions.current_id()
    report = service.ingest_records([NEW])
    folder = update(service, added=report.ids())
    manifest = manifest_of(folder)
    assert manifest["base"] == base_id and manifest["delta"] == {"papers": 1, "hidden": 0}
    assert not (folder / "vectors.faiss").exists()  # the base's index is not rewritten
    assert service.search("PFKFB3 glycolysis spheroids", 1)[0].id == "n1"
    assert "n1" in [hit.id for hit in service.related("a1", 5)]
    status = service.status()
    assert status.to_dict()["delta"] == {"base": base_id, "papers": 1, "hidden": 0}
    assert status.papers_indexed == len(CORPUS) + 61
    # The same corpus built in full ranks alike: the delta's scores are the full index's.
    full = built_service(index_dir.parent / "full", tmp_path, papers=[*CORPUS, *filler_papers(60), NEW])
    for query in ("PFKFB3 glycolysis spheroids", "anoikis resistance", "IL-6 STAT3 fibroblasts"):
        assert [hit.id for hit in service.search(query, 5)] == [hit.id for hit in full.search(query, 5)]
    assert [hit.id for hit in service.related("n1", 5)] == [hit.id for hit in full.related("n1", 5)]


def test_deleted_and_changed_papers_leave_the_delta_version(service):
    service.delete("a1")
    service.delete("c1")  # the store merges a record into the one of the same id: a new text is delete + add
    assert manifest_of(update(service, removed=["a1", "c1"]))["delta"] == {"papers": 0, "hidden": 2}
    assert "c1" not in [hit.id for hit in service.search("IL-6 STAT3 fibroblasts", 20)]
    changed = {**CORPUS[3], "abstract": "Completely rewritten: hepatic stellate cells and collagen crosslinking."}
    service.ingest_records([changed])
    folder = update(service, added=["c1"])
    assert manifest_of(folder)["delta"] == {"papers": 1, "hidden": 2}
    assert "a1" not in [hit.id for hit in service.search("anoikis", 20)]
    assert service.search("hepatic stellate collagen crosslinking", 1)[0].id == changed["id"]
    assert service.show(changed["id"]).abstract == changed["abstract"]
    ids = [hit.id for hit in service.search("cancer", 100)]
    assert len(ids) == len(set(ids))  # the changed paper is served once, with its new text
    service.ingest_records([CORPUS[0]])  # a1 back again
    update(service, added=["a1"])
    assert "a1" in [hit.id for hit in service.search("anoikis detached lung", 3)]
    themes = service.themes()
    themed = [paper for theme in themes.themes for paper in theme.papers]
    assert sorted(themed + [u for u in themes.unassigned]) == sorted(p.id for p in service.store.papers())


def test_the_merge_is_a_full_build_once_the_delta_is_large(service, monkeypatch):
    monkeypatch.setattr(indexing, "DELTA_MIN", 2)
    monkeypatch.setattr(indexing, "DELTA_SHARE", 0.0)
    papers = [new_paper(f"m{i}", f"Merge paper {i} about anoikis", "Anoikis resistance and ERK.") for i in range(3)]
    for paper in papers[:2]:
        service.ingest_records([paper])
        assert manifest_of(update(service, added=[paper["id"]]))["base"] is not None
    service.ingest_records([papers[2]])
    folder = update(service, added=["m2"])
    assert manifest_of(folder)["base"] is None  # merged: a new full version
    assert {"m0", "m1", "m2"} <= {hit.id for hit in service.search("merge paper anoikis", 10)}


def test_a_failed_delta_falls_back_to_a_full_build(service, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk trouble while writing the delta")

    monkeypatch.setattr("recommender.updates.index_delta", broken)
    service.ingest_records([NEW])
    folder = update(service, added=["n1"])
    assert manifest_of(folder)["base"] is None
    assert service.search("PFKFB3 glycolysis spheroids", 1)[0].id == "n1"
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".tmp-")]


def test_delta_versions_load_cold_roll_back_and_keep_their_base(service, make_service):
    base_id = service.versions.current_id()
    service.ingest_records([NEW])
    delta_id = update(service, added=["n1"]).name
    for i in range(3):  # more deltas: pruning keeps the newest versions and the base they add to
        paper = new_paper(f"p{i}", f"Extra paper {i}", "Peritoneal metastasis of gastric cancer cells.")
        service.ingest_records([paper])
        update(service, added=[paper["id"]])
    kept = service.versions.build_ids()
    assert base_id in kept and delta_id not in kept and len(kept) == 3
    cold = make_service()
    assert cold.search("PFKFB3 glycolysis spheroids", 1)[0].id == "n1"
    manifest = cold.status().manifest
    assert manifest is not None and manifest.delta["papers"] == 4
    assert not cold.pending_changes()
    cold.rollback(kept[1])
    assert "p2" not in [hit.id for hit in cold.search("extra paper peritoneal gastric", 10)]


WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from helpers import fake_factory
from recommender.service import Recommender
from recommender.settings import Settings

service = Recommender(Settings(index_dir={folder!r}, show_progress=False), embedder_factory=fake_factory)
i = 0
while True:
    paper = {{"id": f"k{{i}}", "title": f"Killed writer paper {{i}}", "abstract": f"Anoikis and ERK, take {{i}}."}}
    service.ingest_records([paper])
    print(i, flush=True)  # acknowledged: stored
    service.start_update("add", added=[paper["id"]]).wait(30)
    i += 1
"""


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.6])
def test_kill_9_while_publishing_deltas_loses_nothing_acknowledged(service, index_dir, make_service, delay):
    """A writer killed at any moment (``delay`` after its first acknowledged paper): the index loads, and every
    acknowledged paper is stored and, after the catch-up a restarted server runs, searchable."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = WRITER.format(tests=str(Path(__file__).parent), folder=str(index_dir))
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    first = writer.stdout.readline()  # the writer is running and has stored one paper
    time.sleep(delay)
    writer.kill()
    out, _ = writer.communicate()
    acknowledged = [f"k{line.strip()}" for line in [first, *out.splitlines()] if line.strip()]
    assert acknowledged, "the writer never acknowledged a paper"
    restarted = make_service()
    assert restarted.ready().to_dict()["ready"]
    job = restarted.catch_up()
    if job is not None:
        assert job.wait(60) and job.state == "succeeded", job.to_dict()
    assert not restarted.pending_changes()
    for paper_id in acknowledged:
        assert restarted.show(paper_id).id == paper_id
        assert paper_id in [hit.id for hit in restarted.search(f"killed writer paper {paper_id[1:]}", 100)]
