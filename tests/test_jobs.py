"""Background jobs (recommender.jobs): work runs on one worker thread in arrival order and reports its state,
progress, result or error; identical queued work merges, the queue is bounded, waiting is capped, and
close() drops what has not started and waits for what has."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from recommender.errors import InvalidInputError, NotFoundError, NotReadyError, QueueFullError
from recommender.jobs import FAILED, MAX_QUEUED, MAX_WAITERS, QUEUED, RUNNING, SUCCEEDED, JobRunner, current_job


@pytest.fixture()
def runner() -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.close(10)


def _blocked_runner() -> tuple[JobRunner, threading.Event]:
    """A runner whose worker is busy with a job that runs until the event is set (moved from
    test_hostile_load.py)."""
    runner, release = JobRunner(), threading.Event()
    running = threading.Event()

    def block(progress):
        running.set()
        release.wait(30)

    runner.submit("block", block)
    assert running.wait(10)
    return runner, release


# ------------------------------------------------------------------------------------- running work
def test_a_job_runs_in_the_background_and_reports_its_state_and_result(runner):
    started, release = threading.Event(), threading.Event()

    def work(progress):
        started.set()
        assert release.wait(10)
        return {"count": 3}

    job = runner.submit("rebuild", work)  # returns while the work waits
    assert started.wait(10)
    assert job.state == RUNNING and not job.finished and runner.active() == [job]
    assert job.to_dict()["result"] is None and job.to_dict()["started_at"] and not job.to_dict()["finished_at"]
    assert not runner.wait(job, 0.05)
    release.set()
    assert runner.wait(job, 10) and job.state == SUCCEEDED and job.finished
    body = job.to_dict()
    assert body["result"] == {"count": 3} and body["error"] is None and body["kind"] == "rebuild"
    assert body["created_at"] <= body["started_at"] <= body["finished_at"]
    assert runner.get(job.id) is job and runner.active() == []


def test_progress_is_reported_by_step(runner):
    halfway, release = threading.Event(), threading.Event()

    def work(progress):
        with progress.step("embed", total=4) as step:
            step.advance(3)
            halfway.set()
            release.wait(10)
            step.advance(1)
        with progress.step("lexical index") as step:
            step.advance(7)

    job = runner.submit("rebuild", work)
    assert halfway.wait(10)
    assert job.to_dict()["progress"] == {"step": "embed", "done": 3, "total": 4, "fraction": 0.75}  # as polled
    release.set()
    assert job.wait(10) and job.state == SUCCEEDED
    body = job.to_dict()
    assert body["steps"] == ["embed", "lexical index"]
    assert body["progress"] == {"step": "lexical index", "done": 7, "total": None, "fraction": None}


def test_a_job_that_reported_nothing_has_no_progress(runner):
    job = runner.submit("quick", lambda progress: None)
    assert job.wait(10) and job.to_dict()["progress"] is None and job.to_dict()["steps"] == []


def test_job_runner_records_failures_without_dying():
    """Moved from test_web_writes.py."""
    runner = JobRunner()

    def bad(progress):
        raise InvalidInputError("nope")

    def crash(progress):
        raise RuntimeError("boom")

    jobs = [runner.submit("bad", bad), runner.submit("crash", crash), runner.submit("ok", lambda progress: 42)]
    for job in jobs:
        assert job.wait(5)
    assert jobs[0].error == {"code": "invalid_input", "message": "nope"} and jobs[0].state == FAILED
    assert jobs[1].error["code"] == "internal_error" and "boom" not in jobs[1].error["message"]
    assert jobs[2].result == 42 and jobs[2].state == SUCCEEDED
    assert runner.close(5)


def test_jobs_run_one_at_a_time_in_arrival_order(runner):
    order, running, overlaps = [], [0], []
    lock = threading.Lock()

    def work(name):
        def run(progress):
            with lock:
                running[0] += 1
                overlaps.append(running[0])
            time.sleep(0.02)
            order.append(name)
            with lock:
                running[0] -= 1

        return run

    jobs = [runner.submit("write", work(name)) for name in "abcde"]
    assert all(job.wait(10) for job in jobs)
    assert order == list("abcde") and max(overlaps) == 1


def test_the_work_knows_which_job_runs_it(runner):
    job = runner.submit("tagged", lambda progress: current_job.get())
    assert job.wait(10) and job.result == job.id
    assert current_job.get() is None  # this thread runs no job


def test_an_unknown_job_is_not_found(runner):
    with pytest.raises(NotFoundError, match="no job 'nope'"):
        runner.get("nope")


def test_only_the_most_recent_jobs_are_remembered():
    runner = JobRunner(keep=2)
    try:
        jobs = []
        for index in range(3):
            jobs.append(runner.submit("quick", lambda progress, index=index: index))
            assert jobs[-1].wait(10)
        with pytest.raises(NotFoundError):
            runner.get(jobs[0].id)
        assert [runner.get(job.id).result for job in jobs[1:]] == [1, 2]
    finally:
        runner.close(10)


# --------------------------------------------------------------------------------- queue and waiting
def test_identical_queued_jobs_merge_and_the_queue_is_bounded() -> None:
    """Moved from test_hostile_load.py."""
    runner, release = _blocked_runner()
    try:
        jobs = {runner.submit("rebuild", lambda progress: None, merge_key="build").id for _ in range(300)}
        assert len(jobs) == 1
        assert runner.get(jobs.pop()).requests == 300
        for index in range(MAX_QUEUED - 1):
            runner.submit("other", lambda progress: None, merge_key=f"k{index}")
        with pytest.raises(QueueFullError) as caught:
            runner.submit("one too many", lambda progress: None)
        assert caught.value.retry_after
    finally:
        release.set()
        runner.close(10)


def test_a_running_job_absorbs_no_later_request():
    """A build that has started may have read the store already: a request after it gets a new job."""
    runner, release = JobRunner(), threading.Event()
    started = threading.Event()

    def build(progress):
        started.set()
        release.wait(10)

    try:
        first = runner.submit("rebuild", build, merge_key="build")
        assert started.wait(10)
        second = runner.submit("rebuild", lambda progress: "second", merge_key="build")
        assert second is not first and second.state == QUEUED and first.requests == 1
        assert runner.submit("rebuild", lambda progress: "third", merge_key="build") is second
        release.set()
        assert second.wait(10) and second.result == "second" and second.requests == 2
    finally:
        release.set()
        runner.close(10)


def test_waiting_writes_are_capped_so_readers_keep_threads() -> None:
    """Moved from test_hostile_load.py."""
    runner, release = _blocked_runner()
    job = runner.submit("queued", lambda progress: None)
    results: list[float] = []

    def waiter() -> None:
        began = time.monotonic()
        runner.wait(job, 5)
        results.append(time.monotonic() - began)

    threads = [threading.Thread(target=waiter) for _ in range(MAX_WAITERS + 3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        assert len(results) == 3 and max(results) < 0.5  # the ones past the cap answered at once
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
        runner.close(10)


# ---------------------------------------------------------------------------------------------- close
def test_close_drops_queued_jobs_waits_for_the_running_one_and_takes_no_more():
    runner, release = _blocked_runner()
    running = runner.active()[0]
    queued = runner.submit("queued", lambda progress: "never")
    threading.Timer(0.2, release.set).start()
    assert runner.close(10)  # the running job finished within the time given
    assert running.state == SUCCEEDED
    assert queued.state == FAILED and queued.finished and queued.result is None
    assert queued.error == {"code": "not_ready", "message": "the server shut down before this job started"}
    with pytest.raises(NotReadyError, match="shutting down"):
        runner.submit("late", lambda progress: None)


def test_close_reports_a_job_still_running_after_the_timeout():
    runner, release = _blocked_runner()
    try:
        began = time.monotonic()
        assert runner.close(0.2) is False
        assert time.monotonic() - began < 5 and runner.active()[0].state == RUNNING
    finally:
        release.set()
