"""Embedding a corpus too big for one machine with Ray Data, into shards that ``build`` imports.

Embedding is the only step of a build whose cost grows past one machine (the rest is seconds), so only it is
distributed, and with an existing engine rather than one of our own: Ray Data reads the JSONL corpus, a pool
of actors each loads the model once and embeds batches (``map_batches`` with a class), and Ray's Parquet
writer stores ``key``/``vector`` shards. The manifest (:data:`~recommender.embedding_cache.SHARD_MANIFEST`)
is written last and atomically, so a run that died half-way leaves a folder that
:meth:`~recommender.embedding_cache.EmbeddingCache.import_shards` refuses.

Keys are the cache keys of exactly the text a local build would embed: each line is read with the same field
rules and validation as ``recommender ingest`` and joined by the model's ``document_text``. A build over the
same papers then finds every vector in its cache and embeds nothing.

This is the only module that imports ray (lazily: the rest of the package works without the extra).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import model_location
from .embedding_cache import SHARD_FORMAT, SHARD_MANIFEST, fingerprint, text_key
from .errors import InvalidInputError, NothingIngestedError, RecommenderError, RemoteServiceError
from .fileio import atomic_write_text
from .ingest import expand_paths
from .ingest.fields import fields_from_mapping
from .ingest.records import RawRecord, to_paper
from .model_profiles import ModelConfig
from .paper import Paper

INSTALL_HINT = "pip install 'recommender[ray]'"
DEFAULT_BATCH_SIZE = 256  # rows per map_batches call: big enough that length-sorted encoding pads little
ROWS_PER_FILE = 50_000  # ~75 MB of 384-d vectors per Parquet shard, instead of one small file per batch


@dataclass(frozen=True)
class RaySummary:
    """What :func:`embed_with_ray` did: lines read, papers embedded, the shards written and by how many workers."""

    out_dir: Path
    #: The model's cache fingerprint (the shards' manifest has it too; ``build`` checks they match).
    fingerprint: str
    model: str
    dimension: int
    #: JSONL lines read; ``skipped`` of them were not papers with an abstract (``ingest`` would reject them).
    read: int
    embedded: int
    shards: int
    workers: int
    seconds: float

    @property
    def skipped(self) -> int:
        return self.read - self.embedded

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``recommender embed-ray --json``."""
        return {
            "out_dir": str(self.out_dir),
            "fingerprint": self.fingerprint,
            "model": self.model,
            "dimension": self.dimension,
            "read": self.read,
            "embedded": self.embedded,
            "skipped": self.skipped,
            "shards": self.shards,
            "workers": self.workers,
            "seconds": self.seconds,
        }


