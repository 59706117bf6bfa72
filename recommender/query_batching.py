"""Micro-batching of query encodes across concurrent requests.

Why: the process runs one forward pass at a time (a lock shared by every loaded model: torch or ONNX Runtime
already uses every core), so 50 concurrent searches used to mean 50 forward passes in a row, each paying the
fixed cost of a model call (tokenising, Python dispatch, small matrix products that keep the cores half idle).
One call over the 50 short texts costs little more than a call over one, so :class:`BatchingEncoder` makes
concurrent callers share calls.

How: a caller puts its texts and a :class:`~concurrent.futures.Future` on a bounded queue and waits for the
future. One daemon worker takes every request waiting *now* (up to ``max_batch`` texts and ``max_chars``
characters), encodes them in one call and gives each caller its own rows, in its own order. There is no
waiting window: a lone request goes to the model at once, so an idle server adds no latency; under load, the
requests that arrive during one forward pass form the next batch, so the batch size follows the load by itself.

Everything else (document encodes for builds, ``truncated``, the model's attributes) passes straight through to
the wrapped embedder, so the wrapper can stand in for it anywhere an :class:`~recommender.embedding.Embedder`
is expected.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import QueueFullError, RecommenderError

if TYPE_CHECKING:
    from .embedding import Embedder

#: Texts encoded in one call at most. sentence-transformers splits a call into chunks of its own batch size
#: anyway; the bound keeps one call (and so the wait of the requests behind it) short.
MAX_BATCH = 64
#: Characters encoded in one call at most (a few pasted abstracts), for the same reason.
MAX_CHARS = 32_000
#: Requests waiting at most; beyond, callers get :class:`~recommender.errors.QueueFullError` (429) rather
#: than a wait longer than any client would stay for.
MAX_PENDING = 1024
#: Seconds the worker stays without work before its thread ends (the next request starts another), so an idle
#: service, or one a test forgot to close, holds no thread.
IDLE_SECONDS = 30.0


class EncoderClosedError(RecommenderError):
    """The query encoder was closed (the service is shutting down) before this request was encoded."""

    code = "shutting_down"
    http_status = 503


@dataclass(eq=False)
class _Request:
    """One caller's texts and the future its rows are delivered through."""

    texts: list[str]
    chars: int
    future: Future[np.ndarray] = field(default_factory=Future)


