"""The manifest of a built version (recommender.manifest): written and read back, checked against the files
and the configured model, and the corpus hash that tells whether the indexed texts changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from recommender.errors import IndexCorruptError, IndexMismatchError
from recommender.manifest import (
    FILENAME,
    FORMAT_VERSION,
    Manifest,
    adjusted_corpus_hash,
    corpus_hash,
    file_entries,
    file_sha256,
    previous_model_config,
    same_corpus,
)
from recommender.model_profiles import model_config
from recommender.settings import DEFAULT_MODEL

PAIRS = [("a1", "hash-a1"), ("a2", "hash-a2"), ("c1", "hash-c1")]
FILES = ["papers.jsonl", "embeddings.npy"]


def make_manifest(folder: Path | None = None, **fields) -> Manifest:
    """A manifest of a default-model version, listing ``folder``'s :data:`FILES` (none without a folder)."""
    values = {
        "format_version": FORMAT_VERSION,
        "build_id": "b1",
        "model": DEFAULT_MODEL,
        "model_settings": model_config(None).settings(),
        "dimension": 384,
        "count": 3,
        "corpus_hash": corpus_hash(PAIRS),
        "built_at": "2024-01-01T00:00:00+00:00",
        "index_type": "flat",
        "tokenizer": "t",
        "files": file_entries(folder, FILES) if folder is not None else {},
        **fields,
    }
    return Manifest(**values)


@pytest.fixture()
def version(tmp_path: Path) -> Path:
    """A version folder with two files and a manifest listing them."""
    folder = tmp_path / "20240101T000000Z-abc"
    folder.mkdir()
    (folder / "papers.jsonl").write_text('{"id": "a1"}\n')
    (folder / "embeddings.npy").write_bytes(b"\x00" * 64)
    make_manifest(folder).write(folder)
    return folder


# ------------------------------------------------------------------------------------- write and read
def test_a_written_manifest_reads_back_equal(version):
    manifest = Manifest.read(version)
    assert manifest == make_manifest(version)
    assert set(manifest.files) == set(FILES) and manifest.files["embeddings.npy"].bytes == 64
    assert json.loads((version / FILENAME).read_text())["format_version"] == FORMAT_VERSION


def test_fields_a_newer_program_added_are_ignored(version):
    data = json.loads((version / FILENAME).read_text())
    (version / FILENAME).write_text(json.dumps({**data, "written_by": "a later release"}))
    assert Manifest.read(version) == make_manifest(version)


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, IndexCorruptError, r"has no manifest\.json; rebuild the index"),
        ("{not json", IndexCorruptError, "cannot read"),
        (json.dumps({"format_version": 1, "model": "x"}), IndexMismatchError, "format version 1; this program reads"),
        (json.dumps([1, 2]), IndexMismatchError, "format version None"),
        (json.dumps({"format_version": FORMAT_VERSION, "model": "x"}), IndexCorruptError, "invalid"),
    ],
)
def test_an_unreadable_manifest_is_refused_with_what_is_wrong(tmp_path, content, error, message):
    if content is not None:
        (tmp_path / FILENAME).write_text(content)
    with pytest.raises(error, match=message):
        Manifest.read(tmp_path)


# ----------------------------------------------------------------------------------------- files
def test_intact_files_pass_the_check_with_and_without_checksums(version):
    manifest = Manifest.read(version)
    manifest.check_files(version)
    manifest.check_files(version, checksums=True)


def test_a_missing_file_is_named(version):
    (version / "papers.jsonl").unlink()
    with pytest.raises(IndexCorruptError, match=r"is missing papers\.jsonl"):
        Manifest.read(version).check_files(version)


def test_a_file_of_another_size_is_named_with_both_sizes(version):
    (version / "embeddings.npy").write_bytes(b"\x00" * 10)
    with pytest.raises(IndexCorruptError, match=r"embeddings\.npy .* has 10 bytes, the manifest says 64"):
        Manifest.read(version).check_files(version)


def test_changed_bytes_of_the_same_size_fail_only_the_checksum(version):
    (version / "embeddings.npy").write_bytes(b"\x01" * 64)
    manifest = Manifest.read(version)
    manifest.check_files(version)  # sizes only: cheap enough for every load
    with pytest.raises(IndexCorruptError, match=r"embeddings\.npy .* fails its checksum"):
        manifest.check_files(version, checksums=True)