def embed_with_ray(
    inputs: Sequence[Path | str],
    out_dir: Path | str,
    config: ModelConfig,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int | None = None,
    num_cpus_per_worker: float = 1,
    address: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> RaySummary:
    """Embed the papers of JSONL ``inputs`` with a Ray actor pool and write shards plus manifest to ``out_dir``.

    ``concurrency`` is the number of model replicas (actors, one model each), by default what the machine or
    cluster has room for; each reserves ``num_cpus_per_worker`` CPUs and gives torch that many threads.
    ``address=None`` starts a private local Ray instance (stopped afterwards); an address (``"auto"``,
    ``"ray://head:10001"``) joins an existing cluster, whose nodes must have this package installed and see
    ``inputs`` and ``out_dir`` at the same paths (shared storage). A Ray session already started in this
    process is used as it is. Returns a summary: lines read, papers embedded, lines skipped, shard files.
    """
    ray = _import_ray()
    if batch_size < 1 or (concurrency is not None and concurrency < 1) or num_cpus_per_worker <= 0:
        raise InvalidInputError("batch size, workers and CPUs per worker must be positive")
    paths = _input_paths(inputs)
    out = Path(out_dir)
    if address is None:
        _check_local_model(config)
    _prepare_out_dir(out, overwrite=overwrite)  # last of the checks: with overwrite it deletes old shards
    started = time.monotonic()
    local_workers = concurrency or _default_workers(os.cpu_count() or 1, num_cpus_per_worker)
    with _ray_session(ray, address, num_cpus=local_workers * num_cpus_per_worker + 1):
        _configure_data(ray, progress)
        workers = concurrency or _cluster_workers(ray, num_cpus_per_worker)
        lines = ray.data.read_text(paths, drop_empty_lines=True)
        read = _run(lines.count)
        if not read:
            raise NothingIngestedError(f"no records in {', '.join(paths)}")
        embedded = lines.map_batches(
            _EmbedBatch,
            fn_constructor_kwargs={"config": config, "threads": max(1, int(num_cpus_per_worker))},
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=num_cpus_per_worker,
        )
        _run(lambda: embedded.write_parquet(str(out), min_rows_per_file=ROWS_PER_FILE))
    count, dimension, files = _written(out)
    if not count:
        raise NothingIngestedError(f"none of the {read} records in {', '.join(paths)} has an abstract to embed")
    key = fingerprint(config)
    manifest = {
        "format": SHARD_FORMAT,
        "fingerprint": key,
        "model": config.name,
        "settings": config.settings(),
        "dimension": dimension,
        "max_seq_length": declared_window(config),
        "count": count,
    }
    _write_manifest(out, manifest)
    return RaySummary(
        out_dir=out,
        fingerprint=key,
        model=config.name,
        dimension=dimension,
        read=read,
        embedded=count,
        shards=files,
        workers=workers,
        seconds=round(time.monotonic() - started, 1),
    )


class _EmbedBatch:
    """The Ray Data UDF: built once per actor, so each worker loads the model once and keeps it."""

    def __init__(self, config: ModelConfig, threads: int) -> None:
        from .embedding import SentenceTransformerEmbedder  # in the worker: torch is loaded only there

        self.config = config
        self.embedder: Any = None
        self.error: RecommenderError | None = None
        try:
            self.embedder = SentenceTransformerEmbedder(config, threads=threads)
        except RecommenderError as error:
            # An actor that dies in its constructor reaches the driver only as text; raised from a batch,
            # the error object itself arrives, and the user sees "model folder ... does not exist".
            self.error = error

    def __call__(self, batch: Any) -> Any:
        """A batch of JSONL lines (``text`` column) → a table of ``key``, ``vector`` and ``truncated``."""
        if self.error is not None:
            raise self.error
        texts = [text for line in batch.column("text").to_pylist() if (text := document_text(self.config, line))]
        vectors = self.embedder.encode_documents(texts)
        truncated = self.embedder.truncated(texts)
        return shard_table([text_key(text) for text in texts], vectors, truncated)


def document_text(config: ModelConfig, line: str) -> str | None:
    """What a local build would embed for one JSONL line, or ``None`` for a line ``ingest`` would reject
    (not a JSON object, no abstract): the same field rules, cleaning and validation, so the keys match."""
    try:
        value = json.loads(line.strip().lstrip("\ufeff"))
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    paper = to_paper(RawRecord(fields_from_mapping(value)), "ray")
    if not isinstance(paper, Paper):
        return None  # rejected: no abstract
    return config.document_text(paper.title, paper.abstract) or None


def declared_window(config: ModelConfig) -> int | None:
    """The document model's token window without loading it: the config's, else the one its folder's
    ``sentence_bert_config.json`` declares (what sentence-transformers uses); ``None`` when unknown (a hub
    model not on this machine)."""
    if config.max_seq_length:
        return config.max_seq_length
    try:
        folder = Path(model_location(config.document_model))
        declared = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (RecommenderError, OSError, ValueError):
        return None
    window = declared.get("max_seq_length") if isinstance(declared, dict) else None
    return window if isinstance(window, int) and window > 0 else None


def shard_table(keys: list[str], vectors: np.ndarray, truncated: list[bool]) -> Any:
    """One shard block: ``key`` string, ``vector`` list<float32> (not Ray's tensor type, which plain pyarrow
    readers do not understand), ``truncated`` bool."""
    import pyarrow as pa

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    offsets = np.arange(len(keys) + 1, dtype=np.int32) * (vectors.shape[1] if vectors.ndim == 2 else 0)
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "vector": pa.ListArray.from_arrays(pa.array(offsets), pa.array(vectors.reshape(-1))),
            "truncated": pa.array(truncated, pa.bool_()),
        }
    )


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # the "data" extra (pyarrow, pandas) is needed, not just ray core
    except ImportError as error:
        raise InvalidInputError(f"embedding with Ray needs the ray extra ({error}): {INSTALL_HINT}") from None
    return ray


