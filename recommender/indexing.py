"""Papers → the files of one index version: tokenize (through the terms cache) and write the records, embed
(through the embedding cache), then write vectors, BM25 postings, key terms and manifest
(:class:`recommender.snapshot.VersionWriter`), a chunk of papers at a time, so that a million papers need not
fit in memory (issue 19). Delta versions (:func:`index_delta`) are small and done in one piece.

The service's builds and the evaluation's throwaway indexes both go through :func:`index_papers`, so what is
measured on a benchmark is the pipeline that serves. Where the version goes (a staging folder published
atomically, or a temporary folder) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .embedding import Embedder
from .embedding_cache import CachedEncoder, EmbeddingCache, Encoded, WidthChanged, encode_cached
from .manifest import Manifest, adjusted_corpus_hash
from .model_profiles import ModelConfig
from .paper import Paper
from .progress import SILENT, Progress
from .snapshot import BuildInputs, Snapshot, VersionWriter, write_delta
from .terms_cache import TermsCache
from .tokenizer import index_terms

T = TypeVar("T")

#: Papers a full build reads, tokenizes and writes at a time, then reads back and embeds at a time (issue 19):
#: enough for SQLite and numpy to work in bulk, few enough that their texts and terms cost tens of MB.
CHUNK = 5_000


@dataclass(frozen=True)
class Corpus:
    """The papers of a full build: how many, then the papers themselves, met once (a stream from the store)."""

    count: int
    papers: Iterable[Paper]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def index_papers(
    folder: Path,
    papers: Corpus | Sequence[Paper],
    config: ModelConfig,
    load_embedder: Callable[[], Embedder],
    *,
    build_id: str,
    cache: EmbeddingCache | None = None,
    terms_cache: TermsCache | None = None,
    full: bool = False,
    index_kind: str = "auto",
    encoder: Callable[[], dict[str, Any]] | None = None,
    progress: Progress = SILENT,
) -> Manifest:
    """Write a version of ``papers`` into ``folder`` and return its manifest, a chunk of papers at a time: each
    chunk is tokenized (through the terms cache) and written (:class:`recommender.snapshot.VersionWriter`),
    then the records are read back a chunk at a time to fill the vectors (:func:`_encode_version`), then the
    indexes are built. Memory holds one chunk's papers and terms, not the corpus's.

    Only texts the cache lacks are embedded (all of them with ``full``), and the model is loaded only then;
    ``encoder`` describes how the vectors were computed, asked after encoding (the automatic backend is
    chosen when the model loads)."""
    corpus = papers if isinstance(papers, Corpus) else Corpus(len(papers), papers)
    writer = VersionWriter(folder, corpus.count)
    with progress.step("tokenize", total=corpus.count, unit=" papers") as step:
        for chunk in chunked(corpus.papers, CHUNK):
            writer.add(chunk, _chunk_terms(chunk, terms_cache))
            step.advance(len(chunk))
    encoded = _encode_version(writer, config, cache, load_embedder, full=full, progress=progress)
    inputs = BuildInputs(
        model_id=config.name,
        max_seq_length=encoded.max_seq_length,
        model_settings=config.settings(),
        truncated=encoded.truncated,
        fingerprint=cache.fingerprint if cache is not None else None,
        embedded=encoded.embedded,
        reused=encoded.reused,
        index_kind=index_kind,
        encoder=encoder() if encoder is not None else {},
    )
    return writer.finish(build_id=build_id, inputs=inputs, progress=progress)


def _encode_version(
    writer: VersionWriter,
    config: ModelConfig,
    cache: EmbeddingCache | None,
    load_embedder: Callable[[], Embedder],
    *,
    full: bool,
    progress: Progress,
) -> Encoded:
    """The vectors of every paper written so far, read back a chunk at a time, into the version's
    ``embeddings.npy``; once more from the first paper if the model disagrees with the cached vectors' width
    (the cache records the model's width by then, so it cannot happen twice)."""

    def encode() -> Encoded:
        encoder = CachedEncoder(writer.count, cache, load_embedder, full=full, allocate=writer.vectors)
        with progress.step("embed", total=writer.count, unit=" papers") as step:
            for chunk in chunked(writer.papers(), CHUNK):
                before = step.done  # embedded texts are counted as they are done, the others after the chunk
                texts = [config.document_text(paper.title, paper.abstract) for paper in chunk]
                encoder.add(texts, on_embedded=step.advance)
                step.advance(len(chunk) - (step.done - before))
        return encoder.result()

    try:
        return encode()
    except WidthChanged:
        return encode()


def _encode(
    papers: Sequence[Paper],
    config: ModelConfig,
    cache: EmbeddingCache | None,
    load_embedder: Callable[[], Embedder],
    *,
    full: bool = False,
    progress: Progress,
) -> Encoded:
    """The papers' document vectors, as the model sees them (title and abstract in the model's format)."""
    texts = [config.document_text(paper.title, paper.abstract) for paper in papers]
    return encode_cached(texts, cache, load_embedder, full=full, progress=progress)


def _chunk_terms(papers: Sequence[Paper], cache: TermsCache | None) -> list[list[str]]:
    """Each paper's BM25 terms, from the terms cache where it has them."""
    if cache is None:
        return [index_terms(paper.text) for paper in papers]
    return cache.terms([paper.text for paper in papers], index_terms)


def _terms(papers: Sequence[Paper], cache: TermsCache | None, progress: Progress) -> list[list[str]]:
    """:func:`_chunk_terms` as a step of ``progress``."""
    with progress.step("tokenize", total=len(papers), unit=" papers") as step:
        terms = _chunk_terms(papers, cache)
        step.advance(len(papers))
        return terms


#: A delta version holds at most this share of its base's papers, and never more than DELTA_MAX (each new
#: delta version rewrites the whole delta): past it, the next update is a full build (the merge).
DELTA_SHARE = 0.05
DELTA_MIN = 1_000
DELTA_MAX = 5_000


def delta_limit(base_size: int) -> int:
    """Papers a delta on a base of ``base_size`` papers may hold before the merge."""
    return int(min(DELTA_MAX, max(DELTA_MIN, DELTA_SHARE * base_size)))


def index_delta(
    folder: Path,
    current: Snapshot,
    added: Sequence[Paper],
    removed: Collection[str],
    config: ModelConfig,
    load_embedder: Callable[[], Embedder],
    *,
    build_id: str,
    cache: EmbeddingCache | None = None,
    terms_cache: TermsCache | None = None,
    encoder: Callable[[], dict[str, Any]] | None = None,
    progress: Progress = SILENT,
) -> Manifest:
    """Write a delta version into ``folder``: ``current`` (a full version, or a delta on one) with the papers
    ``removed`` (ids) taken out and ``added`` put in (a paper already indexed with another text is replaced).

    Only the added papers are embedded, tokenized and given key terms (scored with ``current``'s statistics);
    the delta's other papers keep theirs. The work and the files are proportional to the delta, not to the
    base, which is not touched."""
    base = current.base or current
    added_ids = {paper.id for paper in added}
    if len(added_ids) != len(added):
        raise ValueError("added papers must have distinct ids")
    changing = added_ids | set(removed)
    start = current.delta_start
    kept = [row for row in range(start, current.size) if current.papers[row].id not in changing]
    width = base.manifest.dimension
    encoded = _encode(added, config, cache, load_embedder, progress=progress)
    terms = _terms(added, terms_cache, progress)
    papers = [*(current.papers[row] for row in kept), *added]
    kept_vectors = np.asarray(current.embeddings[np.asarray(kept, dtype=np.int64)], dtype=np.float32)
    vectors = np.concatenate([kept_vectors.reshape(-1, width), encoded.vectors.reshape(-1, width)])
    all_terms = [*(current.delta_terms[row - start] for row in kept), *terms]
    key_terms = [*(current.key_terms[row] for row in kept), *(current.lexical.key_terms(tokens) for tokens in terms)]
    hidden = sorted(set(current.hidden) | {paper_id for paper_id in changing if paper_id in base.row_of})
    was = [
        (paper_id, current.papers[current.row_of[paper_id]].text_hash())
        for paper_id in changing
        if paper_id in current.row_of
    ]
    corpus = adjusted_corpus_hash(current.manifest.corpus_hash, was, [(paper.id, paper.text_hash()) for paper in added])
    if corpus is None:
        raise ValueError("the current version predates delta versions")
    return write_delta(
        folder,
        base.manifest,
        build_id=build_id,
        papers=papers,
        embeddings=vectors,
        terms=all_terms,
        key_terms=key_terms,
        hidden=hidden,
        count=base.size - len(hidden) + len(papers),
        corpus=corpus,
        embedded=encoded.embedded,
        encoder=encoder() if encoder is not None else dict(base.manifest.encoder),
    )
