"""Fault tolerance: damaged versions, a damaged or full paper store, a model that fails to load, and a store
that is ahead of the index after a crash. Each gives a clear error and the last good version keeps serving."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from helpers import CORPUS, jsonl, write

from recommender import snapshot as snapshot_module
from recommender import store as store_module
from recommender.errors import IndexCorruptError, ModelLoadError, NotFoundError, NotReadyError, StorageError
from recommender.web import create_app

NEW = {"id": "z1", "title": "Anoikis resistance in melanoma", "abstract": "Anoikis resistance through TrkB."}


def two_versions(built, tmp_path):
    """A second version with one more paper; returns (older id, newer id)."""
    older = built.versions.current_id()
    built.ingest([write(tmp_path / "new.jsonl", jsonl([NEW]))])
    newer = built.build().build_id
    return older, newer


def test_a_truncated_current_version_falls_back_to_the_last_good_one(built, make_service, tmp_path):
    older, newer = two_versions(built, tmp_path)
    vectors = built.versions.path(newer) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    restarted = make_service()
    assert [hit.id for hit in restarted.related("a1", 3)]
    ready = restarted.ready()
    assert ready.version == older and ready.papers_indexed == len(CORPUS)
    assert ready.problem is not None and newer in ready.problem and "vectors.faiss" in ready.problem
    status = restarted.status()
    assert status.version == newer and status.serving == older


def test_a_missing_manifest_falls_back_and_the_next_build_recovers(built, make_service, tmp_path):
    older, newer = two_versions(built, tmp_path)
    (built.versions.path(newer) / "manifest.json").unlink()
    restarted = make_service()
    assert restarted.ready().version == older
    rebuilt = restarted.build()
    ready = restarted.ready()
    assert ready.version == rebuilt.build_id and ready.problem is None and "problem" not in ready.to_dict()
    assert ready.papers_indexed == len(CORPUS) + 1


def test_with_no_good_version_left_the_error_is_clear_and_not_ready(built, make_service):
    (built.versions.current_path() / "papers.jsonl").write_text("{not json\n")
    restarted = make_service()
    with pytest.raises(IndexCorruptError, match=r"papers\.jsonl"):
        restarted.related("a1")
    with pytest.raises(NotReadyError, match=r"papers\.jsonl"):
        restarted.ready()


def test_a_full_disk_during_ingest_keeps_the_store_as_it_was(built, monkeypatch, tmp_path):
    before = built.store.count()

    def full(self, paper):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module.StoreWriter, "upsert", full)
    with pytest.raises(StorageError, match="disk is full"):
        built.ingest([write(tmp_path / "new.jsonl", jsonl([NEW]))])
    monkeypatch.undo()
    assert built.store.count() == before and built.store.get("z1") is None
    assert built.related("a1", 2)


def test_a_damaged_paper_store_is_a_storage_error_over_http(built):
    built.store.path.write_bytes(b"this is not an SQLite database" * 100)
    for suffix in ("-wal", "-shm"):
        built.store.path.with_name(built.store.path.name + suffix).unlink(missing_ok=True)
    client = create_app(service=built).test_client()
    response = client.get("/papers/a1")
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_error"
    assert "papers.sqlite" in response.get_json()["error"]["message"]
    assert client.get("/health").status_code == 200


def test_a_model_that_fails_to_load_breaks_only_text_search(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    service.build()

    def broken(config, settings):
        raise ModelLoadError("could not load model 'x': weights file is damaged")

    restarted = make_service(factory=broken)
    client = create_app(service=restarted).test_client()
    search = client.post("/search", json={"text": "anoikis resistance"})
    assert search.status_code == 503
    assert search.get_json()["error"] == {
        "code": "model_error",
        "message": "could not load model 'x': weights file is damaged",
    }
    assert client.get("/papers/a1/related?k=2").status_code == 200
    assert client.post("/search", json={"text": "anoikis", "mode": "lexical"}).status_code == 200


def test_catch_up_indexes_what_the_store_holds_beyond_the_index(built, tmp_path):
    assert not built.pending_changes() and built.catch_up() is None
    built.ingest([write(tmp_path / "new.jsonl", jsonl([NEW]))])
    assert built.pending_changes()
    job = built.catch_up()
    assert job is not None and job.wait(60) and job.state == "succeeded", job.to_dict()
    assert built.ready().papers_indexed == len(CORPUS) + 1 and not built.pending_changes()
    built.delete("z1")
    assert built.pending_changes()


def test_a_store_never_built_is_pending(make_service, tmp_path):
    service = make_service()
    assert not service.pending_changes()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    assert service.pending_changes()


def test_a_damaged_kept_theme_map_is_fitted_again(built):
    first = built.themes()
    path = next(built.settings.index_path.glob("themes*.json"))
    path.write_text('{"truncated": ')
    restarted_map = built.themes(refit=False, k=first.k)
    assert restarted_map.k == first.k and sum(theme.size for theme in restarted_map.themes) > 0


def test_a_damaged_current_pointer_keeps_serving_and_a_build_or_rollback_repairs_it(built, make_service, tmp_path):
    _, newer = two_versions(built, tmp_path)
    (built.settings.index_path / "CURRENT").write_text(newer[:12])
    restarted = make_service()
    assert restarted.pending_changes()  # unknown state: a catch-up build is the cure, not a crash
    assert restarted.ready().version == newer  # the newest kept version that loads
    status = restarted.status()
    assert status.papers_stored == len(CORPUS) + 1 and status.problem and "does not exist" in status.problem
    assert restarted.rollback().build_id == newer
    (restarted.settings.index_path / "CURRENT").write_text("garbage")
    assert restarted.build().count == len(CORPUS) + 1


def test_a_deleted_paper_is_gone_from_show_before_the_index_update(built):
    built.delete("a1")
    with pytest.raises(NotFoundError):
        built.show("a1")
    assert built.related("a2", 2)  # the index still serves its version until the update


def test_a_failed_index_update_after_storing_papers_is_an_error_answer(built, monkeypatch):
    built.settings = dataclasses.replace(built.settings, api_token="t")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module.LexicalBuilder, "finish", full_disk)
    monkeypatch.setattr("recommender.indexing.write_delta", full_disk)  # the delta, then the full build, fail
    client = create_app(service=built).test_client()
    response = client.post("/papers", json={"papers": [NEW], "wait": 30}, headers={"Authorization": "Bearer t"})
    assert response.status_code == 507, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "storage_error" and error["message"].startswith("the papers were stored")
    assert error["details"]["ingest"]["added"] == 1 and error["details"]["job"]["state"] == "failed"
    assert built.store.get("z1") is not None and built.pending_changes()


def test_cli_status_exits_non_zero_with_a_problem(built):
    from click.testing import CliRunner

    from recommender.cli import main

    (built.versions.current_path() / "manifest.json").unlink()
    result = CliRunner().invoke(main, ["--index-dir", str(built.settings.index_dir), "status", "--json"])
    assert result.exit_code == 1 and "manifest.json" in json.loads(result.stdout)["problem"]
