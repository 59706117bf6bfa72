"""A built index version in memory: papers, embeddings, vector index and lexical index, row-aligned.

Row ``i`` in every part is the same paper, so a neighbour found by FAISS or BM25 maps back to its id and
record without a lookup table that could drift. A snapshot is immutable once loaded; a rebuild produces a
new one and the service switches to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError, IndexMismatchError
from .lexical_build import LexicalBuilder
from .lexical_index import LexicalIndex
from .manifest import FORMAT_VERSION, CorpusHash, Manifest, file_entries
from .mapped import map_array
from .paper import Paper
from .paper_table import COLUMNS, ColumnsBuilder, PaperColumns, StackedSequence, read_lists, read_papers
from .progress import SILENT, Progress
from .symbols import symbol_share as measure_symbol_share
from .tokenizer import TOKENIZER_VERSION, index_terms
from .vector_index import VectorIndex

PAPERS = "papers.jsonl"
#: Papers read for :attr:`Snapshot.symbol_share`.
SHARE_SAMPLE = 200
#: Random pairs of papers read for :attr:`Snapshot.similarity_baseline`.
BASELINE_PAIRS = 2000
EMBEDDINGS = "embeddings.npy"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
KEY_TERMS = "key_terms.jsonl"
#: Files of a delta version only (recommender.segments): its papers' BM25 terms, and the base ids it hides.
TERMS = "terms.jsonl"
HIDDEN = "hidden.json"
#: Scratch folder of a build's BM25 postings (removed before the manifest is written).
LEXICAL_SPILL = ".lexical-postings"


@dataclass
class Snapshot:
    """One loaded, consistent index version."""

    manifest: Manifest
    #: Records read on demand (:mod:`recommender.paper_table`) when loaded from disk; a list when built here.
    papers: Sequence[Paper]
    embeddings: np.ndarray
    vectors: VectorIndex
    lexical: LexicalIndex
    key_terms: Sequence[list[str]]
    #: Ids, years and journals of every paper as arrays (what filters and the id lookup read).
    columns: PaperColumns
    row_of: dict[str, int] = field(default_factory=dict)
    #: A delta version's base (loaded once, shared by the deltas stacked on it), its rows' BM25 terms and
    #: the base papers it hides; None, empty and empty for a full version.
    base: Snapshot | None = None
    delta_terms: list[list[str]] = field(default_factory=list)
    hidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ids = self.columns.ids
        if self.base is not None and not self.hidden:  # the base's rows keep their numbers: extend its map
            self.row_of = self.base.row_of.copy()
            start = self.base.size
            self.row_of.update((paper_id, start + i) for i, paper_id in enumerate(ids[start:]))
        else:
            self.row_of = dict(zip(ids, range(len(ids)), strict=True))

    @property
    def delta_start(self) -> int:
        """The first row of the delta's papers (the size, for a full version)."""
        return self.size - len(self.delta_terms)

    @property
    def size(self) -> int:
        return len(self.papers)

    @cached_property
    def symbol_share(self) -> float:
        """How molecular the corpus is (:mod:`recommender.symbols`): measured at build time and kept in the
        manifest, so a cold ``recommender related`` does not spend a quarter of a second on it; versions built
        before it was recorded measure it on their first query."""
        if self.manifest.symbol_share is not None:
            return self.manifest.symbol_share
        return corpus_symbol_share(self.papers)

    @cached_property
    def similarity_baseline(self) -> tuple[float, float]:
        """Mean and spread of the cosine between random pairs of papers (2,000 pairs, a fixed seed): what
        "unrelated" looks like for this model and corpus, so a hit's cosine can be read as a z-score."""
        n = self.size
        if n < 3:
            return 0.0, 1.0
        rng = np.random.default_rng(0)
        first = rng.integers(0, n, BASELINE_PAIRS)
        second = (first + rng.integers(1, n, BASELINE_PAIRS)) % n  # never a paper with itself
        order = np.argsort(first, kind="stable")  # sorted reads are kind to a memory-mapped file
        left = np.asarray(self.embeddings[first[order]], dtype=np.float32)
        right = np.asarray(self.embeddings[second[order]], dtype=np.float32)
        cosines = np.sum(left * right, axis=1)
        return float(cosines.mean()), max(float(cosines.std()), 1e-6)

    @classmethod
    def load(cls, folder: Path, *, base_of: Callable[[str], Snapshot] | None = None) -> Snapshot:
        """Load and cross-check a version folder; any inconsistency is an :class:`IndexCorruptError`.

        A delta version needs its base: ``base_of(build_id)`` gives it (loaded, or reused by the caller)."""
        manifest = Manifest.read(folder)
        if manifest.tokenizer != TOKENIZER_VERSION:
            raise IndexMismatchError(
                f"index version {folder.name} was tokenized with {manifest.tokenizer!r}, this program uses "
                f"{TOKENIZER_VERSION!r}; rebuild the index with `recommender build`"
            )
        manifest.check_files(folder)
        if manifest.base is not None:
            if base_of is None:
                raise IndexCorruptError(f"version {folder.name} adds to version {manifest.base}, which was not given")
            return _load_delta(folder, manifest, base_of(manifest.base))
        papers = read_papers(folder / PAPERS)
        # Versions written before the columns file read every record once instead.
        columns = PaperColumns.read(folder / COLUMNS) if (folder / COLUMNS).is_file() else PaperColumns.of(papers)
        try:
            embeddings = map_array(folder / EMBEDDINGS)
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"cannot read embeddings of version {folder.name}: {error}") from None
        vectors = VectorIndex.load(
            folder / VECTORS, params=manifest.index_params, recall_at_10=manifest.recall_at_10, vectors=embeddings
        )
        lexical = LexicalIndex.load(folder / LEXICAL, n_docs=len(papers))
        key_terms = read_lists(folder / KEY_TERMS)
        counts = {
            "papers": len(papers),
            "paper columns": len(columns),
            "embeddings": embeddings.shape[0],
            "vectors": vectors.size,
            "key terms": len(key_terms),
        }
        if any(count != manifest.count for count in counts.values()):
            raise IndexCorruptError(f"version {folder.name} is inconsistent: manifest count {manifest.count}, {counts}")
        if embeddings.ndim != 2 or embeddings.shape[1] != manifest.dimension or vectors.dimension != manifest.dimension:
            raise IndexCorruptError(f"version {folder.name} has vectors of the wrong dimension")
        return cls(manifest, papers, embeddings, vectors, lexical, key_terms, columns)


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
    #: How the vectors were computed: backend, device, CPU features and the auto backend's calibration.
    encoder: dict[str, Any] = field(default_factory=dict)


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
    """Write every file of a version of ``papers`` into ``folder`` (a staging folder), its manifest last: a
    :class:`VersionWriter` given everything at once.

    ``terms`` are the papers' index terms when the caller has them (from the terms cache); otherwise they
    are computed here.
    """
    if len(papers) != len(embeddings) or (terms is not None and len(terms) != len(papers)):
        raise ValueError("papers, embeddings and terms must be row-aligned")
    writer = VersionWriter(folder, len(papers))
    writer.add(papers, terms)
    np.save(folder / EMBEDDINGS, np.ascontiguousarray(embeddings, dtype=np.float32))
    return writer.finish(build_id=build_id, inputs=inputs, progress=progress)


