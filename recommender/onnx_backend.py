"""The ``onnx-int8`` encoding backend: the only module that imports onnxruntime (and onnx, onnx-ir to quantise).

Why it exists: on a CPU, all-MiniLM-L6-v2 with int8 weights under ONNX Runtime encodes abstracts over twice as
fast as fp32 torch, with vectors whose cosine to torch's is ~0.998 (scripts/bench_encoding.py measures both).
sentence-transformers' own ONNX path needs ``optimum-onnx``, whose releases pin transformers < 4.58 (this project
pins 5.x), so the export is done here with plain ``torch.onnx`` and ONNX Runtime's own tools.

The export needs torch, which only :mod:`recommender.embedding` may import, so that module passes an ``export``
callback writing the fp32 graph, the tokenizer and torch's vectors of a few probe texts into a folder (the
contract below). This module fuses the graph (ONNX Runtime's BERT fusions: one Attention node per layer, which
then runs as an int8 QAttention), checks it against torch's vectors, quantises it to int8 (see
:func:`_quantize`; per-tensor weights would drop the cosine to ~0.94), and renames the finished folder into
the cache in one step, so a crash never leaves a half model and later loads need neither torch nor an export.
Tokenisation uses the model's own fast tokenizer (the ``tokenizers`` library), and documents are batched by
token length so little time goes on padding.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelLoadError, RecommenderError

log = logging.getLogger(__name__)

#: Bump when the exported folder's layout or the fusion/quantisation recipe changes: old caches are then ignored.
FORMAT_VERSION = 4  # 4: the fused fp32 graph is kept (the fp32 "onnx" backend)
#: What an ``export`` callback writes into the folder it is given.
FP32_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
REFERENCE_FILE = "reference.npz"  # torch's vectors of ``ExportMeta.probe_texts``: "documents" and "queries"
#: What the cache keeps (the fp32 graphs are deleted once quantised).
MODEL_FILE = "model_int8.onnx"
FUSED_FILE = "model_fused.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"
#: The fp32 export must reproduce torch's vectors this closely (anything less is a broken export, not rounding).
EXPORT_MIN_COSINE = 0.999
#: A work folder untouched this long belongs to an export that died (a real one takes minutes at most).
STALE_WORK_SECONDS = 3600
_VERSIONED = ("onnxruntime", "onnx", "onnx-ir", "torch", "transformers", "sentence-transformers", "tokenizers")


@dataclass(frozen=True)
class ExportMeta:
    """What the encoder needs besides the graph, written by the exporter as ``meta.json``."""

    dimension: int
    max_seq_length: int | None
    #: Of the transformer, for ONNX Runtime's attention fusion (0: let it infer them from the graph).
    num_heads: int
    hidden_size: int
    input_names: list[str]
    pad_id: int
    padding_side: str
    truncation_side: str
    document_prompt: str
    query_prompt: str
    probe_texts: list[str]
    #: Filled in here after quantisation: how close the int8 vectors of ``probe_texts`` are to torch's.
    int8_cosine_mean: float | None = None
    int8_cosine_min: float | None = None

    def write(self, folder: Path) -> None:
        (Path(folder) / META_FILE).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> ExportMeta:
        data = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
        return cls(**data)


def cache_root() -> Path:
    """Where exported models live: ``RECOMMENDER_MODEL_CACHE``, else ``recommender/onnx`` in the user's cache
    folder (``XDG_CACHE_HOME``, by default ``~/.cache``)."""
    configured = os.environ.get("RECOMMENDER_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recommender" / "onnx"


def export_folder(model: str, location: str, settings: Mapping[str, Any]) -> Path:
    """The cache folder of one model export: a hash of the source weights, the settings that shape the graph
    (pooling, window) and the library versions, so a new model file or a library upgrade re-exports."""
    identity = {
        "source": source_signature(model, location),
        "settings": dict(settings),
        "versions": {name: _version(name) for name in _VERSIONED},
        "format": FORMAT_VERSION,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]
    return cache_root() / digest


def source_signature(model: str, location: str) -> str:
    """A local folder by its path and its files' sizes and times (cheap, catches replaced weights); a hub name by
    its name (all that is known without the network)."""
    path = Path(location)
    if not path.is_dir():
        return model
    files = sorted(
        f"{item.relative_to(path)}:{item.stat().st_size}:{item.stat().st_mtime_ns}"
        for item in path.rglob("*")
        if item.is_file()
    )
    return f"{path.resolve()}#" + hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]


def load_encoder(
    folder: Path, *, threads: int, export: Callable[[Path], None], label: str, graph: str = MODEL_FILE
) -> OnnxEncoder:
    """The encoder cached in ``folder`` (``graph``: the int8 model, or the fused fp32 one, which reproduces
    torch's vectors to cosine >= 0.999, checked at export), exporting and quantising first when not there."""
    _require_onnxruntime(exporting=not _complete(folder))
    if not _complete(folder):
        log.info("exporting %s to ONNX int8 in %s (once)", label, folder)
        try:
            _build(folder, export, label, threads)
        except RecommenderError:
            raise
        except Exception as error:  # fusion, quantisation or disk errors: one error type for callers
            raise ModelLoadError(
                f"could not export {label} to ONNX int8: {error.__class__.__name__}: {error}; use backend 'torch'"
            ) from error
    try:
        return OnnxEncoder(folder, threads=threads, graph=graph)
    except Exception as error:  # a damaged cache: say where it is so it can be deleted
        raise ModelLoadError(
            f"could not load the ONNX export of {label} from {folder}: {error.__class__.__name__}: {error}. "
            "Delete that folder to export it again."
        ) from error


def _build(folder: Path, export: Callable[[Path], None], label: str, threads: int) -> None:
    """Export, check and quantise into a temporary sibling folder, then rename it into place in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_work(folder)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        export(work)
        _fuse(work / FP32_FILE, work / FUSED_FILE, ExportMeta.read(work))
        _check(OnnxEncoder(work, threads=threads, graph=FUSED_FILE), work, EXPORT_MIN_COSINE, label)
        _quantize(work / FUSED_FILE, work / MODEL_FILE)
        (work / FP32_FILE).unlink()  # the fused graph is kept: the fp32 "onnx" backend runs it
        _record_int8_cosine(work, threads)
        work.chmod(0o755)  # mkdtemp makes it private; the cache is as readable as any other cache folder
        _publish(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remove_stale_work(folder: Path) -> None:
    """Delete work folders of exports killed half-way (a crash skips their cleanup); a live one is minutes old."""
    for stale in folder.parent.glob(f".{folder.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_WORK_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)


def _check(encoder: OnnxEncoder, folder: Path, minimum: float, label: str) -> None:
    """Refuse an export whose vectors differ from torch's: tracing can bake in a branch taken for the probe."""
    documents, queries = _probe_cosines(encoder, folder)
    worst = float(min(documents.min(), queries.min()))
    if worst < minimum:
        raise ModelLoadError(
            f"the ONNX export of {label} does not reproduce its torch vectors (cosine {worst:.4f} < {minimum}); "
            "this model is not supported by the onnx-int8 backend, use backend 'torch'"
        )


def _record_int8_cosine(folder: Path, threads: int) -> None:
    """Keep the int8 model's closeness to torch in ``meta.json``: the quantisation error, for the record."""
    documents, queries = _probe_cosines(OnnxEncoder(folder, threads=threads), folder)
    both = np.concatenate([documents, queries])
    mean, worst = round(float(both.mean()), 5), round(float(both.min()), 5)
    replace(ExportMeta.read(folder), int8_cosine_mean=mean, int8_cosine_min=worst).write(folder)
    log.info("int8 export: cosine to torch mean %.4f, min %.4f", both.mean(), both.min())


def _probe_cosines(encoder: OnnxEncoder, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    texts = encoder.meta.probe_texts
    with np.load(folder / REFERENCE_FILE) as reference:
        documents = np.sum(encoder.encode_document(texts, batch_size=3) * reference["documents"], axis=1)
        queries = np.sum(encoder.encode_query(texts, batch_size=3) * reference["queries"], axis=1)
    return documents, queries


def _fuse(source: Path, target: Path, meta: ExportMeta) -> None:
    """Fuse attention, embeddings, layer norms and GELU into ONNX Runtime's contrib ops. Fusion is what makes
    int8 pay: unfused, attention stays a dozen fp32 nodes per layer and int8 gains only ~1.7x over torch. For a
    graph the BERT patterns do not match, nothing is fused and the graph stays correct, only slower."""
    from onnxruntime.transformers.optimizer import optimize_model

    with _quiet_root_logger():
        fused = optimize_model(
            str(source), model_type="bert", num_heads=meta.num_heads, hidden_size=meta.hidden_size, opt_level=0
        )
        fused.save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """int8 weights and int8 arithmetic everywhere, in two recipes chosen by measurement (all-MiniLM-L6-v2 on
    SciFact abstracts, cosine to torch): ONNX Runtime's dynamic quantisation (per-channel weights, one activation
    scale per batch) for attention and the first feed-forward matrix, and blockwise int8 (``MatMulNBits``,
    activations quantised per row in blocks of 128) for the feed-forward output matrix, whose input (the GELU
    output) one scale per batch resolves poorly. All dynamic: cosine 0.995, and SciFact nDCG@10 swings by up to
    0.005 around torch's with the batch composition. With the blockwise step: 0.9976 and within 0.004 (batches
    of 16, 32, 64), for ~8% less speed. Blockwise everywhere: 0.9986 but ~20% slower; SmoothQuant-style
    rescaling of the GELU output did not help (0.992)."""
    import onnx

    model = onnx.load(str(source))
    gelu_fed = _gelu_fed_matmuls(model)
    if not gelu_fed:
        _dynamic_int8(source, target)
        return
    staged = source.with_name("model_blockwise.onnx")
    _blockwise_int8(model, gelu_fed, staged)
    _dynamic_int8(staged, target)
    staged.unlink()


def _gelu_fed_matmuls(model: Any) -> set[str]:
    """Names of the MatMuls whose input is a GELU's output (the feed-forward output projections); none when
    the graph's GELUs were not fused (then everything gets the dynamic recipe: correct, a little less close)."""
    for number, node in enumerate(model.graph.node):
        node.name = node.name or f"{node.op_type}_{number}"  # the quantisers select nodes by name
    producers = {output: node.op_type for node in model.graph.node for output in node.output}
    gelus = {"Gelu", "BiasGelu", "FastGelu"}
    return {
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and node.input and producers.get(node.input[0]) in gelus
    }


def _blockwise_int8(model: Any, names: set[str], target: Path) -> None:
    matmul_nbits_quantizer = _import_nbits_quantizer()
    others = [node.name for node in model.graph.node if node.op_type == "MatMul" and node.name not in names]
    with _quiet_root_logger():
        quantizer = matmul_nbits_quantizer.MatMulNBitsQuantizer(
            model, bits=8, block_size=128, is_symmetric=True, accuracy_level=4, nodes_to_exclude=others
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(target), False)


def _dynamic_int8(source: Path, target: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():  # it warns on the root logger to "consider pre-processing", which is optional
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )


def _import_nbits_quantizer() -> Any:
    """ONNX Runtime's blockwise quantiser, imported under :func:`_quiet_root_logger`: it calls
    ``logging.basicConfig(level=INFO)`` at import, which would print every INFO record of the process."""
    with _quiet_root_logger():
        from onnxruntime.quantization import matmul_nbits_quantizer
    return matmul_nbits_quantizer


def _publish(work: Path, folder: Path) -> None:
    """Rename the finished folder into place; if another process got there first, keep its (equal) copy."""
    if folder.exists() and not _complete(folder):
        shutil.rmtree(folder, ignore_errors=True)  # not written by this code (renames are atomic): start over
    try:
        os.rename(work, folder)
    except OSError:
        if not _complete(folder):
            raise


def exported(folder: Path) -> bool:
    """Whether ``folder`` holds a finished export (both graphs, the tokenizer and the facts)."""
    return _complete(folder)


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (MODEL_FILE, FUSED_FILE, TOKENIZER_FILE, META_FILE))


class OnnxEncoder:
    """One exported model under ONNX Runtime, offering the part of ``SentenceTransformer``'s interface that
    :class:`recommender.embedding.SentenceTransformerEmbedder` uses, so that class serves both backends."""

    def __init__(self, folder: Path, *, threads: int, graph: str = MODEL_FILE) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.meta = ExportMeta.read(self.folder)
        self.max_seq_length = self.meta.max_seq_length
        self._session = _session(self.folder / graph, threads)
        self._inputs = [item.name for item in self._session.get_inputs()]
        self._tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self._tokenizer.no_padding()
        if self.max_seq_length:
            self._tokenizer.enable_truncation(self.max_seq_length, direction=self.meta.truncation_side)
        else:
            self._tokenizer.no_truncation()
        self._counter = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self._counter.no_padding()
        self._counter.no_truncation()

    def get_embedding_dimension(self) -> int:
        return self.meta.dimension

    def encode_document(self, texts: Sequence[str], **options: Any) -> np.ndarray:
        """Like ``SentenceTransformer.encode_document``: the model's own document prompt, if any, comes first."""
        return self._encode([self.meta.document_prompt + text for text in texts], **options)

    def encode_query(self, texts: Sequence[str], **options: Any) -> np.ndarray:
        return self._encode([self.meta.query_prompt + text for text in texts], **options)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Untruncated token counts with special tokens (to report documents longer than the window)."""
        return [len(encoding.ids) for encoding in self._counter.encode_batch(list(texts))]

    def _encode(
        self,
        texts: list[str],
        *,
        batch_size: int = 32,
        show_progress_bar: bool = False,
        normalize_embeddings: bool = True,
        **_: Any,
    ) -> np.ndarray:
        """Encode in batches of similar token length (longest first), then put the rows back in input order."""
        vectors = np.zeros((len(texts), self.meta.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda row: -len(encodings[row].ids))
        for start in _batches(len(texts), batch_size, show_progress_bar):
            rows = order[start : start + batch_size]
            feeds = self._feeds([encodings[row] for row in rows])
            vectors[rows] = self._session.run([OUTPUT_NAME], feeds)[0]
        if normalize_embeddings:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        return vectors

    def _feeds(self, encodings: Sequence[Any]) -> dict[str, np.ndarray]:
        """Pad one batch to its longest member, on the side the model's tokenizer pads."""
        width = max(len(encoding.ids) for encoding in encodings)
        arrays = {
            "input_ids": np.full((len(encodings), width), self.meta.pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), width), dtype=np.int64),
        }
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            columns = slice(width - length, width) if self.meta.padding_side == "left" else slice(0, length)
            arrays["input_ids"][row, columns] = encoding.ids
            arrays["attention_mask"][row, columns] = encoding.attention_mask
            arrays["token_type_ids"][row, columns] = encoding.type_ids
        return {name: arrays[name] for name in self._inputs}