class BatchingEncoder:
    """An :class:`~recommender.embedding.Embedder` whose ``encode_queries`` batches concurrent callers.

    Thread-safe. Errors of the wrapped ``encode_queries`` reach every caller of the failed batch unchanged (the
    same exception object, so the service's error types and HTTP statuses are kept); the next batch is encoded
    as usual. A caller that gives up (a timeout, ``future.cancel()``) before its batch starts is left out of it;
    after, its rows are computed and dropped. :meth:`close` fails the requests still waiting.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_batch: int = MAX_BATCH,
        max_chars: int = MAX_CHARS,
        max_pending: int = MAX_PENDING,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        if max_batch < 1 or max_chars < 1 or max_pending < 1 or idle_seconds <= 0:
            raise ValueError("max_batch, max_chars, max_pending and idle_seconds must be positive")
        self._wrapped = embedder
        # The Embedder attributes, copied: they are fixed once a model is loaded.
        self.config = embedder.config
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension
        self.max_seq_length = embedder.max_seq_length
        self.max_batch = max_batch
        self.max_chars = max_chars
        self.max_pending = max_pending
        self.idle_seconds = idle_seconds
        self._pending: deque[_Request] = deque()
        self._condition = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._stats = {"batches": 0, "requests": 0, "texts": 0, "largest_batch": 0}

    @property
    def wrapped(self) -> Embedder:
        """The embedder that does the encoding."""
        return self._wrapped

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: the wrapped embedder's own extras (batch_size,
        # count_truncated, a fake's counters), so the wrapper stands in for it completely.
        if name.startswith("__") or name == "_wrapped":
            raise AttributeError(name)
        return getattr(self._wrapped, name)

    # ------------------------------------------------------------------------------------ pass-through
    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Builds encode thousands of documents in one call already: nothing to batch."""
        return self._wrapped.encode_documents(texts, progress=progress)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return self._wrapped.truncated(texts)

    # -------------------------------------------------------------------------------------- batching
    def encode_queries(self, texts: Sequence[str], *, timeout: float | None = None) -> np.ndarray:
        """The query vectors of ``texts``, one row each, in order, encoded together with whatever other callers'
        queries are waiting. Past ``timeout`` seconds: :class:`TimeoutError`, and the request is withdrawn if
        its batch has not started."""
        if not texts:
            return self._wrapped.encode_queries([])
        future = self.submit(texts)
        try:
            return future.result(timeout)
        except FutureTimeoutError:
            future.cancel()
            raise TimeoutError(f"no query vectors after {timeout} s") from None

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        """Queue ``texts`` for the next batch; the future gives their rows (or the batch's error).

        Raises :class:`QueueFullError` when ``max_pending`` requests wait already and
        :class:`EncoderClosedError` after :meth:`close`."""
        request = _Request(list(texts), sum(len(text) for text in texts))
        with self._condition:
            if self._closed:
                raise EncoderClosedError("the query encoder is closed: the service is shutting down")
            if len(self._pending) >= self.max_pending:
                raise QueueFullError(
                    f"{len(self._pending)} searches are waiting for the model already; try again shortly",
                    retry_after=1,
                )
            self._pending.append(request)
            if self._worker is None or not self._worker.is_alive():  # started lazily, again after idling
                self._worker = threading.Thread(target=self._run, name="query-batching", daemon=True)
                self._worker.start()
            self._condition.notify()
        return request.future

    def stats(self) -> dict[str, int]:
        """Model calls made (``batches``), requests and texts they served, and the largest batch in texts."""
        with self._condition:
            return dict(self._stats)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Refuse new requests, fail the waiting ones with :class:`EncoderClosedError`, and wait up to ``timeout``
        seconds for a batch being encoded to be delivered. Returns whether the worker has stopped. Idempotent."""
        with self._condition:
            self._closed = True
            waiting = list(self._pending)
            self._pending.clear()
            worker = self._worker
            self._condition.notify_all()
        for request in waiting:
            if request.future.set_running_or_notify_cancel():  # False: its caller cancelled it already
                request.future.set_exception(
                    EncoderClosedError("the query encoder was closed before this search was encoded")
                )
        if worker is None or worker is threading.current_thread():
            return True
        worker.join(timeout)
        return not worker.is_alive()

    def __enter__(self) -> BatchingEncoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- worker
    def _run(self) -> None:
        while (batch := self._take()) is not None:
            self._encode(batch)

    def _take(self) -> list[_Request] | None:
        """Every request waiting now, within the bounds (the first one whatever its size); ``None``: stop (closed,
        or idle for ``idle_seconds``). Decided under the lock, so :meth:`submit` never counts on a leaving worker."""
        with self._condition:
            while not self._pending:
                if self._closed or (not self._condition.wait(self.idle_seconds) and not self._pending):
                    if self._worker is threading.current_thread():
                        self._worker = None
                    return None
            batch: list[_Request] = []
            texts = chars = 0
            while self._pending:
                request = self._pending[0]
                if batch and (texts + len(request.texts) > self.max_batch or chars + request.chars > self.max_chars):
                    break
                self._pending.popleft()
                if request.future.set_running_or_notify_cancel():  # False: cancelled by its caller, left out
                    batch.append(request)
                    texts += len(request.texts)
                    chars += request.chars
            return batch

    def _encode(self, batch: list[_Request]) -> None:
        """One model call for the whole batch; each caller gets its own rows (a copy, not a view of the others')."""
        if not batch:
            return
        texts = [text for request in batch for text in request.texts]
        with self._condition:  # counted before the callers hear back, so they see their own batch counted
            self._stats["batches"] += 1
            self._stats["requests"] += len(batch)
            self._stats["texts"] += len(texts)
            self._stats["largest_batch"] = max(self._stats["largest_batch"], len(texts))
        try:
            vectors = self._wrapped.encode_queries(texts)
            if len(vectors) != len(texts):
                raise RuntimeError(f"the embedder returned {len(vectors)} vectors for {len(texts)} texts")
        except BaseException as error:  # whatever it is, every caller must hear of it rather than wait forever
            for request in batch:
                request.future.set_exception(error)
            return
        start = 0
        for request in batch:
            stop = start + len(request.texts)
            request.future.set_result(np.array(vectors[start:stop]))
            start = stop
