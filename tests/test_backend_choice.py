"""The ``auto`` backend: measured once, interchangeable vectors only, recorded; fp32 and bf16 share an index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recommender.backend_choice import MIN_COSINE, Choice, ChoiceRecord, bf16_capable, calibrate
from recommender.manifest import Manifest
from recommender.model_profiles import from_manifest, model_config, vector_family


def fake_encoder(noise: float, delay_per_text: float = 0.0, seed: int = 0):
    """Unit vectors of a fixed random projection of the text's hash, plus ``noise`` (a lossy precision)."""
    import time

    def encode(texts: list[str]) -> np.ndarray:
        rng = np.random.default_rng(seed)
        rows = []
        for text in texts:
            base = np.random.default_rng(abs(hash(text)) % (2**32)).normal(size=32)
            rows.append(base + noise * rng.normal(size=32))
            time.sleep(delay_per_text)
        return np.asarray(rows, dtype=np.float32)

    return encode


def test_a_faster_interchangeable_candidate_is_chosen():
    choice = calibrate(
        {"torch": fake_encoder(0.0, 0.002), "torch-bf16": fake_encoder(0.001)}, device="cpu", features=["amx_bf16"]
    )
    assert choice.backend == "torch-bf16"
    assert choice.measured["torch-bf16"]["min_cosine"] >= MIN_COSINE
    assert choice.measured["torch"]["min_cosine"] == pytest.approx(1.0)
    assert "fp32" in choice.reason and choice.cpu_features == ["amx_bf16"]


def test_a_candidate_whose_vectors_drift_is_never_chosen_however_fast():
    choice = calibrate(
        {"torch": fake_encoder(0.0, 0.002), "torch-bf16": fake_encoder(0.3)}, device="cpu", features=["amx_bf16"]
    )
    assert choice.backend == "torch"
    assert choice.measured["torch-bf16"]["min_cosine"] < MIN_COSINE


def test_a_candidate_that_is_not_faster_is_not_chosen():
    choice = calibrate(
        {"torch": fake_encoder(0.0), "torch-bf16": fake_encoder(0.0, 0.002)}, device="cpu", features=["amx_bf16"]
    )
    assert choice.backend == "torch" and "no candidate" in choice.reason


def test_bf16_needs_native_support():
    assert bf16_capable(["avx512_bf16"]) and bf16_capable(["amx_bf16", "avx2"])
    assert not bf16_capable(["avx512f", "avx512_vnni", "avx2"])


def test_the_decision_is_recorded_per_machine_and_model(tmp_path):
    record = ChoiceRecord(tmp_path / "backend_choice.json")
    key = record.key("model", "torch 2.x", "cpu", ["amx_bf16"])
    assert record.get(key) is None
    record.put(key, Choice("torch-bf16", "cpu", ["amx_bf16"], {"torch-bf16": {"texts_per_second": 90.0}}, "fast"))
    assert record.get(key) == Choice(
        "torch-bf16", "cpu", ["amx_bf16"], {"torch-bf16": {"texts_per_second": 90.0}}, "fast"
    )
    assert record.key("model", "torch 2.x", "cpu", ["avx2"]) != key  # another CPU decides again
    (tmp_path / "backend_choice.json").write_text("{not json", encoding="utf-8")
    assert record.get(key) is None  # a damaged record costs a calibration, not a crash
    assert ChoiceRecord(None).get(key) is None


def test_fp32_and_bf16_are_one_family_of_vectors_int8_its_own():
    assert vector_family("auto") == vector_family("torch") == vector_family("torch-bf16") == "torch"
    assert vector_family("onnx-int8") == "onnx-int8"
    assert model_config(None, backend="torch-bf16").settings() == model_config(None).settings()
    assert model_config(None, backend="onnx-int8").settings() != model_config(None).settings()
    # An index recorded as "torch" (before auto existed, or built by any fp32-family backend) is queried with auto.
    assert from_manifest("m", {"document_model": "m", "backend": "torch"}).backend == "auto"
    assert from_manifest("m", {"document_model": "m", "backend": "onnx-int8"}).backend == "onnx-int8"


def test_a_build_records_how_its_vectors_were_computed(built):
    manifest = Manifest.read(built.versions.current_path())
    assert manifest.encoder  # the fake embedder has no describe(): the backend asked for is recorded
    assert json.dumps(manifest.encoder)
    assert built.status()["encoder"] == manifest.encoder


def test_queries_encoded_by_any_fp32_family_backend_find_the_neighbours_an_fp32_index_holds():
    """The promise that lets an index move between machines: vectors of torch fp32, bf16 autocast and the
    fused fp32 ONNX graph are interchangeable. Real model, 100 real SciFact abstracts and 20 real claims (bf16
    is emulated, slowly, on CPUs without native support: it encodes the short claims and a few abstracts)."""
    from conftest import shared_path

    from recommender.embedding import SentenceTransformerEmbedder

    with shared_path("data", "scifact", "corpus.jsonl").open(encoding="utf-8") as handle:
        corpus = [json.loads(line) for _, line in zip(range(100), handle, strict=False)]
    with shared_path("data", "scifact", "queries.jsonl").open(encoding="utf-8") as handle:
        claims = [json.loads(line)["text"] for _, line in zip(range(20), handle, strict=False)]
    texts = [f"{doc['title']}. {doc['abstract']}" for doc in corpus]
    fp32 = SentenceTransformerEmbedder(model_config(None, backend="torch"))
    index = fp32.encode_documents(texts)
    top_fp32 = np.argsort(-(fp32.encode_queries(claims) @ index.T), axis=1)[:, :5]
    for backend in ("onnx", "torch-bf16"):
        other = SentenceTransformerEmbedder(model_config(None, backend=backend))
        assert other.describe()["backend"] == backend
        sample = texts if backend == "onnx" else texts[:8]
        assert np.sum(index[: len(sample)] * other.encode_documents(sample), axis=1).min() >= MIN_COSINE
        top = np.argsort(-(other.encode_queries(claims) @ index.T), axis=1)[:, :5]
        assert (top[:, 0] == top_fp32[:, 0]).mean() >= 0.95, backend
        assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top, top_fp32, strict=True)]) >= 0.95, backend