class VersionWriter:
    """The files of a full version, written as its ``count`` papers pass a chunk at a time (issue 19).

    :meth:`add` writes each chunk's records and keeps what the rest needs of it: ids, years and journals (the
    columns), the corpus hash, a few texts for the symbol share, and the BM25 postings as numbers
    (:class:`recommender.lexical_build.LexicalBuilder`, spilled to the folder until :meth:`finish`). The vectors
    go into ``embeddings.npy`` mapped in place (:meth:`vectors`), or are saved there by the caller. Then
    :meth:`finish` builds the vector index, the BM25 arrays and the key terms and writes the manifest. Nothing
    held grows with the papers' texts or terms: the vectors, the vector index, the vocabulary and the BM25
    arrays are what a version of ``count`` papers is made of."""

    def __init__(self, folder: Path, count: int) -> None:
        self.folder, self.count, self.rows = folder, count, 0
        self._records = (folder / PAPERS).open("w", encoding="utf-8")
        self._columns = ColumnsBuilder()
        self._hash = CorpusHash()
        self._share_step = max(1, count // SHARE_SAMPLE)  # corpus_symbol_share's sample, taken as rows pass
        self._share_texts: list[str] = []
        self._lexical = LexicalBuilder(spill=folder / LEXICAL_SPILL)
        self._vectors: np.ndarray | None = None

    def add(self, papers: Sequence[Paper], terms: Sequence[Sequence[str]] | None = None) -> None:
        """The next papers (rows follow the previous chunk's), with their index terms if the caller has them."""
        if terms is None:
            terms = [index_terms(paper.text) for paper in papers]
        if len(terms) != len(papers):
            raise ValueError("papers and terms must be row-aligned")
        if self.rows + len(papers) > self.count:
            raise ValueError(f"more than the {self.count} papers announced")
        for paper in papers:
            self._records.write(json.dumps(paper.to_dict(), ensure_ascii=False) + "\n")
        self._columns.add(papers)
        self._hash.add((paper.id, paper.text_hash()) for paper in papers)
        first = -self.rows % self._share_step
        self._share_texts.extend(paper.text for paper in papers[first :: self._share_step])
        self._lexical.add(terms)
        self.rows += len(papers)

    def papers(self) -> Iterator[Paper]:
        """The papers added so far, read back from the records written."""
        self._records.flush()
        with (self.folder / PAPERS).open(encoding="utf-8") as handle:
            yield from (Paper.from_dict(json.loads(line)) for line in handle)

    def vectors(self, shape: tuple[int, int]) -> np.ndarray:
        """``embeddings.npy`` as an array to fill (memory-mapped; a second call starts the file again)."""
        if shape[0] != self.count:
            raise ValueError(f"{shape[0]} vectors for {self.count} papers")
        self._vectors = None
        self._vectors = np.lib.format.open_memmap(self.folder / EMBEDDINGS, mode="w+", dtype=np.float32, shape=shape)
        return self._vectors

    def finish(self, *, build_id: str, inputs: BuildInputs, progress: Progress = SILENT) -> Manifest:
        """Write the vector index, BM25 arrays, key terms, columns and manifest; ``embeddings.npy`` is written."""
        folder = self.folder
        self._records.close()
        if self.rows != self.count:
            raise ValueError(f"{self.rows} papers added of the {self.count} announced")
        if self._vectors is not None:
            self._vectors.flush()  # type: ignore[attr-defined]
        embeddings = self._vectors if self._vectors is not None else np.load(folder / EMBEDDINGS, mmap_mode="r")
        if embeddings.ndim != 2 or len(embeddings) != self.count:
            raise ValueError("papers and embeddings must be row-aligned")
        self._columns.build().write(folder / COLUMNS)
        with progress.step("vector index", total=self.count, unit=" papers") as step:
            vectors = VectorIndex.build(
                embeddings, kind=inputs.index_kind, params=inputs.index_params or None, on_added=step.advance
            )
            vectors.save(folder / VECTORS)
        lexical = progress.step("lexical index", total=self.count, unit=" papers")
        with lexical as step, (folder / KEY_TERMS).open("w", encoding="utf-8") as handle:
            self._lexical.finish(folder / LEXICAL, key_terms=handle, on_chunk=step.advance)  # each paper as a query
        names = [
            PAPERS,
            COLUMNS,
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
            encoder=inputs.encoder,
            dimension=int(embeddings.shape[1]),
            max_seq_length=inputs.max_seq_length,
            count=self.count,
            truncated=inputs.truncated,
            corpus_hash=self._hash.value(),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            index_type=vectors.kind,
            index_params=vectors.params,
            recall_at_10=vectors.recall_at_10,
            embedding_fingerprint=inputs.fingerprint,
            embedded=inputs.embedded,
            reused=inputs.reused,
            tokenizer=TOKENIZER_VERSION,
            symbol_share=round(measure_symbol_share(self._share_texts), 6),
            bm25=self._lexical.parameters(),
            files=file_entries(folder, names),
        )
        manifest.write(folder)
        return manifest


def _load_delta(folder: Path, manifest: Manifest, base: Snapshot) -> Snapshot:
    """A delta version stacked on its loaded ``base``: the base's live rows, then the delta's."""
    from .segments import Bm25Parameters, DeltaLexical, StackedLexical, StackedRows, StackedVectors

    if base.base is not None or base.manifest.build_id != manifest.base:
        raise IndexCorruptError(f"version {folder.name} must stack on full version {manifest.base}")
    if not base.manifest.bm25:
        raise IndexMismatchError(f"version {manifest.base} predates added papers; rebuild the index")
    papers = read_papers(folder / PAPERS)
    terms = _read_jsonl(folder / TERMS)
    key_terms = read_lists(folder / KEY_TERMS)
    try:
        embeddings = np.load(folder / EMBEDDINGS)
        hidden = json.loads((folder / HIDDEN).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"cannot read version {folder.name}: {error}") from None
    if not isinstance(hidden, list) or not all(isinstance(item, str) for item in hidden):
        raise IndexCorruptError(f"{HIDDEN} of version {folder.name} is not a list of paper ids")
    if not len(papers) == len(terms) == len(key_terms) == len(embeddings):
        raise IndexCorruptError(f"version {folder.name} is inconsistent: its parts differ in length")
    if embeddings.ndim != 2 or embeddings.shape[1] != base.manifest.dimension:
        raise IndexCorruptError(f"version {folder.name} has vectors of the wrong dimension")
    keep = np.ones(base.size, dtype=bool)
    keep[[base.row_of[paper_id] for paper_id in hidden if paper_id in base.row_of]] = False
    live = np.flatnonzero(keep)
    params = Bm25Parameters(**base.manifest.bm25)
    snapshot = Snapshot(
        manifest,
        StackedSequence(base.papers, live, papers),
        StackedRows(base.embeddings, live, embeddings),  # type: ignore[arg-type]
        StackedVectors(base.vectors, live, embeddings),  # type: ignore[arg-type]
        StackedLexical(base.lexical, live, DeltaLexical(terms), params),
        StackedSequence(base.key_terms, live, key_terms),
        base.columns.stacked(live, PaperColumns.of(papers)),
        base=base,
        delta_terms=terms,
        hidden=frozenset(hidden),
    )
    if snapshot.size != manifest.count:
        raise IndexCorruptError(
            f"version {folder.name} is inconsistent: manifest count {manifest.count}, {snapshot.size}"
        )
    return snapshot


def corpus_symbol_share(papers: Sequence[Paper]) -> float:
    """The symbol share of an evenly spaced sample of :data:`SHARE_SAMPLE` papers (200 abstracts hold some
    50,000 words, enough for a stable share, and the sample keeps the measure fast at any corpus size)."""
    step = max(1, len(papers) // SHARE_SAMPLE)
    return round(measure_symbol_share([paper.text for paper in papers[::step]]), 6)


def write_delta(
    folder: Path,
    base: Manifest,
    *,
    build_id: str,
    papers: list[Paper],
    embeddings: np.ndarray,
    terms: list[list[str]],
    key_terms: list[list[str]],
    hidden: list[str],
    count: int,
    corpus: str,
    embedded: int | None,
    encoder: dict[str, Any],
) -> Manifest:
    """Write a delta version (recommender.segments) into ``folder``, its manifest last: the delta's papers,
    vectors, BM25 terms and key terms, the base ids it hides, and the base's model facts."""
    if not len(papers) == len(embeddings) == len(terms) == len(key_terms):
        raise ValueError("papers, embeddings, terms and key terms must be row-aligned")
    with (folder / PAPERS).open("w", encoding="utf-8") as handle:
        for paper in papers:
            handle.write(json.dumps(paper.to_dict(), ensure_ascii=False) + "\n")
    np.save(folder / EMBEDDINGS, np.ascontiguousarray(embeddings, dtype=np.float32).reshape(-1, base.dimension))
    for name, rows in ((TERMS, terms), (KEY_TERMS, key_terms)):
        with (folder / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (folder / HIDDEN).write_text(json.dumps(hidden, ensure_ascii=False), encoding="utf-8")
    manifest = base.model_copy(
        update={
            "build_id": build_id,
            "count": count,
            "corpus_hash": corpus,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "embedded": embedded,
            "reused": count - (embedded or 0),  # vectors this version did not compute
            "encoder": encoder,
            "base": base.build_id,
            "delta": {"papers": len(papers), "hidden": len(hidden)},
            "files": file_entries(folder, [PAPERS, EMBEDDINGS, TERMS, KEY_TERMS, HIDDEN]),
        }
    )
    manifest.write(folder)
    return manifest


def _read_jsonl(path: Path) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise IndexCorruptError(f"cannot read {path}: {error}") from None