def _input_paths(inputs: Sequence[Path | str]) -> list[str]:
    """Local inputs expanded like ``ingest`` does (folders recurse, globs expand); URIs go to Ray as given."""
    if not inputs:
        raise InvalidInputError("no input given: name one or more JSONL files or folders")
    paths: list[str] = []
    for given in inputs:
        if "://" in str(given):
            paths.append(str(given))
            continue
        found = list(expand_paths([given]))
        missing = [name for name, path in found if path is None]
        if missing:
            raise InvalidInputError(f"no such file or directory: {missing[0]}")
        paths.extend(str(path.resolve()) for _, path in found if path is not None)
    if not paths:
        raise InvalidInputError(f"no files found in {', '.join(map(str, inputs))}")
    return paths


def _check_local_model(config: ModelConfig) -> None:
    """Fail in a second, not after Ray has started and a worker has died, when a local model folder is missing.
    (On a cluster the folder need only exist on the workers, so this is checked for local runs alone.)"""
    for model in {config.document_model, config.query_model or config.document_model}:
        model_location(model)


def _prepare_out_dir(out: Path, *, overwrite: bool) -> None:
    """``out`` must be new, empty, or (with ``overwrite``) an old shard folder, which is then emptied,
    manifest first, so it is never a valid-looking mix of two runs. Anything else there is never deleted."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} is a file, not a folder for embedding shards")
    entries = list(out.iterdir()) if out.exists() else []
    if not entries:
        return
    foreign = [entry.name for entry in entries if not _is_shard_file(entry)]
    if foreign:
        raise InvalidInputError(f"{out} is not empty ({foreign[0]}): choose a new folder for the embedding shards")
    if not overwrite:
        raise InvalidInputError(f"{out} already holds embedding shards: choose a new folder or overwrite them")
    for entry in sorted(entries, key=lambda entry: entry.name != SHARD_MANIFEST):
        entry.unlink()


def _is_shard_file(entry: Path) -> bool:
    return entry.is_file() and (entry.suffix == ".parquet" or entry.name.startswith(SHARD_MANIFEST))


def _default_workers(cpus: float, per_worker: float) -> int:
    """Model replicas that fit while one CPU stays free for Ray's read and write tasks."""
    return max(1, int((cpus - 1) // per_worker))


def _cluster_workers(ray: Any, per_worker: float) -> int:
    return _default_workers(float(ray.cluster_resources().get("CPU", 1)), per_worker)


@contextmanager
def _ray_session(ray: Any, address: str | None, *, num_cpus: float) -> Iterator[None]:
    """Use this process's Ray session, else join ``address``, else start a small private local instance;
    stop only what was started here."""
    if ray.is_initialized():
        yield
        return
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": False}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(address="local", num_cpus=max(1, round(num_cpus)), **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise RemoteServiceError(f"could not start or join {where}: {error}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _configure_data(ray: Any, progress: bool) -> None:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    context.raise_original_map_exception = True  # a worker's ModelLoadError reaches us as itself


def _run(job: Any) -> Any:
    """Run a Ray Data job, turning its failures into the package's errors (the worker's own when it raised one)."""
    try:
        return job()
    except Exception as error:  # Ray wraps worker failures in its own exception types
        cause = _recommender_cause(error)
        if cause is not None:
            raise cause from None
        raise RecommenderError(f"the Ray job failed: {error.__class__.__name__}: {error}") from error


def _recommender_cause(error: BaseException) -> RecommenderError | None:
    """The package error a worker raised, found through Ray's wrappers (``cause``, ``__cause__``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RecommenderError) and type(current).__module__.startswith("recommender"):
            return current
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    return None


def _written(out: Path) -> tuple[int, int, int]:
    """Rows, vector dimension and file count of the shards on disk: the manifest describes what landed."""
    import pyarrow.parquet as parquet

    files = sorted(out.glob("*.parquet")) if out.is_dir() else []
    count, dimension = 0, 0
    for path in files:
        shard = parquet.ParquetFile(path)
        count += shard.metadata.num_rows
        if not dimension and shard.metadata.num_rows:
            first = shard.read_row_group(0, columns=["vector"]).column(0)
            dimension = len(first[0].as_py())
    return count, dimension, len(files)


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last and atomically (temp file + rename): its presence means the shards are whole."""
    atomic_write_text(out / SHARD_MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
