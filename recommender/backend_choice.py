"""Which way to run the model on this machine: the ``auto`` backend's decision, measured once and recorded.

A model's fp32 vectors can be computed faster under bfloat16 autocast on CPUs with AMX or AVX-512 BF16 (about
three times on the Xeons this project runs on) with vectors that stay interchangeable with fp32's (cosine
0.9999), while on a CPU without them bf16 is emulated and slower. So ``auto`` measures instead of assuming:
on a calibration sample it encodes with each candidate, keeps the candidates whose vectors are within
:data:`MIN_COSINE` of fp32's, and takes the fastest if it beats fp32 by :data:`MIN_SPEEDUP`. The decision,
the CPU's features and the measurement are recorded in a small JSON file (one entry per model, library
versions and CPU), so the calibration runs once per machine, and go into the manifest of every build.

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

log = logging.getLogger(__name__)

#: Least cosine between a candidate's vector and fp32's, on every calibration text (issue 18: >= 0.999).
MIN_COSINE = 0.999
#: Least speed-up over fp32 for a candidate to be chosen (below it, fp32's exactness wins).
MIN_SPEEDUP = 1.15
#: CPU flags that matter for the choice, as Linux names them in /proc/cpuinfo.
FEATURES = ("amx_bf16", "amx_int8", "amx_tile", "avx512_bf16", "avx512_vnni", "avx512f", "avx2")
#: Abstract-like texts of a realistic spread of lengths (made up for calibration; cut by the model's window).
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
CALIBRATION_TEXTS = [" ".join(_SENTENCES[i : i + 1 + (i * 3) % 9] * (1 + i // 8)) for i in range(32)]


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
    encoders: dict[str, Callable[[list[str]], np.ndarray]],
    *,
    device: str,
    features: Sequence[str],
    texts: Sequence[str] = CALIBRATION_TEXTS,
) -> Choice:
    """Encode ``texts`` with each encoder (the first, ``"torch"``, is the fp32 reference), time a second
    pass after a warm-up one, and choose the fastest whose vectors stay within :data:`MIN_COSINE`."""
    names = list(encoders)
    reference_name = names[0]
    vectors: dict[str, np.ndarray] = {}
    measured: dict[str, dict[str, float]] = {}
    for name in names:
        encoders[name](list(texts[:4]))  # warm-up: first calls allocate and pick kernels
        start = time.perf_counter()
        vectors[name] = np.asarray(encoders[name](list(texts)), dtype=np.float32)
        measured[name] = {"texts_per_second": round(len(texts) / max(time.perf_counter() - start, 1e-9), 1)}
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
    return Choice(chosen, device, list(features), measured, reason, datetime.now(UTC).isoformat(timespec="seconds"))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class ChoiceRecord:
    """Decisions kept in one JSON file, keyed by model, library versions, device and CPU features."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @staticmethod
    def key(model: str, versions: str, device: str, features: Sequence[str]) -> str:
        identity = json.dumps([model, versions, device, list(features), platform.machine()])
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
