"""A built index version in memory: papers, embeddings, vector index and lexical index, row-aligned.

Row ``i`` in every part is the same paper, so a neighbour found by FAISS or BM25 maps back to its id and
record without a lookup table that could drift. A snapshot is immutable once loaded; a rebuild produces a
new one and the service switches to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError, IndexMismatchError
from .lexical_index import LexicalIndex
from .manifest import FORMAT_VERSION, Manifest, corpus_hash, file_entries
from .paper import Paper
from .progress import SILENT, Progress
from .tokenizer import TOKENIZER_VERSION, index_terms
from .vector_index import VectorIndex

PAPERS = "papers.jsonl"
EMBEDDINGS = "embeddings.npy"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
KEY_TERMS = "key_terms.jsonl"


@dataclass
class Snapshot:
    """One loaded, consistent index version."""

    manifest: Manifest
    papers: list[Paper]
    embeddings: np.ndarray
    vectors: VectorIndex
    lexical: LexicalIndex
    key_terms: list[list[str]]
    row_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row_of = {paper.id: row for row, paper in enumerate(self.papers)}

    @property
    def size(self) -> int:
        return len(self.papers)

    @classmethod
    def load(cls, folder: Path) -> Snapshot:
        """Load and cross-check a version folder; any inconsistency is an :class:`IndexCorruptError`."""
        manifest = Manifest.read(folder)
        if manifest.tokenizer != TOKENIZER_VERSION:
            raise IndexMismatchError(
                f"index version {folder.name} was tokenized with {manifest.tokenizer!r}, this program uses "
                f"{TOKENIZER_VERSION!r}; rebuild the index with `recommender build`"
            )
        manifest.check_files(folder)
        papers = _read_papers(folder / PAPERS)
        try:
            embeddings = np.load(folder / EMBEDDINGS, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"cannot read embeddings of version {folder.name}: {error}") from None
        vectors = VectorIndex.load(
            folder / VECTORS, params=manifest.index_params, recall_at_10=manifest.recall_at_10, vectors=embeddings
        )
        lexical = LexicalIndex.load(folder / LEXICAL, n_docs=len(papers))
        key_terms = _read_jsonl(folder / KEY_TERMS)
        counts = {
            "papers": len(papers),
            "embeddings": embeddings.shape[0],
            "vectors": vectors.size,
            "key terms": len(key_terms),
        }
        if any(count != manifest.count for count in counts.values()):
            raise IndexCorruptError(f"version {folder.name} is inconsistent: manifest count {manifest.count}, {counts}")
        if embeddings.ndim != 2 or embeddings.shape[1] != manifest.dimension or vectors.dimension != manifest.dimension:
            raise IndexCorruptError(f"version {folder.name} has vectors of the wrong dimension")
        return cls(manifest, papers, embeddings, vectors, lexical, key_terms)


@dataclass(frozen=True)
class BuildInputs:
    """What a build hands over beside papers and vectors: model facts, cache statistics, index choice."""

    model_id: str
    max_seq_length: int | None
    model_settings: dict[str, Any] = field(default_factory=dict)
    truncated: int | None = None
    fingerprint: str | None = None
    embedded: int | None = None
    reused: int | None = None
    index_kind: str = "auto"
    index_params: dict[str, Any] = field(default_factory=dict)


def write_snapshot(
    folder: Path,
    *,
    build_id: str,
    papers: list[Paper],
    embeddings: np.ndarray,
    inputs: BuildInputs,
    terms: list[list[str]] | None = None,
    progress: Progress = SILENT,
) -> Manifest:
    """Write every file of a version into ``folder`` (a staging folder) and its manifest last.

    ``terms`` are the papers' index terms when the caller has them (from the terms cache); otherwise they
    are computed here.
    """
    if len(papers) != len(embeddings) or (terms is not None and len(terms) != len(papers)):
        raise ValueError("papers, embeddings and terms must be row-aligned")
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    with (folder / PAPERS).open("w", encoding="utf-8") as handle:
        for paper in papers:
            handle.write(json.dumps(paper.to_dict(), ensure_ascii=False) + "\n")
    np.save(folder / EMBEDDINGS, embeddings)
    with progress.step("vector index", total=len(papers), unit=" papers") as step:
        vectors = VectorIndex.build(
            embeddings, kind=inputs.index_kind, params=inputs.index_params or None, on_added=step.advance
        )
        vectors.save(folder / VECTORS)
    if terms is None:
        terms = [index_terms(paper.text) for paper in papers]
    with progress.step("lexical index", total=len(papers), unit=" papers") as step:
        lexical = LexicalIndex.build(terms)
        lexical.save(folder / LEXICAL)
        with (folder / KEY_TERMS).open("w", encoding="utf-8") as handle:  # each paper as a query, computed once
            for start in range(0, len(terms), 1000):
                for tokens in terms[start : start + 1000]:
                    handle.write(json.dumps(lexical.key_terms(tokens), ensure_ascii=False) + "\n")
                step.advance(len(terms[start : start + 1000]))
    names = [
        PAPERS,
        KEY_TERMS,
        EMBEDDINGS,
        VECTORS,
        *(str(p.relative_to(folder)) for p in sorted((folder / LEXICAL).rglob("*")) if p.is_file()),
    ]
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        build_id=build_id,
        model=inputs.model_id,
        model_settings=inputs.model_settings,
        dimension=int(embeddings.shape[1]),
        max_seq_length=inputs.max_seq_length,
        count=len(papers),
        truncated=inputs.truncated,
        corpus_hash=corpus_hash((paper.id, paper.text_hash()) for paper in papers),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        index_type=vectors.kind,
        index_params=vectors.params,
        recall_at_10=vectors.recall_at_10,
        embedding_fingerprint=inputs.fingerprint,
        embedded=inputs.embedded,
        reused=inputs.reused,
        tokenizer=TOKENIZER_VERSION,
        files=file_entries(folder, names),
    )
    manifest.write(folder)
    return manifest


def _read_papers(path: Path) -> list[Paper]:
    try:
        return [Paper.from_dict(record) for record in _read_jsonl(path)]
    except TypeError as error:
        raise IndexCorruptError(f"cannot read {path}: {error}") from None


def _read_jsonl(path: Path) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise IndexCorruptError(f"cannot read {path}: {error}") from None
