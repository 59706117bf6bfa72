"""Background jobs: long writes (rebuilds, index updates) run one at a time while queries keep being answered.

A running service must not block an HTTP request for the minutes a rebuild takes, nor run two builds of
one index at once. :class:`JobRunner` queues jobs on a single worker thread (so writes are serialised in
arrival order) and keeps each job's state and progress for ``GET /jobs/<id>``. A job's failure is recorded
in the same shape as an HTTP error body, never raised into the worker.
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

from .errors import NotFoundError, NotReadyError, RecommenderError
from .progress import Progress

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
#: The id of the job the current thread runs, if any: lets log handlers tag a background build's records.
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_job", default=None)
Work = Callable[[Progress], Any]


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
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class JobRunner:
    """A single-worker queue of jobs, remembering the most recent ``keep`` of them."""

    def __init__(self, keep: int = 200) -> None:
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recommender-job")
        self._closed = False

    def submit(self, kind: str, work: Work) -> Job:
        """Queue ``work(progress)``; its return value (JSON-serialisable) becomes the job's result."""
        job = Job(id=uuid.uuid4().hex[:16], kind=kind)
        with self._lock:
            if self._closed:
                raise NotReadyError("the server is shutting down; no new jobs are taken")
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if not oldest.finished:
                    break
                self._jobs.popitem(last=False)
        self._executor.submit(self._run, job, work)
        return job

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

    @staticmethod
    def _run(job: Job, work: Work) -> None:
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
