"""Reading an uploaded document where a hostile one cannot stall the server: a child process with limits.

An upload is whatever a stranger sends. The readers are written to be linear in their input, but a parser
bug, a pathological document or a decompression bomb must still not freeze the server: a regular-expression
search holds the GIL, so a slow parse in a request thread stops every other request (``/health`` included).
So an upload is parsed in a short-lived child process (started from a ``forkserver`` that has the ingest
modules imported, so a child starts in milliseconds and inherits none of the server's threads) with

- a wall-clock limit: a child still running after ``seconds`` is killed and the upload refused
  (:class:`~recommender.errors.ParseTimeoutError`, 422);
- an address-space limit (``RLIMIT_AS``): a document that needs more memory is refused (413), and the
  server's own memory never sees it;
- a record limit: more than ``max_papers`` papers (or ``max_records`` records read, rejections included) in
  one file is refused whole (413), so a file cannot bypass the per-request paper limit of ``POST /papers``.

A request with several files reads them one after another in one parse slot (:meth:`UploadParser.reserved`),
each with these limits.

The child writes what it read as JSON lines to a file in the upload's private temporary folder; the parent
reads that back, so nothing is unpickled from the child and the store is written only by the parent.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BusyError, ParseTimeoutError, StorageError, TooLargeError, failure_reason
from .ingest import Rejected, read_paths
from .paper import Paper

#: Papers one request may add as JSON records (``POST /papers``), and one uploaded file (or paste) may hold.
MAX_PAPERS_PER_REQUEST = 10_000
_START_LOCK = threading.Lock()
_CONTEXT: Any = None


@dataclass(frozen=True)
class UploadLimits:
    """How much one upload may cost (see the module docstring); defaults documented in the README."""

    seconds: float = 30.0
    memory_bytes: int = 2 * 1024**3
    max_papers: int = MAX_PAPERS_PER_REQUEST
    max_records: int = 2 * MAX_PAPERS_PER_REQUEST
    #: Uploads parsed at the same time; more wait for nobody: they are refused as busy.
    concurrent: int = 2

    @property
    def request_seconds(self) -> float:
        """The time all the files of one request may take together (twice one file's): a request of many
        slow files cannot hold a parse slot for minutes; files left when it is spent are not read."""
        return 2 * self.seconds


class UploadParser:
    """Parses uploads in child processes, at most ``limits.concurrent`` at a time."""

    def __init__(self, limits: UploadLimits | None = None) -> None:
        self.limits = limits or UploadLimits()
        self._slots = threading.BoundedSemaphore(self.limits.concurrent)
        self._held = threading.local()  # whether this thread holds a slot already (see reserved)

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Hold one of the ``concurrent`` parse slots for every :meth:`parse` of this thread inside the block.

        A request carrying several files reads them one after another in one slot: it is refused as busy at
        its start, before anything is stored, or not at all. Nested blocks (and ``parse`` itself) reuse the
        slot already held.
        """
        if getattr(self._held, "slot", False):
            yield
            return
        if not self._slots.acquire(blocking=False):
            raise BusyError(
                f"{self.limits.concurrent} uploads are being read already; try again in a few seconds", retry_after=5
            )
        self._held.slot = True
        self._held.deadline = time.monotonic() + self.limits.request_seconds
        try:
            yield
        finally:
            self._held.slot = False
            self._slots.release()

    def parse(self, data: bytes, label: str) -> list[tuple[str | None, Paper | Rejected]]:
        """``(position, paper or rejection)`` for every record of ``data``; each paper's ``source`` is ``label``."""
        with self.reserved(), tempfile.TemporaryDirectory(prefix="recommender-upload-") as folder:
            source, out = Path(folder) / "upload", Path(folder) / "parsed.jsonl"
            try:
                source.write_bytes(data)
            except OSError as error:
                raise StorageError(f"cannot keep the upload for reading: {failure_reason(error)}") from error
            self._run_child(source, out, label)
            return list(_read_results(out, self.limits))

    def _run_child(self, source: Path, out: Path, label: str) -> None:
        child = _context().Process(
            target=_parse_child,
            args=(str(source), str(out), label, self.limits),
            name="recommender-upload-parser",
            daemon=True,
        )
        left = self._held.deadline - time.monotonic()
        if left <= 0:
            raise ParseTimeoutError(
                f"not read: the files of one request may take {self.limits.request_seconds:g} s together and the "
                "earlier ones used it; nothing was stored from it. Send it again on its own"
            )
        child.start()
        child.join(min(self.limits.seconds, left))
        if child.is_alive():
            child.kill()
            child.join()
            raise ParseTimeoutError(
                f"reading the upload took longer than {min(self.limits.seconds, left):g} s and was stopped; nothing "
                "was stored. Split the file, or ingest it with `recommender ingest` on the server"
            )
        if child.exitcode != 0:
            raise TooLargeError(
                "reading the upload failed (it needed more than "
                f"{self.limits.memory_bytes // 1024**2} MB of memory, or the reader crashed); nothing was stored"
            )


def _context() -> Any:
    """The forkserver context, started once with the ingest readers imported (fast children, no threads)."""
    global _CONTEXT
    with _START_LOCK:
        if _CONTEXT is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["recommender.upload_parser"])
            _CONTEXT = context
        return _CONTEXT


def _parse_child(source: str, out: str, label: str, limits: UploadLimits) -> None:
    """In the child: read ``source``, write one JSON line per record to ``out``, then a closing status line."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    papers = records = 0
    status: dict[str, Any] = {"status": "ok"}
    with open(out, "w", encoding="utf-8") as handle:
        try:
            for _, position, item in read_paths([Path(source)]):
                records += 1
                if isinstance(item, Paper):
                    papers += 1
                    item.source = label
                    line: dict[str, Any] = {"position": position, "paper": item.to_dict()}
                else:
                    line = {"position": position, "rejected": item.reason, "too_large": item.too_large}
                if papers > limits.max_papers or records > limits.max_records:
                    status = {"status": "too_many", "papers": papers, "records": records}
                    break
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        except MemoryError:
            status = {"status": "memory"}
        handle.write(json.dumps(status) + "\n")


def _read_results(out: Path, limits: UploadLimits) -> Iterator[tuple[str | None, Paper | Rejected]]:
    lines = out.read_text(encoding="utf-8").splitlines()
    status = json.loads(lines[-1]) if lines else {"status": "crashed"}
    if status.get("status") == "too_many":
        raise TooLargeError(
            f"the upload holds more than {limits.max_papers:,} papers (or {limits.max_records:,} records); "
            "nothing was stored. Split it, or ingest it with `recommender ingest` on the server"
        )
    if status.get("status") == "memory":
        raise TooLargeError(
            f"reading the upload needed more than {limits.memory_bytes // 1024**2} MB of memory; nothing was stored"
        )
    if status.get("status") != "ok":
        raise TooLargeError("the upload could not be read (the reader stopped early); nothing was stored")
    for line in lines[:-1]:
        record = json.loads(line)
        if "paper" in record:
            yield record["position"], Paper.from_dict(record["paper"])
        else:
            yield record["position"], Rejected(record["rejected"], record["position"], bool(record.get("too_large")))
