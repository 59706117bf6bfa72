"""Which way to run the model on this machine: the ``auto`` backend's decision, measured once and recorded.

A model's fp32 vectors can be computed faster under bfloat16 autocast on CPUs with AMX or AVX-512 BF16 (about
three times on the Xeons this project runs on) with vectors that stay interchangeable with fp32's (cosine
0.9999), while on a CPU without them bf16 is emulated and slower. So ``auto`` measures instead of assuming:
on a calibration sample it encodes with each candidate, keeps the candidates whose vectors are within
:data:`MIN_COSINE` of fp32's, and takes the fastest if it beats fp32 by :data:`MIN_SPEEDUP`. The decision,
the CPU's features and the measurement are recorded in a small JSON file (one entry per model, library
versions and CPU), so the calibration runs once per machine, and go into the manifest of every build.

For the backend chosen, it then measures document throughput at a few batch sizes (:data:`BATCH_SIZES`,
:func:`tune_batch_size`): sentence-transformers and the ONNX encoder sort a call's texts by length and pad
each batch to its longest member, and how many rows one forward pass should hold depends on the CPU's caches
and kernels. The fastest size is recorded unless it beats the default (32) by no more than the noise; the
sizes are timed only where that takes under a minute (:data:`BATCH_BUDGET_SECONDS`).

Plain numpy and timing here; the encoders are passed in by :mod:`recommender.embedding`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .fileio import atomic_write_text
from .settings import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)

#: Least cosine between a candidate's vector and fp32's, on every calibration text (issue 18: >= 0.999).
MIN_COSINE = 0.999
#: Least speed-up over fp32 for a candidate to be chosen (below it, fp32's exactness wins).
MIN_SPEEDUP = 1.15
#: The calibration's method, part of a decision's key: a decision made by an earlier method is measured again
#: (2: abstract-length texts, where 1 measured mostly empty ones, and the batch size).
CALIBRATION_METHOD = 2
#: CPU flags that matter for the choice, as Linux names them in /proc/cpuinfo.
FEATURES = ("amx_bf16", "amx_int8", "amx_tile", "avx512_bf16", "avx512_vnni", "avx512f", "avx2")
#: Sentences (about 27 tokens each) of made-up abstract-like texts.
_SENTENCES = [
    "Detached epithelial cells resist anoikis when integrin-linked kinase keeps AKT signalling active.",
    "Cancer-associated fibroblasts secrete IL-6, which activates JAK2/STAT3 in neighbouring tumour cells.",
    "We enrolled 412 patients with type 2 diabetes in a randomised, double-blind, placebo-controlled trial.",
    "Hypoxia stabilises HIF-1α, which induces glycolytic genes and lactate export through MCT4.",
    "PD-L1 expression on circulating tumour cells predicted the response to anti-PD-1 immunotherapy.",
    "Knockdown of SERPINE1 reduced peritoneal metastasis of gastric cancer cells in nude mice.",
    "The primary outcome was all-cause mortality at 28 days; secondary outcomes included length of stay.",
    "Single-cell RNA sequencing revealed a subpopulation of myofibroblastic CAFs expressing α-SMA and FAP.",
]
#: Sentences per calibration text: the spread of "Title. Abstract" lengths (SciFact's first 2,000 abstracts: median
#: 314 tokens, quartiles 245 and 407, 72% beyond MiniLM's 256-token window), plus a title-only record or two.
_LENGTHS: tuple[int, ...] = (1, 2, 4, 6, 7, 8, 9, 9, 10, 10, 11, 11, 12, 12, 12, 13, 13, 14, 14, 15, 15, 16)
_LENGTHS += (16, 17, 18, 19, 20, 21, 23, 25, 28, 32)


def _abstract(sentences: int, offset: int) -> str:
    return " ".join(_SENTENCES[(offset + number) % len(_SENTENCES)] for number in range(sentences))


#: Abstract-like texts of a realistic spread of lengths (made up; cut by the model's window): the backends'.
CALIBRATION_TEXTS = [_abstract(sentences, row) for row, sentences in enumerate(_LENGTHS)]
#: The batch sizes' texts: as many as the largest batch, the same spread of lengths.
BATCH_TEXTS = CALIBRATION_TEXTS + [_abstract(sentences, row + 3) for row, sentences in enumerate(_LENGTHS)]
#: Batch sizes measured for the chosen backend (the default, 32, is always among them).
BATCH_SIZES = (8, 16, 32, 64)
#: Seconds the batch sizes may take at most beyond the default's pass (projected from that pass): the cost stays
#: bounded where a pass is slow (a large model on a small CPU); there the default is kept.
BATCH_BUDGET_SECONDS = 60.0
#: Least gain over the default batch size for another to be recorded; more when the passes vary more.
MIN_BATCH_GAIN = 1.05

#: An encoder under calibration: texts and a batch size in, one vector per text out.
Encode = Callable[[list[str], int], np.ndarray]


@dataclass
class Choice:
    """The backend ``auto`` runs, and why: the CPU's features and what each candidate measured."""

    backend: str
    device: str
    cpu_features: list[str] = field(default_factory=list)
    #: Per candidate: texts per second on the calibration sample and least cosine to fp32's vectors.
    measured: dict[str, dict[str, float]] = field(default_factory=dict)
    reason: str = ""
    measured_at: str = ""
    #: The fastest document batch size measured for ``backend`` (``measured["batch_sizes"]``: texts per second
    #: per size); ``None`` when not measured (a GPU, or a decision recorded before batch sizes were): 32.
    batch_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Choice:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


