"""Rebuilds: the embedding cache, versions and rollback, crash safety of builds, through the façade and CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import CORPUS, FakeEmbedder, jsonl, write

from recommender import snapshot as snapshot_module
from recommender.cli import main
from recommender.embedding_cache import fingerprint
from recommender.errors import InvalidInputError, NotFoundError, StaleIndexError, StorageError
from recommender.model_profiles import model_config
from recommender.progress import Progress
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.terms_cache import TermsCache
from recommender.tokenizer import index_terms


@pytest.fixture()
def model():
    """One fake model shared by every service a test makes, so its counters see every encode."""
    embedder = FakeEmbedder()
    return embedder


@pytest.fixture()
def service(make_service, model, tmp_path):
    service = make_service(factory=lambda config, settings: model)
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    return service


def add(service, tmp_path, records, name="more.jsonl"):
    return service.ingest([write(tmp_path / name, jsonl(records))])


NEW = {"id": "n1", "title": "Anoikis and ERK in detached melanoma cells", "abstract": "Melanoma cells resist anoikis."}


def test_a_rebuild_embeds_only_new_papers(service, model, tmp_path):
    first = service.build()
    assert (first.embedded, first.reused) == (len(CORPUS), 0)
    assert model.encoded == len(CORPUS)
    add(service, tmp_path, [NEW])
    second = service.build()
    assert (second.embedded, second.reused) == (1, len(CORPUS))
    assert model.encoded == len(CORPUS) + 1
    assert second.count == len(CORPUS) + 1 and second.embedding_fingerprint == first.embedding_fingerprint
    assert service.related("n1", 3)[0].id.startswith("a")


def test_cached_vectors_equal_fresh_ones(service, model):
    service.build()
    cached = np.asarray(service._current_snapshot().embeddings)
    texts = [model.config.document_text(p.title, p.abstract) for p in service._current_snapshot().papers]
    assert np.allclose(cached, model.encode_documents(texts))


def test_a_changed_abstract_is_embedded_again(service, model, tmp_path):
    service.build()
    changed = dict(CORPUS[0], abstract=CORPUS[0]["abstract"] + " A revised sentence about BIM.")
    add(service, tmp_path, [changed], "changed.jsonl")
    manifest = service.build()
    assert (manifest.embedded, manifest.reused) == (1, len(CORPUS) - 1)


def test_full_rebuild_reembeds_everything(service, model):
    service.build()
    manifest = service.build(full=True)
    assert (manifest.embedded, manifest.reused) == (len(CORPUS), 0)
    assert model.encoded == 2 * len(CORPUS)


def test_other_model_settings_mean_a_full_reembed(service, model):
    service.build()
    settings = dataclasses.replace(service.settings, model_options={"document_prefix": "passage: "})
    other = Recommender(settings, embedder_factory=lambda config, settings: FakeEmbedder(config))
    manifest = other.build()
    assert (manifest.embedded, manifest.reused) == (len(CORPUS), 0)
    assert manifest.embedding_fingerprint != fingerprint(model_config(None))


def test_a_build_that_embeds_nothing_does_not_load_the_model(service, make_service, model):
    service.build()
    loads = []

    def factory(config, settings):
        loads.append(config)
        return model

    again = make_service(factory=factory)
    manifest = again.build()
    assert manifest.embedded == 0 and loads == []
    assert manifest.dimension == model.dimension


def test_terms_cache_returns_what_the_tokenizer_gives(tmp_path):
    texts = ["IL-6 activates STAT3 in CAFs.", "", "TGF-β and anoikis"]
    cache = TermsCache(tmp_path)
    computed = []
    first = cache.terms(texts, index_terms, on_computed=computed.append)
    assert first == [index_terms(text) for text in texts] and sum(computed) == 3
    computed.clear()
    assert cache.terms(texts, index_terms, on_computed=computed.append) == first and computed == []


def test_progress_is_reported_per_step(service):
    seen = []
    service.build(progress=Progress(callback=lambda step, done, total: seen.append((step, done, total))))
    steps = list(dict.fromkeys(step for step, _, _ in seen))
    assert steps == ["tokenize", "embed", "vector index", "lexical index"]  # records and terms stream first
    assert ("embed", len(CORPUS), len(CORPUS)) in seen


# ----------------------------------------------------------------------------------------- versions
def test_versions_and_rollback(service, tmp_path):
    first = service.build()
    add(service, tmp_path, [NEW])
    second = service.build()
    listed = service.list_versions()
    assert [entry.id for entry in listed] == [first.build_id, second.build_id]
    assert [entry.current for entry in listed] == [False, True]
    assert listed[1].manifest is not None and listed[1].manifest.count == len(CORPUS) + 1
    assert listed[1].status == "ok" and listed[1].to_dict()["count"] == len(CORPUS) + 1
    back = service.rollback()
    assert back.build_id == first.build_id and service.versions.current_id() == first.build_id
    with pytest.raises(StaleIndexError):
        service.related("n1")  # the rolled-back version does not have it...
    assert service.show("n1").id == "n1"  # ...but the store keeps it for the next build
    with pytest.raises(NotFoundError, match="no version older"):
        service.rollback()
    assert service.rollback(second.build_id).build_id == second.build_id
    assert service.related("n1", 2)


def test_rollback_refuses_an_unknown_or_damaged_version(service, tmp_path):
    first = service.build()
    add(service, tmp_path, [NEW])
    service.build()
    with pytest.raises(NotFoundError):
        service.rollback("20990101T000000.000000Z-abcdef")
    papers = service.versions.path(first.build_id) / "papers.jsonl"
    papers.write_text(papers.read_text().replace("Anoikis", "Anoixis"))  # same size, other bytes
    with pytest.raises(Exception, match="checksum"):
        service.rollback()
    assert service.list_versions()[1].current


def test_only_the_configured_number_of_versions_is_kept(make_service, model, tmp_path):
    service = make_service(factory=lambda config, settings: model)
    service.ingest([write(tmp_path / "c.jsonl", jsonl(CORPUS))])
    ids = [service.build().build_id for _ in range(4)]
    assert service.versions.build_ids() == ids[-2:]


def test_failed_build_keeps_serving_and_the_next_one_reuses_the_embeddings(service, model, monkeypatch, tmp_path):
    service.build()
    add(service, tmp_path, [NEW])

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(snapshot_module.LexicalBuilder, "finish", full_disk)
        with pytest.raises(StorageError, match="No space left on device"):
            service.build()
    assert service.related("a1", 2) and len(service.versions.build_ids()) == 1
    manifest = service.build()
    assert manifest.embedded == 0 and manifest.count == len(CORPUS) + 1


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_build_versions_rollback(index_dir, tmp_path):
    runner = CliRunner()
    obj = {"embedder_factory": lambda config, settings: FakeEmbedder(config)}
    corpus = write(tmp_path / "c.jsonl", jsonl(CORPUS))
    assert runner.invoke(main, ["ingest", str(corpus)], obj=obj).exit_code == 0
    first = runner.invoke(main, ["build"], obj=obj)
    assert first.exit_code == 0, first.output
    assert f"({len(CORPUS)} embedded, 0 from the cache)" in first.output
    runner.invoke(main, ["ingest", str(write(tmp_path / "n.jsonl", jsonl([NEW])))], obj=obj)
    second = runner.invoke(main, ["build", "--json"], obj=obj)
    manifest = json.loads(second.output)
    assert (manifest["embedded"], manifest["reused"]) == (1, len(CORPUS))
    full = json.loads(runner.invoke(main, ["build", "--full", "--json"], obj=obj).output)
    assert full["embedded"] == len(CORPUS) + 1
    listed = json.loads(runner.invoke(main, ["versions", "--json"], obj=obj).output)
    assert len(listed) == 2 and listed[-1]["current"] and listed[-1]["id"] == full["build_id"]
    text = runner.invoke(main, ["versions"], obj=obj).output
    assert text.splitlines()[-1].startswith("* " + full["build_id"])
    back = runner.invoke(main, ["rollback"], obj=obj)
    assert back.exit_code == 0 and manifest["build_id"] in back.output
    missing = runner.invoke(main, ["rollback", "--to", "nope"], obj=obj)
    assert missing.exit_code == 1 and "no version 'nope'" in missing.output


def test_cli_build_refuses_shards_of_another_model(index_dir, tmp_path):
    runner = CliRunner()
    obj = {"embedder_factory": lambda config, settings: FakeEmbedder(config)}
    runner.invoke(main, ["ingest", str(write(tmp_path / "c.jsonl", jsonl(CORPUS)))], obj=obj)
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "_embeddings.json").write_text(
        json.dumps({"format": "recommender-embedding-shards/1", "fingerprint": "0" * 20, "model": "other"})
    )
    result = runner.invoke(main, ["build", "--embeddings", str(shards)], obj=obj)
    assert result.exit_code == 1 and "made with model 'other'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivfpq"])
def test_approximate_index_kinds_record_their_recall_and_serve(index_dir, tmp_path, kind):
    rng = np.random.default_rng(0)
    words = ["anoikis", "STAT3", "IL-6", "fibroblast", "hypoxia", "glycolysis", "BIM", "ERK", "VEGF", "lactate"]
    records = [
        {"id": f"p{i}", "title": f"Paper {i}", "abstract": " ".join(rng.choice(words, size=12)) + f" token{i % 40}"}
        for i in range(600)
    ]
    settings = Settings(index_dir=index_dir, show_progress=False, index_kind=kind)
    service = Recommender(settings, embedder_factory=lambda config, settings: FakeEmbedder(config, 64))
    service.ingest([write(tmp_path / "many.jsonl", jsonl(records))])
    manifest = service.build()
    assert manifest.index_type == kind and manifest.index_params and 0.0 <= manifest.recall_at_10 <= 1.0
    again = Recommender(settings, embedder_factory=lambda config, settings: FakeEmbedder(config, 64))
    hits = again.related("p1", 5)
    assert len(hits) == 5 and "p1" not in {hit.id for hit in hits}
    listed = again.list_versions()[-1]
    assert listed.manifest is not None
    assert listed.manifest.index_type == kind and listed.manifest.recall_at_10 == manifest.recall_at_10


def test_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "RECOMMENDER_API_TOKEN": "t0k",
            "RECOMMENDER_INDEX_KIND": "hnsw",
            "RECOMMENDER_KEEP_VERSIONS": "3",
            "RECOMMENDER_CACHE_DIR": "/tmp/c",
        }
    )
    assert (settings.api_token, settings.index_kind, settings.keep_versions) == ("t0k", "hnsw", 3)
    assert str(settings.cache_path) == "/tmp/c" and "t0k" not in repr(settings)
    with pytest.raises(InvalidInputError, match="index kind"):
        Settings.from_env({"RECOMMENDER_INDEX_KIND": "annoy"})
