"""Embedding with Ray Data into shards that the build's embedding cache imports, on a local Ray instance.

Ray is required here (CI installs the ``ray`` extra): a missing ray fails these tests rather than skipping
them. Ray starts once for the module (it takes seconds) with two CPUs: one model actor plus the read and
write tasks. The real bundled model embeds a small synthetic corpus end to end, and the vectors are compared
with what the same model gives locally.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from recommender.distributed import RaySummary, document_text, embed_with_ray
from recommender.embedding import SentenceTransformerEmbedder
from recommender.embedding_cache import SHARD_MANIFEST, EmbeddingCache, fingerprint, text_key
from recommender.errors import InvalidInputError, ModelLoadError
from recommender.ingest import read_paths
from recommender.model_profiles import model_config
from recommender.paper import Paper

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")]

LONG = " ".join(["Tumour-associated macrophages reshape the immune microenvironment of glioblastoma."] * 40)
CORPUS = [
    {"id": "d1", "title": "Anoikis resistance in lung cancer", "abstract": "TRIM32 degrades CHEK2 to promote "
     "anoikis resistance and metastasis in non-small cell lung cancer."},
    {"pmid": "40000002", "title": "Brain <i>metastasis</i> fibroblasts", "abstract": "<p>Cancer-associated "
     "fibroblasts drive brain metastasis through IL26 &amp; CX3CL1 signalling.</p>"},
    {"doi": "10.1000/x3", "TI": "Gut microbiota and colitis", "AB": "Short-chain fatty acids from the gut "
     "microbiota protect against experimental colitis in mice."},
    {"title": "Only a title, no abstract"},
    {"abstract": "An untitled abstract about insulin resistance in type 2 diabetes and hepatic steatosis."},
    {"id": "long", "title": "Macrophages in glioblastoma", "abstract": LONG},
]  # fmt: skip


def corpus_text() -> str:
    return "".join(json.dumps(record) + "\n" for record in CORPUS) + "[1, 2, 3]\nnot json at all\n"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    path.write_text(corpus_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shards(local_ray: None, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RaySummary]:
    out = tmp_path_factory.mktemp("ray") / "shards"
    summary = embed_with_ray([corpus], out, model_config(None), batch_size=2, concurrency=1)
    return out, summary


def copy_shards(source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / "copy"))


def ingested_texts(corpus: Path) -> list[str]:
    """The texts a local build embeds for this corpus: ingest's papers, joined by the model's document_text."""
    config = model_config(None)
    papers = [item for _, _, item in read_paths([corpus]) if isinstance(item, Paper)]
    return [config.document_text(paper.title, paper.abstract) for paper in papers]


def test_real_model_shards_equal_local_vectors(shards: tuple[Path, RaySummary], corpus: Path, tmp_path: Path) -> None:
    out, summary = shards
    config = model_config(None)
    assert summary.read == 8 and summary.embedded == 5 and summary.skipped == 3
    assert summary.dimension == 384 and summary.fingerprint == fingerprint(config)
    assert summary.to_dict()["out_dir"] == str(out) and summary.to_dict()["skipped"] == 3
    manifest = json.loads((out / SHARD_MANIFEST).read_text())
    assert manifest["count"] == 5 and manifest["model"] == config.name and manifest["settings"] == config.settings()
    assert manifest["max_seq_length"] == 256  # the bundled model's window, so a build can name it

    cache = EmbeddingCache(tmp_path / "cache", fingerprint(config), 384)
    assert cache.import_shards(out) == 5
    texts = ingested_texts(corpus)
    keys = [text_key(text) for text in texts]
    found = cache.get(keys)
    assert len(texts) == 5 and set(found) == set(keys)  # the build would embed nothing

    local = SentenceTransformerEmbedder(config)
    expected = local.encode_documents(texts)
    for key, vector in zip(keys, expected, strict=True):
        assert float(found[key] @ vector) > 0.999
    assert cache.truncated_count(keys) == local.count_truncated(texts) == 1


def test_keys_follow_ingest_cleaning() -> None:
    config = model_config(None)
    line = json.dumps(CORPUS[1])
    assert document_text(config, line) == (
        "Brain metastasis fibroblasts. Cancer-associated fibroblasts drive brain metastasis through IL26 & CX3CL1 "
        "signalling."
    )
    assert document_text(config, json.dumps(CORPUS[3])) is None  # ingest rejects a paper without an abstract
    assert document_text(config, "[1, 2]") is None
    assert document_text(config, "{broken") is None


def test_shards_without_manifest_are_refused(shards: tuple[Path, RaySummary], tmp_path: Path) -> None:
    folder = copy_shards(shards[0], tmp_path)
    (folder / SHARD_MANIFEST).unlink()
    cache = EmbeddingCache(tmp_path / "cache", fingerprint(model_config(None)), 384)
    with pytest.raises(InvalidInputError, match="missing"):
        cache.import_shards(folder)
    assert cache.count() == 0


def test_shards_of_another_model_are_refused(shards: tuple[Path, RaySummary], tmp_path: Path) -> None:
    other = model_config(None, document_prefix="passage: ")
    cache = EmbeddingCache(tmp_path / "cache", fingerprint(other), 384)
    with pytest.raises(InvalidInputError, match="fingerprint"):
        cache.import_shards(shards[0])
    assert cache.count() == 0


def test_incomplete_shards_are_refused(shards: tuple[Path, RaySummary], tmp_path: Path) -> None:
    folder = copy_shards(shards[0], tmp_path)
    manifest = json.loads((folder / SHARD_MANIFEST).read_text())
    (folder / SHARD_MANIFEST).write_text(json.dumps({**manifest, "count": manifest["count"] + 1}))
    cache = EmbeddingCache(tmp_path / "cache", manifest["fingerprint"], 384)
    with pytest.raises(InvalidInputError, match="incomplete"):
        cache.import_shards(folder)
    assert cache.count() == 0


def test_bad_inputs_are_refused_before_ray_starts(corpus: Path, tmp_path: Path) -> None:
    config = model_config(None)
    with pytest.raises(InvalidInputError, match="no such file"):
        embed_with_ray([tmp_path / "missing.jsonl"], tmp_path / "out", config)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="not empty"):
        embed_with_ray([corpus], tmp_path / "busy", config)
    assert (tmp_path / "busy" / "notes.txt").exists()
    with pytest.raises(ModelLoadError, match="does not exist"):
        embed_with_ray([corpus], tmp_path / "out", model_config(str(tmp_path / "no-such-model")))


def test_overwrite_empties_old_shards_and_worker_errors_reach_the_caller(
    local_ray: None, shards: tuple[Path, RaySummary], corpus: Path, tmp_path: Path
) -> None:
    folder = copy_shards(shards[0], tmp_path)
    unknown_model = model_config("no-such-org/no-such-model")  # a hub name: only the worker finds it missing
    with pytest.raises(InvalidInputError, match="already holds"):
        embed_with_ray([corpus], folder, unknown_model)
    with pytest.raises(ModelLoadError, match="could not load model 'no-such-org/no-such-model'"):
        embed_with_ray([corpus], folder, unknown_model, overwrite=True)
    assert not (folder / SHARD_MANIFEST).exists()  # the old run's shards are gone, nothing half-new is accepted


def test_cli_embed_ray_then_build_embeds_nothing(local_ray: None, corpus: Path, index_dir: Path, tmp_path: Path):
    """The documented path: `embed-ray` writes shards, `ingest` + `build --embeddings` reuse every vector."""
    from click.testing import CliRunner

    from recommender.cli import main

    runner = CliRunner()
    out = tmp_path / "shards"
    embedded = runner.invoke(main, ["embed-ray", str(corpus), "--out", str(out), "--workers", "1", "--json"])
    assert embedded.exit_code == 0, embedded.output
    summary = json.loads(embedded.stdout)
    assert summary["embedded"] == 5 and summary["workers"] == 1
    assert runner.invoke(main, ["ingest", str(corpus)]).exit_code == 0
    built = runner.invoke(main, ["build", "--embeddings", str(out), "--json"])
    assert built.exit_code == 0, built.output
    manifest = json.loads(built.stdout)
    assert (manifest["embedded"], manifest["reused"], manifest["count"]) == (0, 5, 5)
    assert manifest["truncated"] == 1  # the long abstract, as recorded by the Ray workers
    assert manifest["max_seq_length"] == 256  # recorded by the import, not left unknown
    related = runner.invoke(main, ["related", "d1", "-k", "2", "--json"])
    assert related.exit_code == 0 and len(json.loads(related.stdout)) == 2