def cpu_features() -> list[str]:
    """The CPU flags of :data:`FEATURES` this machine has (Linux; elsewhere none are claimed)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return [feature for feature in FEATURES if feature in flags]
    return []


def bf16_capable(features: Sequence[str]) -> bool:
    """Whether the CPU computes bfloat16 natively (AMX or AVX-512 BF16): elsewhere bf16 is emulated, slower."""
    return "amx_bf16" in features or "avx512_bf16" in features


def calibrate(
    encoders: dict[str, Encode],
    *,
    device: str,
    features: Sequence[str],
    texts: Sequence[str] = CALIBRATION_TEXTS,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    clock: Callable[[], float] = time.perf_counter,
) -> Choice:
    """Encode ``texts`` with each encoder (the first, ``"torch"``, is the fp32 reference), time a second
    pass after a warm-up one, and choose the fastest whose vectors stay within :data:`MIN_COSINE`; then
    measure ``batch_sizes`` for it (:func:`tune_batch_size`; none: not measured)."""
    names = list(encoders)
    reference_name = names[0]
    vectors: dict[str, np.ndarray] = {}
    measured: dict[str, dict[str, float]] = {}
    for name in names:
        encoders[name](list(texts[:4]), DEFAULT_BATCH_SIZE)  # warm-up: first calls allocate and pick kernels
        start = clock()
        vectors[name] = np.asarray(encoders[name](list(texts), DEFAULT_BATCH_SIZE), dtype=np.float32)
        measured[name] = {"texts_per_second": round(len(texts) / max(clock() - start, 1e-9), 1)}
    reference = _unit(vectors[reference_name])
    for name in names:
        measured[name]["min_cosine"] = round(float(np.min(np.sum(_unit(vectors[name]) * reference, axis=1))), 6)
    base = measured[reference_name]["texts_per_second"]
    usable = [name for name in names[1:] if measured[name]["min_cosine"] >= MIN_COSINE]
    best = max(usable, key=lambda name: measured[name]["texts_per_second"], default=None)
    if best is not None and measured[best]["texts_per_second"] >= MIN_SPEEDUP * base:
        speedup = measured[best]["texts_per_second"] / base
        reason = f"{best} is {speedup:.2f}x fp32 with cosine >= {measured[best]['min_cosine']:.5f}"
        chosen = best
    else:
        chosen = reference_name
        reason = "no candidate was both interchangeable and faster" if len(names) > 1 else "fp32 only candidate"
    choice = Choice(chosen, device, list(features), measured, reason, datetime.now(UTC).isoformat(timespec="seconds"))
    if batch_sizes:
        choice = tune_batch_size(choice, encoders[chosen], sizes=batch_sizes, clock=clock)
    return choice


def tune_batch_size(
    choice: Choice,
    encode: Encode,
    *,
    texts: Sequence[str] = BATCH_TEXTS,
    sizes: Sequence[int] = BATCH_SIZES,
    budget: float = BATCH_BUDGET_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> Choice:
    """``choice`` with the fastest document batch size of ``encode`` (its backend's encoder) recorded.

    After a warm-up batch, every size encodes the same ``texts`` once, the default first; when another size
    was faster, it and the default are timed again in the reverse order, and each one's faster pass counts
    (load from other processes only ever slows a pass). That size is recorded only if it beats the default
    by :data:`MIN_BATCH_GAIN` and by more than its two passes and the default's differ (the noise): chasing
    noise would make the choice a coin toss per machine. When the default's pass shows that the rest would
    take longer than ``budget`` seconds (a large model on a small CPU), the default is kept unmeasured."""
    texts = list(texts)
    others = [size for size in sorted(set(sizes)) if size != DEFAULT_BATCH_SIZE]
    warm = min([*others, DEFAULT_BATCH_SIZE])
    encode(sorted(texts, key=len, reverse=True)[:warm], warm)  # first calls allocate and pick kernels
    seconds: dict[int, list[float]] = {size: [] for size in [DEFAULT_BATCH_SIZE, *others]}

    def timed(size: int) -> None:
        start = clock()
        encode(texts, size)
        seconds[size].append(max(clock() - start, 1e-9))

    def rates() -> dict[str, float]:
        return {str(size): round(len(texts) / min(seconds[size]), 1) for size in sorted(seconds) if seconds[size]}

    timed(DEFAULT_BATCH_SIZE)
    measured = dict(choice.measured)
    projected = seconds[DEFAULT_BATCH_SIZE][0] * (len(others) + 2)
    if projected > budget:
        why = f"batch {DEFAULT_BATCH_SIZE} kept: timing the others would take ~{projected:.0f} s (> {budget:.0f} s)"
        return _with_batch_size(choice, DEFAULT_BATCH_SIZE, measured | {"batch_sizes": rates()}, why)
    for size in others:
        timed(size)
    best = min(seconds, key=lambda size: seconds[size][0])
    if best == DEFAULT_BATCH_SIZE:
        return _with_batch_size(choice, best, measured | {"batch_sizes": rates()}, f"batch {best} was fastest")
    timed(best)  # the second round, in the reverse order: drift during the first one hits both alike
    timed(DEFAULT_BATCH_SIZE)
    noise = float(np.mean([max(seconds[size]) / min(seconds[size]) - 1 for size in (best, DEFAULT_BATCH_SIZE)]))
    needed = max(MIN_BATCH_GAIN, 1 + noise)
    gain = min(seconds[DEFAULT_BATCH_SIZE]) / min(seconds[best])
    if gain >= needed:
        chosen, why = best, f"batch {best} is {gain:.2f}x batch {DEFAULT_BATCH_SIZE}"
    else:
        chosen = DEFAULT_BATCH_SIZE
        why = f"batch {DEFAULT_BATCH_SIZE} kept: batch {best} measured {gain:.2f}x, within noise (needs {needed:.2f}x)"
    measured |= {"batch_sizes": rates(), "batch_noise": {"pass_spread": round(noise, 3)}}
    return _with_batch_size(choice, chosen, measured, why)


def _with_batch_size(choice: Choice, batch_size: int, measured: dict[str, dict[str, float]], why: str) -> Choice:
    reason = f"{choice.reason}; {why}" if choice.reason else why
    return Choice(
        choice.backend, choice.device, choice.cpu_features, measured, reason, choice.measured_at, batch_size=batch_size
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class ChoiceRecord:
    """Decisions kept in one JSON file, keyed by model, library versions, device and CPU features."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @staticmethod
    def key(model: str, versions: str, device: str, features: Sequence[str]) -> str:
        identity = json.dumps([model, versions, device, list(features), platform.machine(), CALIBRATION_METHOD])
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    def get(self, key: str) -> Choice | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")) if self.path else {}
            entry = data.get(key) if isinstance(data, dict) else None
            return Choice.from_dict(entry) if isinstance(entry, dict) else None
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, choice: Choice) -> None:
        """Keep a decision (written beside the file and renamed: a reader never sees half of it); a failure to
        write only costs a calibration next time."""
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
            data = data if isinstance(data, dict) else {}
            data[key] = choice.to_dict()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(data, indent=2))
        except (OSError, ValueError) as error:
            log.warning("could not record the backend choice in %s: %s", self.path, error)
