"""Micro-batching of query encodes (recommender.query_batching).

No assertion depends on how fast anything runs: the fake model is held inside a call with an event while the test
queues requests, so which requests share a batch is decided by the test, not by the scheduler. Waits have generous
bounds only so that a bug fails the test instead of hanging it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np
import pytest

from recommender.errors import ModelLoadError, QueueFullError
from recommender.model_profiles import model_config
from recommender.query_batching import BatchingEncoder, EncoderClosedError

WAIT = 30.0  # seconds: only ever reached when something is broken


class SlowFake:
    """A counting fake model: deterministic vectors per text; each call records its texts, signals ``entered`` and
    then waits for ``gate`` (set by default, so calls pass straight through)."""

    def __init__(self, dimension: int = 8) -> None:
        self.config = model_config(None)
        self.model_id = self.config.name
        self.dimension = dimension
        self.max_seq_length = 128
        self.batch_size = 32  # an extra attribute the wrapper must pass through
        self.calls: list[list[str]] = []
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()
        self.gate.set()
        self.failures: dict[int, BaseException] = {}  # call number (from 0) -> what that call raises
        self.rows_missing = 0

    def vector(self, text: str) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        return np.frombuffer(digest, dtype=np.uint8)[: self.dimension].astype(np.float32)  # dimension <= 32

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        number = len(self.calls)
        self.calls.append(list(texts))
        self.entered.release()
        assert self.gate.wait(WAIT), "the test never opened the gate"
        if number in self.failures:
            raise self.failures[number]
        rows = [self.vector(text) for text in texts]
        return np.array(rows[: len(rows) - self.rows_missing], dtype=np.float32).reshape(-1, self.dimension)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.zeros((len(texts), self.dimension), dtype=np.float32) + (2.0 if progress else 1.0)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return [len(text) > 10 for text in texts]


@pytest.fixture
def fake() -> SlowFake:
    return SlowFake()


@pytest.fixture
def encoder(fake: SlowFake):
    batching = BatchingEncoder(fake)
    yield batching
    fake.gate.set()
    assert batching.close(timeout=WAIT)


def hold_first_call(fake: SlowFake, encoder: BatchingEncoder, text: str = "first") -> Future:
    """Start one request and return once the model is inside its call, held there until ``fake.gate`` is set."""
    fake.entered = threading.Semaphore(0)  # only this call's entry counts
    fake.gate.clear()
    future = encoder.submit([text])
    assert fake.entered.acquire(timeout=WAIT), "the worker never called the model"
    return future


def expected(fake: SlowFake, texts: Sequence[str]) -> np.ndarray:
    """What encoding ``texts`` one by one gives."""
    return np.array([fake.vector(text) for text in texts], dtype=np.float32).reshape(-1, fake.dimension)


def test_stands_in_for_the_wrapped_embedder(fake: SlowFake, encoder: BatchingEncoder) -> None:
    assert (encoder.config, encoder.model_id, encoder.dimension, encoder.max_seq_length) == (
        fake.config,
        fake.model_id,
        8,
        128,
    )
    assert encoder.wrapped is fake and encoder.batch_size == 32  # anything else is passed through
    assert encoder.encode_documents(["a", "b"], progress=True).tolist() == [[2.0] * 8] * 2
    assert encoder.truncated(["short", "much longer than ten"]) == [False, True]
    assert encoder.encode_queries([]).shape == (0, 8)
    assert fake.calls == [[]]  # the empty call went straight to the model, not through the queue
    with pytest.raises(AttributeError):
        encoder.no_such_attribute  # noqa: B018


def test_a_lone_request_is_encoded_at_once(fake: SlowFake, encoder: BatchingEncoder, monkeypatch) -> None:
    # "No waiting window", shown without a clock: every timed wait of the worker is stretched to WAIT seconds and
    # only a notification ends it early. A worker that waited for company before encoding a lone request would
    # then make its caller time out; ours only waits for an empty queue to fill, so each wait finds it empty.
    queued_at_waits: list[int] = []
    real_wait = encoder._condition.wait

    def stretched_wait(timeout: float | None = None) -> bool:
        queued_at_waits.append(len(encoder._pending))
        return real_wait(WAIT)

    monkeypatch.setattr(encoder._condition, "wait", stretched_wait)
    # the first request starts the worker; the second finds it idle, waiting for work
    for text in ["a lone query", "another lone query"]:
        vectors = encoder.encode_queries([text], timeout=WAIT / 2)
        assert np.array_equal(vectors, expected(fake, [text]))
    assert fake.calls == [["a lone query"], ["another lone query"]]
    assert set(queued_at_waits) <= {0}
    assert encoder.stats() == {"batches": 2, "requests": 2, "texts": 2, "largest_batch": 1}


def test_concurrent_callers_get_exactly_their_own_rows(fake: SlowFake, encoder: BatchingEncoder) -> None:
    requests = [[f"query {i}"] + [f"query {i} extra {j}" for j in range(i % 3)] for i in range(24)]
    results: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(requests))

    def caller(i: int) -> None:
        start.wait(WAIT)
        results[i] = encoder.encode_queries(requests[i])

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(results) == list(range(len(requests)))
    for i, texts in enumerate(requests):
        assert np.array_equal(results[i], expected(fake, texts)), i
    assert sorted(text for call in fake.calls for text in call) == sorted(t for texts in requests for t in texts)
    assert len(fake.calls) == encoder.stats()["batches"] <= len(requests)


def test_callers_arriving_during_a_call_share_the_next_one(fake: SlowFake, encoder: BatchingEncoder) -> None:
    first = hold_first_call(fake, encoder)
    waiting = [encoder.submit([f"q{i}", f"q{i}b"] if i % 2 else [f"q{i}"]) for i in range(10)]
    fake.gate.set()
    assert np.array_equal(first.result(WAIT), expected(fake, ["first"]))
    for i, future in enumerate(waiting):
        texts = [f"q{i}", f"q{i}b"] if i % 2 else [f"q{i}"]
        assert np.array_equal(future.result(WAIT), expected(fake, texts))
    # one call for the ten waiting requests, their texts in the callers' order
    assert fake.calls == [
        ["first"],
        [text for i in range(10) for text in ([f"q{i}", f"q{i}b"] if i % 2 else [f"q{i}"])],
    ]
    assert encoder.stats() == {"batches": 2, "requests": 11, "texts": 16, "largest_batch": 15}


def test_a_batch_stays_within_its_bounds(fake: SlowFake) -> None:
    with BatchingEncoder(fake, max_batch=3, max_chars=12) as encoder:
        first = hold_first_call(fake, encoder)
        small = [encoder.submit([f"s{i}"]) for i in range(5)]
        big = encoder.submit(["b1", "b2", "b3", "b4"])  # over max_batch alone: still encoded, by itself
        long = [encoder.submit(["x" * 7]), encoder.submit(["y" * 7])]  # 14 characters together: two calls
        fake.gate.set()
        for future in [first, *small, big, *long]:
            future.result(WAIT)
    assert fake.calls == [["first"], ["s0", "s1", "s2"], ["s3", "s4"], ["b1", "b2", "b3", "b4"], ["x" * 7], ["y" * 7]]


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_works(
    fake: SlowFake, encoder: BatchingEncoder
) -> None:
    first = hold_first_call(fake, encoder)
    waiting = [encoder.submit([f"q{i}"]) for i in range(4)]
    failure = ModelLoadError("the model went away")
    fake.failures[1] = failure  # the call for the four waiting requests
    fake.gate.set()
    assert np.array_equal(first.result(WAIT), expected(fake, ["first"]))
    errors = []
    for future in waiting:
        with pytest.raises(ModelLoadError) as raised:
            future.result(WAIT)
        errors.append(raised.value)
    assert len(errors) == 4 and all(error is failure for error in errors)  # unchanged: type, code, status, message
    assert fake.calls[1] == ["q0", "q1", "q2", "q3"]
    assert np.array_equal(encoder.encode_queries(["again"]), expected(fake, ["again"]))


def test_a_model_answering_too_few_rows_fails_its_batch(fake: SlowFake, encoder: BatchingEncoder) -> None:
    first = hold_first_call(fake, encoder)
    waiting = [encoder.submit([f"q{i}"]) for i in range(3)]
    fake.gate.set()
    first.result(WAIT)
    assert all(future.result(WAIT).shape == (1, 8) for future in waiting)
    fake.rows_missing = 1  # a model answering with too few rows fails its batch instead of misaligning rows
    with pytest.raises(RuntimeError, match="0 vectors for 1 texts"):
        encoder.encode_queries(["short of a row"])
    fake.rows_missing = 0
    assert encoder.encode_queries(["fine"]).shape == (1, 8)


def test_a_caller_giving_up_does_not_disturb_the_worker(fake: SlowFake, encoder: BatchingEncoder) -> None:
    first = hold_first_call(fake, encoder)
    cancelled = encoder.submit(["cancelled"])
    assert cancelled.cancel()
    with pytest.raises(TimeoutError):
        encoder.encode_queries(["timed out"], timeout=0.01)  # the model is held: it cannot be answered in time
    kept = encoder.submit(["kept"])
    fake.gate.set()
    first.result(WAIT)
    assert np.array_equal(kept.result(WAIT), expected(fake, ["kept"]))
    assert fake.calls == [["first"], ["kept"]]  # requests withdrawn before their batch started are left out
    # a caller that gives up once its batch has started: the rows are computed and dropped, the worker goes on
    abandoned = hold_first_call(fake, encoder, "abandoned")
    assert not abandoned.cancel()
    fake.gate.set()
    assert encoder.encode_queries(["after"]).shape == (1, 8)


def test_the_queue_is_bounded(fake: SlowFake) -> None:
    with BatchingEncoder(fake, max_pending=2) as encoder:
        first = hold_first_call(fake, encoder)  # taken by the worker: no longer waiting
        waiting = [encoder.submit(["a"]), encoder.submit(["b"])]
        with pytest.raises(QueueFullError) as raised:
            encoder.submit(["c"])
        assert raised.value.http_status == 429 and raised.value.retry_after == 1
        fake.gate.set()
        for future in [first, *waiting]:
            future.result(WAIT)
        assert encoder.encode_queries(["d"]).shape == (1, 8)


def test_close_fails_waiting_callers_and_refuses_new_ones(fake: SlowFake) -> None:
    encoder = BatchingEncoder(fake)
    first = hold_first_call(fake, encoder)
    waiting = [encoder.submit(["a"]), encoder.submit(["b"])]
    assert encoder.close(timeout=0) is False  # the held call is still running
    for future in waiting:
        with pytest.raises(EncoderClosedError, match="closed before this search was encoded") as raised:
            future.result(WAIT)
        assert raised.value.http_status == 503
    with pytest.raises(EncoderClosedError, match="shutting down"):
        encoder.encode_queries(["late"])
    fake.gate.set()
    assert np.array_equal(first.result(WAIT), expected(fake, ["first"]))  # the running call is still delivered
    assert encoder.close(timeout=WAIT) is True
    assert fake.calls == [["first"]]
    assert encoder.encode_documents(["still works"]).shape == (1, 8)  # builds do not go through the queue


def test_close_of_an_unused_encoder_starts_nothing(fake: SlowFake) -> None:
    encoder = BatchingEncoder(fake)
    assert encoder.close() is True and encoder._worker is None


def test_an_idle_worker_ends_and_the_next_request_starts_another(fake: SlowFake) -> None:
    with BatchingEncoder(fake, idle_seconds=0.01) as encoder:
        encoder.encode_queries(["one"])
        worker = encoder._worker
        if worker is not None:
            worker.join(WAIT)
            assert not worker.is_alive()
        assert np.array_equal(encoder.encode_queries(["two"]), expected(fake, ["two"]))


def test_many_threads_many_requests(fake: SlowFake, encoder: BatchingEncoder) -> None:
    problems: list[str] = []

    def caller(worker: int) -> None:
        for i in range(40):
            texts = [f"w{worker} r{i} t{j}" for j in range(1 + (worker + i) % 3)]
            if not np.array_equal(encoder.encode_queries(texts), expected(fake, texts)):
                problems.append(f"{worker}/{i}")

    threads = [threading.Thread(target=caller, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert problems == []
    assert encoder.stats()["requests"] == 8 * 40


def test_settings_are_checked(fake: SlowFake) -> None:
    with pytest.raises(ValueError):
        BatchingEncoder(fake, max_batch=0)