def test_file_entries_record_size_and_sha256(version):
    entry = file_entries(version, ["papers.jsonl"])["papers.jsonl"]
    content = (version / "papers.jsonl").read_bytes()
    assert entry.bytes == len(content) and entry.sha256 == hashlib.sha256(content).hexdigest()
    assert file_sha256(version / "papers.jsonl") == entry.sha256


# -------------------------------------------------------------------------------------- corpus hash
def test_the_corpus_hash_ignores_order_and_sees_every_change():
    assert corpus_hash(PAIRS) == corpus_hash(reversed(PAIRS)) == corpus_hash(iter(PAIRS))
    assert corpus_hash(PAIRS).startswith("sum256:")
    changed = [("a1", "hash-a1"), ("a2", "another text"), ("c1", "hash-c1")]
    assert corpus_hash(changed) != corpus_hash(PAIRS)
    assert corpus_hash(PAIRS[:2]) != corpus_hash(PAIRS)
    assert corpus_hash([("a1", "x"), ("a2", "y")]) != corpus_hash([("a1", "y"), ("a2", "x")])  # pairs, not parts


def test_same_corpus_reads_both_hash_styles():
    assert same_corpus(corpus_hash(PAIRS), reversed(PAIRS))
    assert not same_corpus(corpus_hash(PAIRS), PAIRS[:2])
    digest = hashlib.sha256()  # how older manifests hashed: SHA-256 of the sorted pairs
    for paper_id, text_hash in sorted(PAIRS):
        digest.update(f"{paper_id}\t{text_hash}\n".encode())
    old_style = digest.hexdigest()
    assert same_corpus(old_style, reversed(PAIRS))
    assert not same_corpus(old_style, PAIRS[:2])


def test_an_adjusted_hash_is_the_hash_of_the_changed_corpus():
    added = [("n1", "hash-n1")]
    adjusted = adjusted_corpus_hash(corpus_hash(PAIRS), removed=[PAIRS[1]], added=added)
    assert adjusted == corpus_hash([PAIRS[0], PAIRS[2], *added])
    assert adjusted_corpus_hash(corpus_hash(PAIRS), [], []) == corpus_hash(PAIRS)
    assert adjusted_corpus_hash("0" * 64, [], added) is None  # an old-style hash cannot be adjusted


# --------------------------------------------------------------------------------------------- model
def test_the_index_model_itself_or_none_configured_is_accepted():
    manifest = make_manifest()
    manifest.check_model(None)
    manifest.check_model(model_config(None))


def test_another_model_is_refused_naming_both():
    manifest = make_manifest()
    with pytest.raises(IndexMismatchError) as caught:
        manifest.check_model(model_config("some-org/other-model"))
    message = str(caught.value)
    assert DEFAULT_MODEL in message and "some-org/other-model" in message and "384-d" in message
    assert "recommender build" in message


def test_manifest_mismatch_names_the_setting():
    """Moved from test_models.py (it needs no model)."""
    manifest = make_manifest()
    manifest.check_model(model_config(None))
    with pytest.raises(IndexMismatchError, match="max_seq_length"):
        manifest.check_model(model_config(None, max_seq_length=64))


def test_a_manifest_without_recorded_settings_means_the_models_defaults():
    manifest = make_manifest(model_settings={})
    assert manifest.embedding_config() == model_config(None)
    manifest.check_model(model_config(None))
    with pytest.raises(IndexMismatchError, match="document_prefix"):
        manifest.check_model(model_config(None, document_prefix="passage: "))


def test_the_previous_model_is_read_leniently(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / FILENAME).write_text(json.dumps({"format_version": 0, "model": "some-org/other-model"}))
    assert previous_model_config(folder) == model_config("some-org/other-model")  # an old format still tells
    settings = model_config(None, max_seq_length=64).settings()
    (folder / FILENAME).write_text(json.dumps({"model": DEFAULT_MODEL, "model_settings": settings}))
    config = previous_model_config(folder)
    assert config is not None and config.max_seq_length == 64
    (folder / FILENAME).write_text("{damaged")
    assert previous_model_config(folder) is None
    assert previous_model_config(tmp_path / "missing") is None and previous_model_config(None) is None
