"""The manifest: what a built index version is, so loading can refuse anything that does not fit.

Every version folder carries ``manifest.json`` naming the model and dimension its vectors came from, the
paper count, a hash of the corpus, the build time, the tokenizer, the format version and a size and
SHA-256 for each file. Loading checks it against the files and the configured model and says exactly what
is wrong instead of returning wrong neighbours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import IndexCorruptError, IndexMismatchError
from .model_profiles import ModelConfig, from_manifest, model_config

FORMAT_VERSION = 2
FILENAME = "manifest.json"


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bytes: int
    sha256: str


class Manifest(BaseModel):
    """Description of one built index version."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    format_version: int
    build_id: str
    model: str
    model_settings: dict[str, Any] = {}
    dimension: int
    max_seq_length: int | None = None
    count: int
    truncated: int | None = None
    corpus_hash: str
    built_at: str
    index_type: str
    #: FAISS parameters of the vector index (M, efSearch, nlist, nprobe, ...) as built and searched.
    index_params: dict[str, Any] = {}
    #: For approximate indexes: recall@10 against exact search on a held-out sample, measured at build time.
    recall_at_10: float | None = None
    #: Which embedding-cache entries the vectors came from, and how many were computed vs reused.
    embedding_fingerprint: str | None = None
    embedded: int | None = None
    reused: int | None = None
    tokenizer: str
    #: How the vectors were computed (backend, device, CPU features, the auto backend's calibration).
    encoder: dict[str, Any] = {}
    #: Share of words that are symbols with a digit (recommender.symbols), measured at build time.
    symbol_share: float | None = None
    #: BM25 parameters and the corpus's average document length (what scores of added papers need).
    bm25: dict[str, float] = {}
    #: A delta version (recommender.segments): the base version it stacks on, and its own papers and
    #: the base papers it hides. None for a full version.
    base: str | None = None
    delta: dict[str, int] = {}
    files: dict[str, FileEntry]

    def write(self, folder: Path) -> None:
        (folder / FILENAME).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / FILENAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexCorruptError(f"index version {folder.name} has no {FILENAME}; rebuild the index") from None
        except (OSError, json.JSONDecodeError) as error:
            raise IndexCorruptError(f"cannot read {path}: {error}") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            found = data.get("format_version") if isinstance(data, dict) else None
            raise IndexMismatchError(
                f"index version {folder.name} has format version {found!r}; this program reads version "
                f"{FORMAT_VERSION}. Rebuild the index with `recommender build`."
            )
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise IndexCorruptError(f"invalid {path}: {error}") from None

    def check_files(self, folder: Path, *, checksums: bool = False) -> None:
        """Every listed file exists with its recorded size (and, if asked, its SHA-256)."""
        for name, entry in self.files.items():
            path = folder / name
            if not path.is_file():
                raise IndexCorruptError(f"index version {folder.name} is missing {name}; rebuild the index")
            size = path.stat().st_size
            if size != entry.bytes:
                raise IndexCorruptError(
                    f"{name} in index version {folder.name} has {size} bytes, the manifest says {entry.bytes}"
                )
            if checksums and file_sha256(path) != entry.sha256:
                raise IndexCorruptError(f"{name} in index version {folder.name} fails its checksum")

    def check_model(self, configured: ModelConfig | None) -> None:
        """Refuse a configured model (or model setting) other than the one the vectors were built with."""
        if configured is None:
            return
        if configured.name != self.model:
            raise IndexMismatchError(
                f"this index was built with model {self.model!r} ({self.dimension}-d) but the configured model "
                f"is {configured.name!r}. Rebuild with `recommender build` to switch models, or unset "
                "RECOMMENDER_MODEL / --model to use the index's own model."
            )
        built = self.embedding_config().settings()
        differing = sorted(key for key, value in configured.settings().items() if built.get(key) != value)
        if differing:
            raise IndexMismatchError(
                f"this index was built with model {self.model!r} but different settings "
                f"({', '.join(f'{key}={built.get(key)!r}' for key in differing)}); rebuild to change them"
            )

    def embedding_config(self) -> ModelConfig:
        """The model settings this version's vectors were made with."""
        if not self.model_settings:  # written before settings were recorded: the model's own defaults
            return model_config(self.model)
        return from_manifest(self.model, self.model_settings)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path, names: Iterable[str]) -> dict[str, FileEntry]:
    return {name: FileEntry(bytes=(folder / name).stat().st_size, sha256=file_sha256(folder / name)) for name in names}


#: Prefix of corpus hashes that are sums (older manifests hold a SHA-256 of the sorted pairs).
SUM_HASH = "sum256:"
_MODULUS = 1 << 256


def _pair_value(paper_id: str, text_hash: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{paper_id}\t{text_hash}".encode()).digest(), "big")


def corpus_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """Order-independent hash of ``(paper id, text hash)`` pairs: equal iff the indexed texts are equal.

    A sum of the pairs' SHA-256 values modulo 2^256, so a delta version's hash is its base's with the hidden
    pairs taken away and the added ones put in (:func:`adjusted_corpus_hash`), without reading the corpus."""
    summed = CorpusHash()
    summed.add(pairs)
    return summed.value()


class CorpusHash:
    """:func:`corpus_hash` of pairs met a few at a time (a build streaming its papers)."""

    def __init__(self) -> None:
        self._total = 0

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._total = (self._total + sum(_pair_value(paper_id, text_hash) for paper_id, text_hash in pairs)) % _MODULUS

    def value(self) -> str:
        return f"{SUM_HASH}{self._total:064x}"


def adjusted_corpus_hash(
    recorded: str, removed: Iterable[tuple[str, str]], added: Iterable[tuple[str, str]]
) -> str | None:
    """The hash of a corpus after removing and adding pairs; None if ``recorded`` is an old-style hash."""
    if not recorded.startswith(SUM_HASH):
        return None
    total = int(recorded[len(SUM_HASH) :], 16)
    total -= sum(_pair_value(paper_id, text_hash) for paper_id, text_hash in removed)
    total += sum(_pair_value(paper_id, text_hash) for paper_id, text_hash in added)
    return f"{SUM_HASH}{total % _MODULUS:064x}"


def same_corpus(recorded: str, pairs: Iterable[tuple[str, str]]) -> bool:
    """Whether ``pairs`` are the corpus a manifest's ``recorded`` hash describes (either hash style)."""
    if recorded.startswith(SUM_HASH):
        return recorded == corpus_hash(pairs)
    digest = hashlib.sha256()
    for paper_id, text_hash in sorted(pairs):
        digest.update(f"{paper_id}\t{text_hash}\n".encode())
    return recorded == digest.hexdigest()


def previous_model_config(folder: Path | None) -> ModelConfig | None:
    """The model an old or damaged version recorded, read leniently (so a rebuild keeps the user's model)."""
    try:
        data = json.loads((Path(folder) / FILENAME).read_text(encoding="utf-8")) if folder else None
        if isinstance(data, dict) and isinstance(data.get("model"), str):
            settings = data.get("model_settings")
            return from_manifest(data["model"], settings) if settings else model_config(data["model"])
    except (OSError, ValueError, TypeError):
        return None
    return None
