"""Papers → the files of one index version: embed (through the embedding cache), tokenize (through the terms
cache), then write vectors, BM25 postings, records and manifest (:func:`recommender.snapshot.write_snapshot`).

The service's builds and the evaluation's throwaway indexes both go through :func:`index_papers`, so what is
measured on a benchmark is the pipeline that serves. Where the version goes (a staging folder published
atomically, or a temporary folder) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import Embedder
from .embedding_cache import EmbeddingCache, Encoded, encode_cached
from .manifest import Manifest, adjusted_corpus_hash
from .model_profiles import ModelConfig
from .paper import Paper
from .progress import SILENT, Progress
from .snapshot import BuildInputs, Snapshot, write_delta, write_snapshot
from .terms_cache import TermsCache
from .tokenizer import index_terms


def index_papers(
    folder: Path,
    papers: Sequence[Paper],
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
    """Write a version of ``papers`` into ``folder`` and return its manifest.

    Only texts the cache lacks are embedded (all of them with ``full``), and the model is loaded only then;
    ``encoder`` describes how the vectors were computed, asked after encoding (the automatic backend is
    chosen when the model loads)."""
    encoded = _encode(papers, config, cache, load_embedder, full=full, progress=progress)
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
    return write_snapshot(
        folder,
        build_id=build_id,
        papers=list(papers),
        embeddings=encoded.vectors,
        inputs=inputs,
        terms=_terms(papers, terms_cache, progress),
        progress=progress,
    )


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


def _terms(papers: Sequence[Paper], cache: TermsCache | None, progress: Progress) -> list[list[str]]:
    """Each paper's BM25 terms, from the terms cache where it has them."""
    texts = [paper.text for paper in papers]
    with progress.step("tokenize", total=len(papers), unit=" papers") as step:
        if cache is None:
            terms = []
            for text in texts:
                terms.append(index_terms(text))
                step.advance()
            return terms
        terms = cache.terms(texts, index_terms, on_computed=step.advance)
        step.advance(len(papers) - step.done)
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
