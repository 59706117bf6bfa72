"""Background jobs: long writes (rebuilds, index updates) run one at a time while queries keep being answered.

A running service must not block an HTTP request for the minutes a rebuild takes, nor run two builds of
one index at once. :class:`JobRunner` queues jobs on a single worker thread (so writes are serialised in
arrival order) and keeps each job's state and progress for ``GET /jobs/<id>``. A job's failure is recorded
in the same shape as an HTTP error body, never raised into the worker.

The queue is bounded and merges identical work: a job submitted with a ``merge_key`` that a job still
*queued* (not yet started) already has is that job — a build reads the store when it starts, so one queued
build serves every request that arrived before it began. 300 rebuild requests therefore cost one running
and one queued build, and a paper addition sent after them is indexed by the next build, not the 301st.
Beyond :data:`MAX_QUEUED` distinct queued jobs, :class:`~recommender.errors.QueueFullError` (429).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import NotFoundError, NotReadyError, QueueFullError, RecommenderError
from .progress import Progress

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
#: The id of the job the current thread runs, if any: lets log handlers tag a background build's records.
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_job", default=None)
Work = Callable[[Progress], Any]
#: Requests that may wait for a job at once (``wait=`` on writes). Each holds a server thread while it waits,
#: so they are capped well below the server's threads (8 by default): a request past the cap is answered
#: at once (202 + where to poll) instead of waiting, and waiting writes can never take the threads readers need.
MAX_WAITERS = 2
#: Distinct jobs that may wait behind the running one (identical ones merge and do not count twice).
MAX_QUEUED = 8


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One unit of background work and what is known about it so far."""

    id: str
    kind: str
    state: str = QUEUED
    step: str | None = None
    done: int = 0
    total: int | None = None
    steps: list[str] = field(default_factory=list)
    result: Any = None
    error: dict[str, Any] | None = None
    #: Jobs with the same key do the same work: a queued one absorbs later submissions (see the module doc).
    merge_key: str | None = None
    #: How many submissions this job answers (1 + the ones merged into it while it was queued).
    requests: int = 1
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in (SUCCEEDED, FAILED)

    def report(self, step: str, done: int, total: int | None) -> None:
        """Progress callback: the current step and how far it got."""
        if step != self.step:
            self.steps.append(step)
        self.step, self.done, self.total = step, done, total

    def wait(self, timeout: float | None) -> bool:
        return self._finished.wait(timeout)

    def to_dict(self) -> dict[str, Any]:
        progress = None
        if self.step is not None:
            fraction = round(self.done / self.total, 4) if self.total else None
            progress = {"step": self.step, "done": self.done, "total": self.total, "fraction": fraction}
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": progress,
            "steps": list(self.steps),
            "result": self.result,
            "error": self.error,
            "requests": self.requests,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class JobRunner:
    """A single-worker queue of jobs, remembering the most recent ``keep`` of them."""

    def __init__(self, keep: int = 200, max_queued: int = MAX_QUEUED) -> None:
        self._keep = keep
        self._max_queued = max_queued
        self._waiters = threading.BoundedSemaphore(MAX_WAITERS)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recommender-job")
        self._closed = False

    def submit(self, kind: str, work: Work, *, merge_key: str | None = None) -> Job:
        """Queue ``work(progress)``; its return value (JSON-serialisable) becomes the job's result.

        With ``merge_key``, a queued job with the same key is returned instead of queueing another (its
        ``requests`` count goes up). Raises :class:`QueueFullError` when :data:`MAX_QUEUED` jobs wait already.
        """
        with self._lock:
            if self._closed:
                raise NotReadyError("the server is shutting down; no new jobs are taken")
            queued = [job for job in self._jobs.values() if job.state == QUEUED]
            if merge_key is not None:
                for waiting in queued:
                    if waiting.merge_key == merge_key:
                        waiting.requests += 1
                        return waiting
            if len(queued) >= self._max_queued:
                raise QueueFullError(
                    f"{len(queued)} background jobs are already waiting; try again when they have run",
                    retry_after=30,
                )
            job = Job(id=uuid.uuid4().hex[:16], kind=kind, merge_key=merge_key)
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if not oldest.finished:
                    break
                self._jobs.popitem(last=False)
        self._executor.submit(self._run, job, work)
        return job

    def wait(self, job: Job, timeout: float) -> bool:
        """Wait up to ``timeout`` s for ``job`` if fewer than :data:`MAX_WAITERS` requests wait already;
        otherwise return at once. Returns whether the job has finished."""
        if job.finished or timeout <= 0:
            return job.finished
        if not self._waiters.acquire(blocking=False):
            return job.finished
        try:
            return job.wait(timeout)
        finally:
            self._waiters.release()

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r} (jobs are kept in memory while the service runs)")
        return job

    def active(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if not job.finished]

    def close(self, timeout: float) -> bool:
        """Stop taking jobs, drop queued ones and give the running one ``timeout`` seconds to finish.

        Returns whether nothing is left running. Builds publish atomically, so a job abandoned after this
        leaves the previous version current; dropped jobs are marked failed so pollers learn why.
        """
        with self._lock:
            self._closed = True
            pending = [job for job in self._jobs.values() if job.state == QUEUED]
        self._executor.shutdown(wait=False, cancel_futures=True)
        for job in pending:
            if job.state == QUEUED:
                job.error = {"code": "not_ready", "message": "the server shut down before this job started"}
                job.state, job.finished_at = FAILED, _now()
                job._finished.set()
        running = [job for job in self.active() if job.state == RUNNING]
        return all(job.wait(timeout) for job in running)

    def _run(self, job: Job, work: Work) -> None:
        with self._lock:  # under the lock: submit() merges only into jobs that have not started reading
            if job.state != QUEUED:  # dropped by close() meanwhile
                return
            job.state, job.started_at = RUNNING, _now()
        tagged = current_job.set(job.id)  # log records written by the work carry the job's id (web.observability)
        try:
            job.result = work(Progress(callback=job.report))
            job.state = SUCCEEDED
        except RecommenderError as error:
            job.error, job.state = error.to_dict()["error"], FAILED
        except Exception:  # a job must never take the worker down; the log has the traceback
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.error, job.state = {"code": "internal_error", "message": "the job failed; see the server log"}, FAILED
        finally:
            current_job.reset(tagged)
            job.finished_at = _now()
            job._finished.set()