def _batches(count: int, size: int, progress: bool) -> Iterator[int]:
    starts = range(0, count, size)
    if not progress:
        return iter(starts)
    from tqdm.auto import tqdm

    return iter(tqdm(starts, desc="Batches", unit="batch"))


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (0: one per physical core) and no
    inter-op parallelism: a transformer's graph is a chain, so extra inter-op threads only compete for cores."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(threads, 0)
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no warnings about unused initialisers on every load
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _require_onnxruntime(*, exporting: bool) -> None:
    """ONNX Runtime to run a graph; onnx and onnx-ir too to export and quantise one (a second's import that
    running an exported graph, e.g. a CLI query, does not need)."""
    try:
        if exporting:
            import onnx  # noqa: F401
            import onnx_ir  # noqa: F401  (ONNX Runtime's blockwise quantiser needs it)
        if importlib.util.find_spec("onnxruntime") is None:
            raise ImportError("No module named 'onnxruntime'")
    except ImportError as error:
        raise ModelLoadError(
            f"the onnx-int8 backend needs onnxruntime, onnx and onnx-ir ({error}): "
            "pip install onnxruntime onnx onnx-ir, or use backend 'torch'"
        ) from None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Silence ONNX Runtime's tools, which log on the root logger (``logging.warning``, ``basicConfig``), and undo
    the handler such calls install on an unconfigured root logger, so the process's logging stays as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
