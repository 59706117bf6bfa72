"""The onnx-int8 backend: the ``backend`` setting, and the real bundled model exported, quantised and cached.

The export (5-15 s on two busy cores) runs once per module into a temporary RECOMMENDER_MODEL_CACHE;
the tests that need no real export fake the exporter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recommender import embedding, onnx_backend
from recommender.embedding import SentenceTransformerEmbedder
from recommender.errors import InvalidInputError, ModelLoadError
from recommender.model_profiles import ModelConfig, from_manifest, model_config
from recommender.settings import DEFAULT_MODEL, Settings

TEXTS = [
    "Cancer-associated fibroblasts promote tumour invasion through IL-6 and STAT3 signalling.",
    "Anoikis resistance allows detached epithelial cells to survive and metastasise.",
    "Vitamin D supplementation and the risk of falls in older adults: a randomised trial.",
    "Does CRISPR screening identify regulators of T cell exhaustion?",
]


def test_backend_setting_is_validated_and_recorded():
    assert model_config(None).backend == "auto"
    assert model_config(None).settings()["backend"] == "torch"  # the fp32 family, however it is run
    config = model_config("default", backend="onnx-int8")
    assert config.backend == "onnx-int8"
    assert config.settings()["backend"] == "onnx-int8"
    assert config.settings() != model_config(None).settings()  # so caches and manifests keep them apart
    with pytest.raises(InvalidInputError, match="backend must be one of"):
        model_config(None, backend="tensorrt")
    with pytest.raises(InvalidInputError, match="backend"):
        ModelConfig(name="x", document_model="x", backend="")


def test_manifests_without_a_backend_load_as_the_fp32_family():
    old = {key: value for key, value in model_config(None).settings().items() if key != "backend"}
    loaded = from_manifest(DEFAULT_MODEL, old | {"setting_from_the_future": 1})
    assert loaded.backend == "auto" and loaded.settings()["backend"] == "torch"


def test_onnx_backend_runs_on_the_cpu_only():
    with pytest.raises(ModelLoadError, match="CPU only"):
        SentenceTransformerEmbedder(model_config(None, backend="onnx-int8"), device="cuda")


def test_a_missing_model_folder_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        SentenceTransformerEmbedder(model_config(str(tmp_path / "nowhere"), backend="onnx-int8"))


def test_a_folder_that_is_no_model_is_a_model_load_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOMMENDER_MODEL_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "notes.txt").write_text("no weights here", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="could not load model"):
        SentenceTransformerEmbedder(model_config(str(folder), backend="onnx-int8"))
    assert not any((tmp_path / "cache").iterdir())  # nothing half-written left behind


def test_a_failed_export_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECOMMENDER_MODEL_CACHE", str(cache))

    def crash(model: str, config: ModelConfig, folder: Path) -> None:
        (folder / onnx_backend.FP32_FILE).write_bytes(b"half a model")
        raise RuntimeError("killed mid-export")

    monkeypatch.setattr(embedding, "_export_onnx", crash)
    with pytest.raises(ModelLoadError, match="killed mid-export"):
        SentenceTransformerEmbedder(model_config(None, backend="onnx-int8"))
    assert list(cache.iterdir()) == []


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("onnx-cache")
        patch.setenv("RECOMMENDER_MODEL_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def onnx_embedder(model_cache: Path) -> SentenceTransformerEmbedder:
    """The bundled model on the onnx-int8 backend, exported into this module's cache."""
    return SentenceTransformerEmbedder(model_config(None, backend="onnx-int8"), threads=2)


@pytest.mark.e2e
def test_int8_vectors_are_close_to_torch(onnx_embedder, real_factory):
    torch_embedder = real_factory(model_config(None), Settings())
    documents = onnx_embedder.encode_documents(TEXTS)
    queries = onnx_embedder.encode_queries(TEXTS[-1:])
    assert onnx_embedder.dimension == 384 and onnx_embedder.max_seq_length == 256
    assert documents.shape == (len(TEXTS), 384) and documents.dtype == np.float32
    assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    assert np.all(np.sum(documents * torch_embedder.encode_documents(TEXTS), axis=1) >= 0.98)
    assert float(queries[0] @ torch_embedder.encode_queries(TEXTS[-1:])[0]) >= 0.98
    assert onnx_embedder.encode_documents([]).shape == (0, 384)


@pytest.mark.e2e
def test_length_sorted_batches_keep_the_input_order(onnx_embedder):
    """Batching by token length must put each vector back on its own row, whatever the batch size.

    Not bit for bit: int8 activations get one scale per batch, so a vector moves a little with its batch mates
    (cosine ~0.99-0.999 here); a row landing on another text's vector would score 0.3 at most."""
    texts = [TEXTS[0] * 12, "Short.", TEXTS[1], TEXTS[2] * 3, "BRCA1", TEXTS[3]]
    one_by_one = np.stack([onnx_embedder.encode_documents([text])[0] for text in texts])
    onnx_embedder.batch_size = 4
    try:
        batched = onnx_embedder.encode_documents(texts)
    finally:
        onnx_embedder.batch_size = 32
    assert np.all(np.sum(one_by_one * batched, axis=1) > 0.97)


@pytest.mark.e2e
def test_count_truncated_agrees_with_torch(onnx_embedder, real_factory):
    torch_embedder = real_factory(model_config(None), Settings())
    texts = [TEXTS[0], TEXTS[1] * 20, TEXTS[2] * 5]
    assert onnx_embedder.count_truncated(texts) == torch_embedder.count_truncated(texts) == 1


@pytest.mark.e2e
def test_a_second_load_reuses_the_cached_export(onnx_embedder, model_cache, monkeypatch):
    (folder,) = [path for path in model_cache.iterdir()]
    model = folder / onnx_backend.MODEL_FILE
    written = model.stat().st_mtime_ns
    meta = onnx_backend.ExportMeta.read(folder)
    assert meta.int8_cosine_mean is not None and meta.int8_cosine_mean >= 0.98
    assert not (folder / onnx_backend.FP32_FILE).exists()  # only the int8 graph is kept

    def no_export(*args: object) -> None:
        raise AssertionError("the cached export should have been used")

    monkeypatch.setattr(embedding, "_export_onnx", no_export)
    again = SentenceTransformerEmbedder(model_config(None, backend="onnx-int8"), threads=1)
    assert [path for path in model_cache.iterdir()] == [folder]
    assert model.stat().st_mtime_ns == written
    assert np.allclose(again.encode_documents(TEXTS[:2]), onnx_embedder.encode_documents(TEXTS[:2]), atol=1e-5)


@pytest.mark.e2e
def test_the_session_uses_the_configured_threads(onnx_embedder, model_cache):
    single = SentenceTransformerEmbedder(model_config(None, backend="onnx-int8"), threads=1)
    options = single._documents._session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_onnx_runtime_tools_leave_the_logging_setup_alone():
    """ONNX Runtime's quantisers log through the root logger, which installs a handler on an unconfigured one."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with onnx_backend._quiet_root_logger():
        root.handlers.clear()
        logging.warning("would install a stderr handler on the root logger")
        assert root.handlers
    assert root.handlers == handlers and root.level == level
