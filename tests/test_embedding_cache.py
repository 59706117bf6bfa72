"""The embedding cache (recommender.embedding_cache): a vector is stored under the hash of its exact text and
reused, a changed text is embedded again, another model or setting never shares vectors, a damaged cache says
how to cure it, and shards from another engine are imported only when they fit. Fake embedder, no model."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import FakeEmbedder

from recommender.embedding_cache import (
    SHARD_FORMAT,
    SHARD_MANIFEST,
    EmbeddingCache,
    encode_cached,
    fingerprint,
    iter_shards,
    text_key,
)
from recommender.errors import IndexCorruptError, InvalidInputError
from recommender.model_profiles import model_config

TEXTS = ["Anoikis resistance in lung cancer.", "IL-6 activates STAT3 in fibroblasts.", "Hypoxia and HIF-1alpha."]


class Loader:
    """``load_embedder`` for encode_cached that counts how often the model is loaded."""

    def __init__(self, embedder: FakeEmbedder | None = None) -> None:
        self.embedder = embedder or FakeEmbedder(dimension=16)
        self.loads = 0

    def __call__(self) -> FakeEmbedder:
        self.loads += 1
        return self.embedder


def unit_rows(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# ------------------------------------------------------------------------------------------ the store
def test_vectors_are_stored_under_their_key_and_unknown_keys_are_absent(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    assert cache.get(["a"]) == {} and cache.count() == 0 and not cache.path.exists()  # nothing created by a read
    vectors = unit_rows(2, 4)
    cache.put(["a", "b"], vectors)
    found = cache.get(["a", "b", "c", "a"])
    assert set(found) == {"a", "b"} and cache.count() == 2
    assert np.array_equal(found["a"], vectors[0]) and found["b"].dtype == np.float32
    cache.put(["a"], vectors[1:])  # a key written again holds the newer vector
    assert np.array_equal(cache.get(["a"])["a"], vectors[1]) and cache.count() == 2


def test_put_refuses_rows_that_do_not_line_up(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    with pytest.raises(ValueError, match="row-aligned"):
        cache.put(["a", "b"], unit_rows(1, 4))
    with pytest.raises(ValueError, match="row-aligned"):
        cache.put(["a"], unit_rows(1, 4), truncated=[True, False])
    cache.put([], np.zeros((0, 4), dtype=np.float32))
    assert cache.count() == 0


def test_vectors_of_another_width_count_as_absent(tmp_path):
    EmbeddingCache(tmp_path, "fp").put(["narrow"], unit_rows(1, 4))
    assert EmbeddingCache(tmp_path, "fp", dimension=8).get(["narrow"]) == {}
    assert set(EmbeddingCache(tmp_path, "fp", dimension=4).get(["narrow"])) == {"narrow"}


def test_truncation_flags_and_model_facts_are_remembered(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    cache.put(["a", "b", "c"], unit_rows(3, 4), truncated=[True, False, True])
    assert cache.truncated_count(["a", "b"]) == 1 and cache.truncated_count(["a", "c", "x"]) == 2
    assert cache.facts() == {}
    cache.save_facts({"dimension": 4, "max_seq_length": 256})
    assert EmbeddingCache(tmp_path, "fp").facts() == {"dimension": 4, "max_seq_length": 256}


def test_a_damaged_cache_file_is_an_error_that_names_the_cure(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    cache.path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(IndexCorruptError, match="delete it to start a fresh cache") as caught:
        cache.get(["a"])
    assert str(cache.path) in str(caught.value)
    with pytest.raises(IndexCorruptError):
        encode_cached(TEXTS, cache, Loader())


def test_text_key_is_the_hash_of_the_text():
    """Moved from test_rebuilds.py."""
    assert text_key("abc") == text_key("abc") != text_key("abd")
    assert len(text_key("x")) == 64


# ---------------------------------------------------------------------------------------- fingerprints
def test_fingerprint_changes_with_every_setting_that_changes_vectors():
    """Moved from test_rebuilds.py."""
    base = fingerprint(model_config(None))
    assert fingerprint(model_config(None)) == base
    for change in ({"max_seq_length": 128}, {"document_prefix": "passage: "}, {"pooling": "cls"}):
        assert fingerprint(model_config(None, **change)) != base
    assert fingerprint(model_config("some/other-model")) != base


def test_a_local_models_fingerprint_follows_its_weight_files(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x00" * 10)
    (folder / "README.md").write_text("notes")
    before = fingerprint(model_config(str(folder)))
    (folder / "README.md").write_text("other notes, not weights")
    assert fingerprint(model_config(str(folder))) == before
    (folder / "model.safetensors").write_bytes(b"\x00" * 11)  # fine-tuned again
    assert fingerprint(model_config(str(folder))) != before


def test_another_model_or_setting_never_reuses_a_vector(tmp_path):
    default, prefixed = model_config(None), model_config(None, document_prefix="passage: ")
    encode_cached(TEXTS, EmbeddingCache(tmp_path, fingerprint(default)), Loader())
    other = Loader()
    result = encode_cached(TEXTS, EmbeddingCache(tmp_path, fingerprint(prefixed)), other)
    assert (result.embedded, result.reused, other.loads) == (len(TEXTS), 0, 1)
    assert len(list(tmp_path.glob("*.sqlite"))) == 2  # one file per fingerprint


# ------------------------------------------------------------------------------------------- encoding
def test_a_second_run_reuses_every_vector_without_loading_the_model(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    first_loader = Loader()
    first = encode_cached(TEXTS, cache, first_loader)
    assert (first.embedded, first.reused, first_loader.loads) == (len(TEXTS), 0, 1)
    assert np.allclose(first.vectors, first_loader.embedder.encode_documents(TEXTS))
    again = Loader()
    second = encode_cached(TEXTS, cache, again)
    assert (second.embedded, second.reused, again.loads) == (0, len(TEXTS), 0)
    assert np.array_equal(second.vectors, first.vectors) and second.vectors.dtype == np.float32


def test_a_changed_text_is_embedded_again_and_the_rest_reused(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    encode_cached(TEXTS, cache, Loader())
    changed = [TEXTS[0], TEXTS[1] + " A revised sentence.", TEXTS[2]]
    loader = Loader()
    result = encode_cached(changed, cache, loader)
    assert (result.embedded, result.reused) == (1, 2) and loader.embedder.encoded == 1
    assert np.allclose(result.vectors, loader.embedder.encode_documents(changed))


def test_full_and_no_cache_embed_everything(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    encode_cached(TEXTS, cache, Loader())
    assert encode_cached(TEXTS, cache, Loader(), full=True).embedded == len(TEXTS)
    for _ in range(2):
        assert encode_cached(TEXTS, None, Loader()).embedded == len(TEXTS)


def test_duplicate_texts_are_embedded_once(tmp_path):
    """Moved from test_rebuilds.py."""
    model = FakeEmbedder()
    result = encode_cached(["same text", "same text", "other"], EmbeddingCache(tmp_path, "fp"), lambda: model)
    assert model.encoded == 2 and result.vectors.shape == (3, model.dimension)
    assert np.allclose(result.vectors[0], result.vectors[1])


def test_an_interrupted_embedding_keeps_the_chunks_it_finished(tmp_path):
    """Moved from test_rebuilds.py."""
    texts = [f"text number {i} about anoikis" for i in range(10)]
    cache = EmbeddingCache(tmp_path, "fp")
    model = FakeEmbedder()

    class Failing(FakeEmbedder):
        def encode_documents(self, batch, *, progress=False):
            if self.calls == 2:
                raise KeyboardInterrupt
            return super().encode_documents(batch)

    with pytest.raises(KeyboardInterrupt):
        encode_cached(texts, cache, lambda: Failing(), chunk_size=3)
    assert cache.count() == 6
    result = encode_cached(texts, cache, lambda: model, chunk_size=3)
    assert (result.embedded, result.reused) == (4, 6)
    assert np.allclose(result.vectors, model.encode_documents(texts))


def test_truncation_and_the_window_are_reported_even_when_nothing_is_embedded(tmp_path):
    class Windowed(FakeEmbedder):
        def truncated(self, texts):
            return [len(text.split()) > 4 for text in texts]

    windowed = Windowed(dimension=16)
    windowed.max_seq_length = 8
    cache = EmbeddingCache(tmp_path, "fp")
    first = encode_cached(TEXTS, cache, Loader(windowed))
    assert (first.truncated, first.max_seq_length) == (2, 8)
    loader = Loader()
    second = encode_cached(TEXTS[1:], cache, loader)
    assert (second.truncated, second.max_seq_length, loader.loads) == (1, 8, 0)
    nothing = encode_cached([], cache, loader)
    assert nothing.vectors.shape == (0, 16) and loader.loads == 0  # the width the cache recorded


def test_a_cached_vector_of_another_width_is_embedded_again(tmp_path):
    """Found by this test (it raised KeyError): a stale vector was dropped but never re-embedded."""
    cache = EmbeddingCache(tmp_path, "fp")  # no dimension given, as recommender.encoders opens it
    cache.put([text_key(TEXTS[0])], unit_rows(1, 4))  # written by something else under this name
    loader = Loader()  # 16-d
    result = encode_cached(TEXTS, cache, loader)  # TEXTS[1:] are missing: the model is loaded anyway
    assert result.vectors.shape == (len(TEXTS), 16)
    assert np.allclose(result.vectors, loader.embedder.encode_documents(TEXTS))


# ---------------------------------------------------------------------------------------------- shards
def write_shards(folder, keys, vectors, *, fingerprint_="fp", count=None, **manifest) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({"key": keys, "vector": pa.array(vectors.tolist(), pa.list_(pa.float32()))})
    pq.write_table(table, folder / "part-0.parquet")
    body = {"format": SHARD_FORMAT, "fingerprint": fingerprint_, "count": len(keys) if count is None else count}
    (folder / SHARD_MANIFEST).write_text(json.dumps({**body, **manifest}))


def test_shards_of_this_model_are_imported_and_reused(tmp_path):
    vectors = unit_rows(len(TEXTS), 16)
    keys = [text_key(text) for text in TEXTS]
    write_shards(tmp_path / "shards", keys, vectors)
    (tmp_path / "shards" / "_tmp-writer.parquet").write_bytes(b"half-written")  # a writer's temporary file
    cache = EmbeddingCache(tmp_path / "cache", "fp")
    assert cache.import_shards(tmp_path / "shards") == len(TEXTS)
    loader = Loader()
    result = encode_cached(TEXTS, cache, loader)
    assert (result.embedded, loader.loads) == (0, 0) and np.allclose(result.vectors, vectors)


def test_an_import_records_the_model_facts_of_its_manifest(tmp_path):
    """Found by a README check: a Ray import into a fresh cache left the window unknown, and ``build`` printed
    "the model's None-token window"."""
    keys = [text_key(text) for text in TEXTS]
    write_shards(tmp_path / "shards", keys, unit_rows(len(TEXTS), 16), dimension=16, max_seq_length=256)
    cache = EmbeddingCache(tmp_path / "cache", "fp")
    cache.import_shards(tmp_path / "shards")
    assert cache.facts() == {"dimension": 16, "max_seq_length": 256}
    loader = Loader()
    result = encode_cached(TEXTS, cache, loader)
    assert (result.max_seq_length, loader.loads) == (256, 0)


def test_an_import_without_a_window_keeps_the_facts_a_model_recorded(tmp_path):
    keys = [text_key(text) for text in TEXTS]
    write_shards(tmp_path / "old", keys, unit_rows(len(TEXTS), 16))  # an older manifest: no dimension, no window
    cache = EmbeddingCache(tmp_path / "cache", "fp")
    cache.import_shards(tmp_path / "old")
    assert cache.facts() == {"dimension": 16}  # read from the vectors
    cache.save_facts({"max_seq_length": 128})  # what a model that ran here said
    write_shards(tmp_path / "new", keys, unit_rows(len(TEXTS), 16), max_seq_length=256)
    cache.import_shards(tmp_path / "new")
    assert cache.facts() == {"dimension": 16, "max_seq_length": 128}


def test_the_shard_manifest_window_is_read_without_loading_the_model(tmp_path):
    from recommender.distributed import declared_window

    assert declared_window(model_config(None)) == 256  # the bundled model's sentence_bert_config.json
    assert declared_window(model_config(None, max_seq_length=128)) == 128
    assert declared_window(model_config("no-such-org/no-such-model")) is None
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64}))
    assert declared_window(model_config(str(tmp_path))) == 64


@pytest.mark.parametrize(
    ("manifest", "dimension", "message"),
    [
        ({"fingerprint_": "another"}, None, "made with model"),
        ({"count": 5}, None, "holds 3 embeddings but its manifest lists 5"),
        ({}, 8, "16 dimensions, expected 8"),
        ({"dimension": 8}, None, "16 dimensions, expected 8"),
    ],
)
def test_shards_that_do_not_fit_are_refused_before_anything_is_stored(tmp_path, manifest, dimension, message):
    write_shards(tmp_path / "shards", ["a", "b", "c"], unit_rows(3, 16), **manifest)
    cache = EmbeddingCache(tmp_path / "cache", "fp", dimension)
    with pytest.raises(InvalidInputError, match=message):
        cache.import_shards(tmp_path / "shards")
    assert cache.count() == 0


def test_a_folder_without_a_shard_manifest_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="missing"):
        EmbeddingCache(tmp_path / "cache", "fp").import_shards(tmp_path)
    (tmp_path / SHARD_MANIFEST).write_text(json.dumps({"format": "something else", "fingerprint": "fp"}))
    with pytest.raises(InvalidInputError, match="is not a"):
        EmbeddingCache(tmp_path / "cache", "fp").import_shards(tmp_path)


@pytest.mark.parametrize(
    ("vectors", "message"),
    [([[0.6, 0.8], [3.0, 4.0]], "normalised"), ([[0.6, 0.8], [1.0]], "different lengths")],
)
def test_foreign_shard_rows_are_refused(tmp_path, vectors: list[list[float]], message: str) -> None:
    """Moved from test_distributed.py (it needs no Ray)."""
    table = pa.table({"key": ["a", "b"], "vector": pa.array(vectors, pa.list_(pa.float32()))})
    pq.write_table(table, tmp_path / "part.parquet")
    with pytest.raises(InvalidInputError, match=message):
        list(iter_shards(tmp_path))
