"""The ``auto`` backend: measured once, interchangeable vectors only, recorded; fp32 and bf16 share an index;
documents in the batch size measured fastest unless one is set; one forward pass at a time in the process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from recommender import embedding
from recommender.backend_choice import (
    BATCH_SIZES,
    BATCH_TEXTS,
    CALIBRATION_TEXTS,
    MIN_COSINE,
    Choice,
    ChoiceRecord,
    bf16_capable,
    calibrate,
    tune_batch_size,
)
from recommender.embedding import SentenceTransformerEmbedder
from recommender.encoders import default_embedder_factory
from recommender.manifest import Manifest
from recommender.model_profiles import from_manifest, model_config, vector_family
from recommender.settings import Settings


def fake_encoder(noise: float, delay_per_text: float = 0.0, seed: int = 0):
    """Unit vectors of a fixed random projection of the text's hash, plus ``noise`` (a lossy precision)."""

    def encode(texts: list[str], batch_size: int = 32) -> np.ndarray:
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
        {"torch": fake_encoder(0.0, 0.002), "torch-bf16": fake_encoder(0.001)},
        device="cpu",
        features=["amx_bf16"],
        batch_sizes=(),
    )
    assert choice.backend == "torch-bf16"
    assert choice.measured["torch-bf16"]["min_cosine"] >= MIN_COSINE
    assert choice.measured["torch"]["min_cosine"] == pytest.approx(1.0)
    assert "fp32" in choice.reason and choice.cpu_features == ["amx_bf16"]


def test_a_candidate_whose_vectors_drift_is_never_chosen_however_fast():
    choice = calibrate(
        {"torch": fake_encoder(0.0, 0.002), "torch-bf16": fake_encoder(0.3)},
        device="cpu",
        features=["amx_bf16"],
        batch_sizes=(),
    )
    assert choice.backend == "torch"
    assert choice.measured["torch-bf16"]["min_cosine"] < MIN_COSINE


def test_a_candidate_that_is_not_faster_is_not_chosen():
    choice = calibrate(
        {"torch": fake_encoder(0.0), "torch-bf16": fake_encoder(0.0, 0.002)},
        device="cpu",
        features=["amx_bf16"],
        batch_sizes=(),
    )
    assert choice.backend == "torch" and "no candidate" in choice.reason


