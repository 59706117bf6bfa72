"""Papers → the files of one index version: embed (through the embedding cache), tokenize (through the terms
cache), then write vectors, BM25 postings, records and manifest (:func:`recommender.snapshot.write_snapshot`).

The service's builds and the evaluation's throwaway indexes both go through :func:`index_papers`, so what is
measured on a benchmark is the pipeline that serves. Where the version goes (a staging folder published
atomically, or a temporary folder) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .embedding import Embedder
from .embedding_cache import EmbeddingCache, encode_cached
from .manifest import Manifest
from .model_profiles import ModelConfig
from .paper import Paper
from .progress import SILENT, Progress
from .snapshot import BuildInputs, write_snapshot
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
    texts = [config.document_text(paper.title, paper.abstract) for paper in papers]
    encoded = encode_cached(texts, cache, load_embedder, full=full, progress=progress)
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
