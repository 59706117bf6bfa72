"""Index versions: atomic publication, refusal of broken or mismatched versions, one builder at a time."""

from __future__ import annotations

import json

import pytest
from helpers import CORPUS, jsonl, write

from recommender import snapshot as snapshot_module
from recommender.errors import BusyError, IndexCorruptError, IndexMismatchError, StorageError
from recommender.manifest import FORMAT_VERSION
from recommender.versions import exclusive_lock


def test_manifest_describes_the_version(built):
    folder = built.versions.current_path()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "bundled:all-MiniLM-L6-v2" and manifest["dimension"] == 256
    assert manifest["count"] == len(CORPUS) and manifest["corpus_hash"].startswith("sum256:")
    assert manifest["built_at"] and manifest["build_id"] == folder.name
    assert {"papers.jsonl", "embeddings.npy", "vectors.faiss"} <= set(manifest["files"])


def test_a_build_that_fails_midway_leaves_the_current_version_serving(built, monkeypatch, tmp_path):
    current = built.versions.current_id()
    built.ingest([write(tmp_path / "more.jsonl", jsonl([{"id": "x1", "abstract": "anoikis of x"}]))])

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module.LexicalBuilder, "finish", crash)
    with pytest.raises(StorageError, match=r"No space left on device.*stays current"):
        built.build()
    assert built.versions.current_id() == current
    assert built.versions.build_ids() == [current]
    assert not list(built.versions.versions.glob(".tmp-*"))
    assert built.related("a1", 2)


def test_truncated_vector_file_is_refused_with_a_clear_error(built, make_service):
    vectors = built.versions.current_path() / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match=r"vectors\.faiss"):
        make_service().related("a1")


def test_missing_manifest_is_refused(built, make_service):
    (built.versions.current_path() / "manifest.json").unlink()
    with pytest.raises(IndexCorruptError, match=r"no manifest\.json"):
        make_service().search("anoikis")


def test_other_format_version_is_refused(built, make_service):
    path = built.versions.current_path() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        make_service().related("a1")


def test_query_model_with_another_dimension_is_refused(built, make_service):
    from helpers import FakeEmbedder

    other = make_service(factory=lambda config, settings: FakeEmbedder(config, dimension=32))
    with pytest.raises(IndexMismatchError, match="32-d"):
        other.search("anoikis")


def test_only_one_build_at_a_time(built):
    with exclusive_lock(built.settings.index_path), pytest.raises(BusyError):
        built.build()


def test_old_versions_are_pruned_to_current_and_previous(built):
    built.build()
    built.build()
    versions = built.versions.build_ids()
    assert len(versions) == 2 and versions[-1] == built.versions.current_id()


def test_an_old_format_version_can_be_rebuilt(built, make_service):
    path = built.versions.current_path() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 0
    path.write_text(json.dumps(manifest))
    service = make_service()
    with pytest.raises(IndexMismatchError):
        service.related("a1")
    assert service.build().format_version == FORMAT_VERSION
    assert service.related("a1", 1)
