"""The models of one index: which one a build uses, one loaded instance of each, and the query encoders.

Models are sticky: a build uses the model the settings name, else the one the current version was built
with, so a rebuild never silently switches models. Each model (with its vector settings and backend) is
loaded once per process and shared by builds, queries and evaluations; a server's query encoders batch
concurrent requests into one model call (:mod:`recommender.query_batching`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from .embedding import Embedder, SentenceTransformerEmbedder, light_query_config
from .embedding_cache import EmbeddingCache, fingerprint
from .errors import IndexCorruptError, IndexMismatchError
from .manifest import Manifest, previous_model_config
from .model_profiles import ModelConfig, model_config
from .query_batching import BatchingEncoder
from .settings import Settings
from .snapshot import Snapshot
from .versions import VersionStore

EmbedderFactory = Callable[[ModelConfig, Settings], Embedder]


def default_embedder_factory(config: ModelConfig, settings: Settings) -> Embedder:
    """A sentence-transformers model on the settings' device, batch size and threads, with the automatic
    backend's choice remembered in the cache folder (tests pass a fake factory instead)."""
    return SentenceTransformerEmbedder(
        config,
        device=settings.device,
        batch_size=settings.batch_size,
        threads=settings.threads,
        choice_file=settings.cache_path / "backend_choice.json",
    )


def embedder_key(config: ModelConfig) -> str:
    """One loaded model per model, vector settings and backend (fp32 and bf16 share vectors, not a model)."""
    return json.dumps([config.name, config.settings(), config.backend], sort_keys=True)


class Encoders:
    """The loaded models of one index, shared between threads (see the module docstring)."""

    def __init__(self, settings: Settings, versions: VersionStore, factory: EmbedderFactory) -> None:
        self.settings = settings
        self.versions = versions
        self._factory = factory
        self._embedders: dict[str, Embedder] = {}
        #: Query encoders that batch concurrent requests, one per loaded embedder (see :meth:`for_queries`).
        self._batchers: dict[str, BatchingEncoder] = {}
        self._lock = threading.Lock()  # short holds only: the two tables

    def configured(self) -> ModelConfig | None:
        """The model settings the user asked for explicitly, if any."""
        if self.settings.model is None and not self.settings.model_options:
            return None
        return model_config(self.settings.model, **self.settings.model_options)

    def for_evaluation(self) -> Embedder:
        """The configured model, else the default: an evaluation's throwaway index follows no version."""
        return self.embedder(self.configured() or model_config(None))

    def for_build(self) -> ModelConfig:
        """The configured model, else the one the current version used (models are sticky), else default."""
        configured = self.configured()
        if configured is not None:
            return configured
        try:
            current = self.versions.current_path()
            return Manifest.read(current).embedding_config() if current else model_config(None)
        except (IndexMismatchError, IndexCorruptError):
            # The current version is unreadable or of an older format: rebuilding is the cure, so start
            # from the model it (or the newest version that says) recorded, else from the default.
            return self._recorded() or model_config(None)

    def _recorded(self) -> ModelConfig | None:
        """The model the newest readable manifest recorded, read leniently, ``CURRENT``'s first."""
        current = self.versions.current_id()
        candidates = [current] if current else []
        candidates += [build_id for build_id in reversed(self.versions.build_ids()) if build_id != current]
        for build_id in candidates:
            folder = self.versions.path(build_id)
            if folder.is_dir() and (config := previous_model_config(folder)) is not None:
                return config
        return None

    def cache(self, config: ModelConfig) -> EmbeddingCache:
        """The embedding cache of ``config``'s vectors (texts already embedded are never embedded again)."""
        return EmbeddingCache(self.settings.cache_path / "embeddings", fingerprint(config))

    def embedder(self, config: ModelConfig) -> Embedder:
        """``config``'s model, loaded on first use and kept: loading takes seconds, encoding milliseconds."""
        key = embedder_key(config)
        with self._lock:
            if key not in self._embedders:
                self._embedders[key] = self._factory(config, self.settings)
            return self._embedders[key]

    def facts(self, config: ModelConfig) -> dict[str, Any]:
        """How this build's new vectors were computed (backend, device, CPU, calibration), for the manifest;
        when every vector came from the embedding cache, no model ran."""
        with self._lock:
            embedder = self._embedders.get(embedder_key(config))
        if embedder is None:
            return {"backend": config.backend, "note": "no model ran: every vector came from the embedding cache"}
        describe = getattr(embedder, "describe", None)
        facts: dict[str, Any] = describe() if describe is not None else {"backend": config.backend}
        return facts

    def for_queries(self, snapshot: Snapshot) -> Embedder:
        """The encoder of queries against ``snapshot``: its model (the lightest interchangeable one in a fresh
        CLI process), batched across concurrent requests in a server; refused if its vectors do not fit."""
        config = snapshot.manifest.embedding_config()
        if self.settings.light_queries:  # a fresh CLI process: the lightest interchangeable encoder
            config = light_query_config(config)
        embedder = self.embedder(config)
        if self.settings.query_batching and not self.settings.light_queries:  # a server: share model calls
            with self._lock:
                key = embedder_key(config)
                batcher = self._batchers.get(key)
                if batcher is None or batcher.wrapped is not embedder:
                    batcher = self._batchers[key] = BatchingEncoder(embedder)
            embedder = batcher
        if embedder.dimension != snapshot.manifest.dimension:
            raise IndexMismatchError(
                f"model {embedder.model_id!r} gives {embedder.dimension}-d vectors but the index holds "
                f"{snapshot.manifest.dimension}-d vectors; rebuild the index with this model"
            )
        return embedder

    def close(self, timeout: float) -> None:
        """Stop the query batchers' threads (each gets ``timeout`` seconds to answer what it holds)."""
        with self._lock:
            batchers, self._batchers = list(self._batchers.values()), {}
        for batcher in batchers:
            batcher.close(timeout)
