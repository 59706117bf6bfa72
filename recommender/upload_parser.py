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
- a record limit: more than ``max_papers`` papers (or ``max_records`` records read, rejections included) is
  refused whole (413), so an upload cannot bypass the per-request paper limit of ``POST /papers``.

The child writes what it read as JSON lines to a file in the upload's private temporary folder; the parent
reads that back, so nothing is unpickled from the child and the store is written only by the parent.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BusyError, ParseTimeoutError, StorageError, TooLargeError, failure_reason
from .ingest import Rejected, read_paths
from .paper import Paper

#: Papers one request may add, whether as JSON records (``POST /papers``) or as an uploaded file.
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


class UploadParser:
    """Parses uploads in child processes, at most ``limits.concurrent`` at a time."""

    def __init__(self, limits: UploadLimits | None = None) -> None:
        self.limits = limits or UploadLimits()
        self._slots = threading.BoundedSemaphore(self.limits.concurrent)

    def parse(self, data: bytes, label: str) -> list[tuple[str | None, Paper | Rejected]]:
        """``(position, paper or rejection)`` for every record of ``data``; each paper's ``source`` is ``label``."""
        if not self._slots.acquire(blocking=False):
            raise BusyError(
                f"{self.limits.concurrent} uploads are being read already; try again in a few seconds", retry_after=5
            )
        try:
            with tempfile.TemporaryDirectory(prefix="recommender-upload-") as folder:
                source, out = Path(folder) / "upload", Path(folder) / "parsed.jsonl"
                try:
                    source.write_bytes(data)
                except OSError as error:
                    raise StorageError(f"cannot keep the upload for reading: {failure_reason(error)}") from error
                self._run_child(source, out, label)
                return list(_read_results(out, self.limits))
        finally:
            self._slots.release()

    def _run_child(self, source: Path, out: Path, label: str) -> None:
        child = _context().Process(
            target=_parse_child,
            args=(str(source), str(out), label, self.limits),
            name="recommender-upload-parser",
            daemon=True,
        )
        child.start()
        child.join(self.limits.seconds)
        if child.is_alive():
            child.kill()
            child.join()
            raise ParseTimeoutError(
                f"reading the upload took longer than {self.limits.seconds:g} s and was stopped; nothing was stored. "
                "Split the file, or ingest it with `recommender ingest` on the server"
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