class FakeClock:
    """A clock that moves only when a fake encoder says its pass took so long: no timing in the assertions."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def timed_encoder(
    clock: FakeClock, seconds: dict[int, Sequence[float]], calls: list[int] | None = None, backend_pass: float = 1.0
):
    """An encoder whose timed passes over the batch sizes' texts take ``seconds[batch_size]`` on ``clock`` (one
    value per pass, in turn; the last one repeats), and the backends' pass over the calibration texts
    ``backend_pass``; warm-ups take none. Vectors from :func:`fake_encoder`."""
    vectors = fake_encoder(0.0)
    taken = {size: list(passes) for size, passes in seconds.items()}

    def encode(texts: list[str], batch_size: int = 32) -> np.ndarray:
        if texts == BATCH_TEXTS:
            clock.now += taken[batch_size].pop(0) if len(taken[batch_size]) > 1 else taken[batch_size][0]
            if calls is not None:
                calls.append(batch_size)
        elif texts == CALIBRATION_TEXTS:
            clock.now += backend_pass
        return vectors(texts)

    return encode


def test_the_fastest_batch_size_of_the_chosen_backend_is_recorded():
    clock = FakeClock()
    torch_calls: list[int] = []
    onnx_calls: list[int] = []
    torch = timed_encoder(clock, {8: [9.0], 16: [9.0], 32: [9.0], 64: [9.0]}, torch_calls, backend_pass=2.0)
    onnx = timed_encoder(clock, {8: [1.0], 16: [0.5], 32: [0.8], 64: [0.9]}, onnx_calls, backend_pass=1.0)
    choice = calibrate({"torch": torch, "onnx": onnx}, device="cpu", features=["avx2"], clock=clock)
    assert choice.backend == "onnx" and choice.batch_size == 16
    per_pass = {8: 1.0, 16: 0.5, 32: 0.8, 64: 0.9}
    assert choice.measured["batch_sizes"] == {str(size): round(64 / seconds, 1) for size, seconds in per_pass.items()}
    assert choice.measured["onnx"]["texts_per_second"] == len(CALIBRATION_TEXTS)  # the backends' pass: 1 s
    assert choice.reason.startswith("onnx is 2.00x fp32") and choice.reason.endswith("batch 16 is 1.60x batch 32")
    assert torch_calls == []  # only the chosen backend's batch sizes are timed
    assert onnx_calls == [32, 8, 16, 64, 16, 32]  # the default first; the fastest and the default timed twice
    assert Choice.from_dict(json.loads(json.dumps(choice.to_dict()))) == choice


def test_batch_sizes_within_noise_keep_the_default():
    clock = FakeClock()
    close = timed_encoder(clock, {8: [1.0], 16: [0.97], 32: [1.0], 64: [1.02]})
    choice = tune_batch_size(Choice("torch", "cpu", reason="fp32 only candidate"), close, clock=clock)
    assert choice.batch_size == 32 and choice.reason.startswith("fp32 only candidate; batch 32 kept")
    assert "batch 16 measured 1.03x, within noise (needs 1.05x)" in choice.reason
    assert choice.measured["batch_sizes"]["16"] > choice.measured["batch_sizes"]["32"]  # measured, not chosen
    # A 10% gain when the two passes of each size differ by 30% is noise too.
    clock = FakeClock()
    jittery = timed_encoder(clock, {8: [1.3], 16: [0.9, 1.17], 32: [1.0, 1.3], 64: [1.3]})
    choice = tune_batch_size(Choice("torch", "cpu"), jittery, clock=clock)
    assert choice.batch_size == 32 and "within noise (needs 1.30x)" in choice.reason
    assert choice.measured["batch_noise"]["pass_spread"] == pytest.approx(0.3)
    # The default itself fastest: kept after one pass of each size, and said so.
    clock, calls = FakeClock(), []
    default = timed_encoder(clock, {8: [2.0], 16: [1.5], 32: [1.0], 64: [1.2]}, calls)
    assert tune_batch_size(Choice("torch", "cpu"), default, clock=clock).reason == "batch 32 was fastest"
    assert sorted(calls) == sorted(BATCH_SIZES)


def test_batch_sizes_are_not_timed_beyond_the_budget():
    """A model whose pass takes 30 s (a large one on a small CPU): timing 3 more sizes and a second round would
    take minutes, so the default is kept after its one pass."""
    clock, calls = FakeClock(), []
    slow = timed_encoder(clock, {8: [20.0], 16: [10.0], 32: [30.0], 64: [40.0]}, calls)
    choice = tune_batch_size(Choice("torch", "cpu"), slow, clock=clock)
    assert calls == [32] and choice.batch_size == 32 and "~150 s (> 60 s)" in choice.reason
    assert choice.measured["batch_sizes"] == {"32": round(64 / 30, 1)}


class FakeModel:
    """What SentenceTransformerEmbedder needs of a loaded model; counts the forward passes running at once."""

    max_seq_length = 256
    running = 0
    most_at_once = 0
    guard = threading.Lock()

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batch_sizes: list[int] = []

    def get_embedding_dimension(self) -> int:
        return 4

    def encode_document(self, texts: list[str], *, batch_size: int, **_: object) -> np.ndarray:
        self.batch_sizes.append(batch_size)
        with FakeModel.guard:
            FakeModel.running += 1
            FakeModel.most_at_once = max(FakeModel.most_at_once, FakeModel.running)
        time.sleep(self.delay)
        with FakeModel.guard:
            FakeModel.running -= 1
        return np.ones((len(texts), 4), dtype=np.float32)

    encode_query = encode_document


@pytest.fixture
def fake_models(monkeypatch):
    """SentenceTransformerEmbedder over FakeModels: no torch, no files, no network."""
    loaded: list[FakeModel] = []

    def load(model: str, config: object, device: str, threads: int) -> FakeModel:
        loaded.append(FakeModel())
        return loaded[-1]

    monkeypatch.setattr(embedding, "_load", load)
    monkeypatch.setattr(embedding, "_accelerator", lambda: None)
    return loaded


def test_an_explicit_batch_size_wins_over_the_recorded_one(fake_models, monkeypatch, tmp_path):
    record = tmp_path / "backend_choice.json"
    measured = Choice("torch", "cpu", ["avx2"], {"batch_sizes": {"16": 50.0}}, "batch 16 is 1.2x", batch_size=16)
    monkeypatch.setattr(SentenceTransformerEmbedder, "_choose", lambda self: measured)
    first = SentenceTransformerEmbedder(model_config(None), choice_file=record)  # calibrates (faked), records
    assert first.batch_size == 16 and first.query_batch_size == 32
    assert first.describe()["batch_size"] == 16 and first.describe()["calibration"]["batch_sizes"] == {"16": 50.0}
    monkeypatch.setattr(SentenceTransformerEmbedder, "_choose", lambda self: pytest.fail("calibrated twice"))
    again = SentenceTransformerEmbedder(model_config(None), choice_file=record)
    again.encode_documents(["a", "b"])
    again.encode_queries(["q"])
    assert fake_models[-1].batch_sizes == [16, 32]  # documents in the measured size, queries in the default
    given = SentenceTransformerEmbedder(model_config(None), choice_file=record, batch_size=8)
    given.encode_documents(["a"])
    given.encode_queries(["q"])
    assert given.batch_size == 8 and fake_models[-1].batch_sizes == [8, 8]
    # Through the settings: RECOMMENDER_BATCH_SIZE wins, unset (None) means the measured size.
    cache = {"cache_dir": tmp_path}
    env = Settings.from_env({"RECOMMENDER_BATCH_SIZE": "64"}, **cache)
    assert default_embedder_factory(model_config(None), env).batch_size == 64  # type: ignore[attr-defined]
    assert Settings().batch_size is None
    assert default_embedder_factory(model_config(None), Settings(**cache)).batch_size == 16  # type: ignore[attr-defined]
    # Another backend asked for outright is not calibrated: the default, or the size given.
    assert SentenceTransformerEmbedder(model_config(None, backend="torch"), choice_file=record).batch_size == 32


def test_a_choice_recorded_before_batch_sizes_loads_with_the_default(fake_models, monkeypatch, tmp_path):
    record = tmp_path / "backend_choice.json"
    monkeypatch.setattr(SentenceTransformerEmbedder, "_choose", lambda self: Choice("onnx", "cpu", reason="old"))
    SentenceTransformerEmbedder(model_config(None), choice_file=record)
    data = json.loads(record.read_text(encoding="utf-8"))
    for entry in data.values():  # as an older version wrote it: no batch_size field at all
        del entry["batch_size"]
    record.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(SentenceTransformerEmbedder, "_choose", lambda self: pytest.fail("calibrated again"))
    loaded = SentenceTransformerEmbedder(model_config(None), choice_file=record)
    assert loaded.backend == "onnx" and loaded.choice is not None and loaded.choice.batch_size is None
    assert loaded.batch_size == 32


def test_auto_measures_a_batch_size_even_without_a_backend_to_compare(fake_models, monkeypatch, tmp_path):
    monkeypatch.setattr(embedding, "cpu_features", lambda: ["avx2"])
    monkeypatch.setattr(SentenceTransformerEmbedder, "_onnx_candidate", lambda self: None)
    chosen = SentenceTransformerEmbedder(model_config(None), choice_file=tmp_path / "choice.json")
    assert chosen.choice is not None and chosen.choice.backend == "torch"
    assert chosen.choice.batch_size in BATCH_SIZES and chosen.batch_size == chosen.choice.batch_size
    assert set(chosen.choice.measured["batch_sizes"]) == {str(size) for size in BATCH_SIZES}
    assert chosen.choice.reason.startswith("no candidate") and "batch" in chosen.choice.reason


def test_two_loaded_models_never_run_forward_passes_at_once(fake_models):
    """A build's model and a server's query model (or two indexes' models) share the cores: one pass at a time."""
    first = SentenceTransformerEmbedder(model_config(None, backend="torch"))
    second = SentenceTransformerEmbedder(model_config(None, backend="onnx"))
    for model in fake_models:
        model.delay = 0.01
    FakeModel.running = FakeModel.most_at_once = 0
    calls = [first.encode_documents, first.encode_queries, second.encode_documents, second.encode_queries] * 3
    threads = [threading.Thread(target=call, args=(["text"],)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FakeModel.most_at_once == 1 and FakeModel.running == 0


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
    assert built.status().to_dict()["encoder"] == manifest.encoder


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


def test_a_decision_of_an_earlier_calibration_method_is_measured_again(monkeypatch):
    """The key of a decision names the calibration's method: one made on the old (mostly empty) texts is not
    reused once the method changed."""
    from recommender import backend_choice

    key = backend_choice.ChoiceRecord.key("model", "versions", "cpu", ["avx2"])
    monkeypatch.setattr(backend_choice, "CALIBRATION_METHOD", backend_choice.CALIBRATION_METHOD + 1)
    assert backend_choice.ChoiceRecord.key("model", "versions", "cpu", ["avx2"]) != key
