"""The façade: every operation the CLI and the web app offer, in one class that knows neither.

:class:`Recommender` wires the parts together — ingest readers and the paper store, the embedder, the
versioned snapshots, retrieval and themes — and turns every failure into a
:class:`~recommender.errors.RecommenderError`. It is safe to share between threads: the current snapshot
and the model are loaded once and swapped atomically when a new version is published.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from tqdm import tqdm

from .cards import check_page, depth, first_authors, links, opening, page
from .collection import Collections
from .embedding import Embedder, SentenceTransformerEmbedder, light_query_config
from .embedding_cache import EmbeddingCache, fingerprint
from .errors import (
    BusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotBuiltError,
    InvalidInputError,
    NotFoundError,
    NothingIngestedError,
    NothingIngestedTooLargeError,
    NotReadyError,
    RecommenderError,
    StaleIndexError,
    StorageError,
    failure_reason,
)
from .hit import Hit
from .indexing import delta_limit, index_delta, index_papers
from .jobs import Job, JobRunner
from .manifest import Manifest, previous_model_config, same_corpus
from .model_profiles import ModelConfig, model_config
from .paper import Paper, check_reference
from .progress import Progress
from .query_batching import BatchingEncoder
from .retrieval import STRENGTH_MIN_PAPERS, Filters, Ranked, RetrievalConfig, Retriever
from .serving import Serving
from .settings import MAX_K, Settings
from .snapshot import Snapshot
from .store import PaperStore
from .strength import at_least, check_level
from .terms_cache import TermsCache
from .themes import METHODS as THEME_METHODS
from .themes.map import FILENAME as THEME_MAP_FILE
from .themes.map import ThemeMap
from .tokenizer import index_terms
from .versions import VersionStore, exclusive_lock, new_build_id

if TYPE_CHECKING:
    from .ingest import Rejected
    from .pubmed_fetch import FetchResult
    from .themes.fitting import ThemeWorkflow
    from .upload_parser import UploadLimits, UploadParser

# Ingest readers (bs4, lxml, rdflib, pypdf), themes and evaluation (scikit-learn), reports (jinja2), exports
# and the PubMed client (requests) are imported by the methods that use them: a command answering from a
# built index (`recommender related`) then starts in well under a second instead of four
# (`scripts/bench_cli.py`).
log = logging.getLogger(__name__)
EmbedderFactory = Callable[[ModelConfig, Settings], Embedder]
MAX_QUERY_CHARS = 20000
MAX_EXAMPLES = 100
#: Most papers of a collection used as examples (its latest additions): the query's key terms and mean
#: vector settle long before, and reading each example's terms costs time.
COLLECTION_EXAMPLES = 1000
#: Rejected records listed (with source, position and reason) in an ingest report; the rest are counted only,
#: so a file of five million bad lines gives a short answer (``rejected_count`` has them all).
MAX_LISTED_REJECTIONS = 100
#: Fitted theme maps kept in memory (different k, method or version); each is a few MB at 20,000 papers.
THEME_CACHE_SIZE = 8
#: A fitted map's cache key: version, k asked, method, named themes.
ThemeKey = tuple[str, int | None, str, tuple[str, ...]]
#: Seconds a theme request refused as busy is told to wait (a fit of 500 papers takes a few seconds).
THEME_RETRY_AFTER = 5


def default_embedder_factory(config: ModelConfig, settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        config,
        device=settings.device,
        batch_size=settings.batch_size,
        threads=settings.threads,
        choice_file=settings.cache_path / "backend_choice.json",
    )


@dataclass
class IngestReport:
    """What an ingest did, per input and in total."""

    index: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    total: int = 0
    papers: list[dict[str, Any]] = field(default_factory=list)
    #: Every rejected record counts; the first MAX_LISTED_REJECTIONS are listed with their reasons.
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def ids(self) -> list[str]:
        """The ids of the papers stored (added, updated or unchanged), for the index update that follows."""
        return [paper["id"] for paper in self.papers]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Recommender:
    """Ingest, build, related papers, search and themes for one index."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder_factory: EmbedderFactory = default_embedder_factory,
        retrieval: RetrievalConfig | None = None,
        upload_limits: UploadLimits | None = None,
    ) -> None:
        self.settings = settings
        self.store = PaperStore(settings.index_path)
        #: Named sets of papers, kept in the paper store (see :mod:`recommender.collection`).
        self.collections = Collections(self.store)
        self.versions = VersionStore(settings.index_path)
        self.retrieval = retrieval or retrieval_config(settings)
        self._embedder_factory = embedder_factory
        self._embedders: dict[str, Embedder] = {}
        #: Query encoders that batch concurrent requests, one per loaded embedder (see :meth:`_query_embedder`).
        self._batchers: dict[str, BatchingEncoder] = {}
        #: Which version answers: loaded once, swapped when a new one is published, never a broken one.
        self.serving = Serving(
            self.versions,
            check=lambda snapshot: snapshot.manifest.check_model(self._configured_model()),
            missing=self._not_built,
            search_threads=settings.search_threads,
        )
        #: Fitted theme maps by (version, k, method), least recently used first, at most THEME_CACHE_SIZE.
        self._theme_cache: OrderedDict[ThemeKey, ThemeMap] = OrderedDict()
        self._chips: tuple[tuple[object, ...], dict[str, dict[str, Any]], ThemeMap | None] | None = None
        self._lock = threading.RLock()  # short holds only: the embedder table, the theme cache
        #: Theme fits take seconds: one at a time, under their own lock, which nobody waits for — searches and
        #: version switches never need it, and a theme request that finds it taken is answered ``busy``.
        self._themes_lock = threading.RLock()
        self.jobs = JobRunner()
        #: Changes stored but not yet indexed, for the next update job (see :meth:`start_update`).
        self._pending = PendingChanges()
        self._upload_limits = upload_limits
        self._upload_parser: UploadParser | None = None

    @property
    def upload_parser(self) -> UploadParser:
        """The sandboxed parser of uploads (made on first use: only the web app's upload needs it)."""
        from .upload_parser import UploadLimits, UploadParser

        with self._lock:
            if self._upload_parser is None:
                settings = self.settings
                self._upload_parser = UploadParser(
                    self._upload_limits
                    or UploadLimits(seconds=settings.upload_parse_seconds, memory_bytes=settings.upload_memory_bytes)
                )
            return self._upload_parser

    @upload_parser.setter
    def upload_parser(self, parser: UploadParser) -> None:
        self._upload_parser = parser

    # ----------------------------------------------------------------------------------------- ingest
    def ingest(self, paths: Iterable[str | Path], *, columns: Mapping[str, str] | None = None) -> IngestReport:
        """Read every input into the store in one transaction; raise if nothing usable was read.

        When nothing is usable the transaction is rolled back, so the store and the index are untouched.
        """
        from .ingest import read_paths

        return self._ingest_items(read_paths(paths, columns))

    def ingest_records(self, records: Any, source: str = "request") -> IngestReport:
        """Store papers given as JSON records (same fields as a JSONL file), as :meth:`ingest` does files."""
        from .ingest import read_records

        return self._ingest_items(read_records(records, source))

    def _ingest_items(self, items: Iterable[tuple[str, str | None, Paper | Rejected]]) -> IngestReport:
        report = IngestReport(index=self.settings.index_name)
        oversized = 0  # rejections for a size limit: when they are all there is, the answer is 413, not 400
        with self.store.transaction() as writer:
            for source, position, item in tqdm(
                items, desc="ingest", unit=" records", disable=not self.settings.progress
            ):
                if not isinstance(item, Paper):
                    report.rejected_count += 1
                    oversized += item.too_large
                    if len(report.rejected) < MAX_LISTED_REJECTIONS:
                        report.rejected.append({"source": source, "position": position, "reason": item.reason})
                    continue
                outcome = writer.upsert(item)
                report.read += 1
                setattr(report, outcome.outcome, getattr(report, outcome.outcome) + 1)
                report.papers.append(
                    {"id": outcome.id, "source": source, "position": position, "outcome": outcome.outcome}
                )
            if report.read == 0:
                report.total = self.store.count()
                error = NothingIngestedTooLargeError if oversized and oversized == report.rejected_count else None
                raise (error or NothingIngestedError)(_nothing_message(report), details=report.to_dict())
        report.total = self.store.count()
        return report

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        """Store the papers of an uploaded file (any supported format, recognised from its content).

        The bytes are parsed in a child process with a time, memory and record limit (see
        :mod:`recommender.upload_parser`), so a hostile document cannot stall the server; the client's file
        name is only a label (the papers' ``source``), never a path, and nothing uploaded is executed.
        """
        label = _upload_label(name)
        items = self.upload_parser.parse(data, label)
        return self._ingest_items((label, position, item) for position, item in items)

    def delete(self, reference: str) -> Paper:
        """Remove a paper (by id, DOI or PMID) from the store; the next build leaves it out of the index."""
        paper = self.store.resolve(check_reference(reference))
        if paper is None:
            raise NotFoundError(f"no paper {reference!r} in index {self.settings.index_name!r}")
        with self.store.transaction() as writer:
            writer.delete(paper.id)
        return paper

    def fetch_pubmed(
        self,
        query: str,
        out_dir: Path,
        *,
        max_results: int = 1000,
        api_key: str | None = None,
        email: str | None = None,
        base_url: str | None = None,
        ingest_files: bool = True,
    ) -> tuple[FetchResult, IngestReport | None]:
        """Download a PubMed query's records as XML files into ``out_dir``, then ingest them (by default)."""
        options = {"base_url": base_url} if base_url else {}
        from .pubmed_fetch import fetch_pubmed

        result = fetch_pubmed(
            query,
            out_dir,
            max_results=max_results,
            api_key=api_key,
            email=email,
            progress=self.settings.progress,
            **options,
        )
        if not ingest_files or not result.files:
            return result, None
        return result, self.ingest(result.files)

    # ------------------------------------------------------------------------------------------ build
    def build(
        self, *, full: bool = False, embeddings: Path | None = None, progress: Progress | None = None
    ) -> Manifest:
        """Index every stored paper as a new version and make it current in one atomic step.

        Only papers whose text is not in the embedding cache are embedded (all of them with ``full``);
        ``embeddings`` is a folder of shards made elsewhere (see :mod:`recommender.distributed`), imported into
        the cache first. The new version is loaded and checked before it is published, so a build that fails
        at any point leaves the previous version current.
        """
        progress = progress or Progress(bars=self.settings.progress)
        try:
            return self._build(full=full, embeddings=embeddings, progress=progress)
        except (OSError, sqlite3.Error) as error:
            reason = failure_reason(error)
            current = self.versions.current_id()
            kept = f"version {current} stays current" if current else "no version was published"
            raise StorageError(
                f"the build of index {self.settings.index_name!r} could not write to disk ({reason}); {kept}. "
                "Cached embeddings are kept: free space and build again."
            ) from error

    def _build(self, *, full: bool, embeddings: Path | None, progress: Progress) -> Manifest:
        with exclusive_lock(self.settings.index_path):
            with self._lock:  # a full build indexes what the store holds now: every pending change included
                self._pending = PendingChanges()
            papers = list(self.store.papers())
            if not papers:
                raise IndexNotBuiltError(
                    f"index {self.settings.index_name!r} has no papers; run `recommender ingest PATH` first"
                )
            config = self._build_config()
            cache = self._cache(config)
            if embeddings is not None:
                cache.import_shards(embeddings)
            return self._publish(
                lambda folder, build_id: index_papers(
                    folder,
                    papers,
                    config,
                    lambda: self._embedder(config),
                    build_id=build_id,
                    cache=cache,
                    terms_cache=TermsCache(self.settings.cache_path),
                    full=full,
                    index_kind=self.settings.index_kind,
                    encoder=lambda: self._encoder_facts(config),
                    progress=progress,
                )
            )

    def _publish(self, write: Callable[[Path, str], Manifest]) -> Manifest:
        """Write a new version with ``write(folder, build_id)`` into a staging folder, publish it atomically and
        prune old versions (the caller holds the index's exclusive lock)."""
        build_id = new_build_id()
        with self.versions.staging(build_id) as folder:
            manifest = write(folder, build_id)
        self.versions.publish(build_id)
        self.versions.prune(keep=self.settings.keep_versions)
        return manifest

    def _publish_delta(self, progress: Progress) -> Manifest | None:
        """Publish the pending changes as a delta version; None when a full build must do it instead (no
        ids given, no current version, another model, a version from before deltas, or the merge is due).
        The changes are taken either way: the full build that follows indexes everything the store holds."""
        with self._lock:
            pending, self._pending = self._pending, PendingChanges()
        if pending.full or not (pending.added or pending.removed):
            return None
        try:
            with exclusive_lock(self.settings.index_path):
                return self._write_delta(pending, progress)
        except Exception:
            log.exception("adding papers as a delta version failed; building the whole index instead")
            return None

    def _write_delta(self, pending: PendingChanges, progress: Progress) -> Manifest | None:
        current = self.serving.current(required=False)
        if current is None or current.manifest.build_id != self.versions.current_id():
            return None
        base = current.base or current
        config = self._build_config()
        if not base.manifest.bm25 or config.name != base.manifest.model:
            return None
        if config.settings() != base.manifest.embedding_config().settings():
            return None
        added, removed = self._changes(current, pending)
        if not added and not removed:
            return current.manifest
        changing = {paper.id for paper in added} | removed
        in_delta = sum(1 for paper_id in changing if current.row_of.get(paper_id, -1) >= current.delta_start)
        if current.size - current.delta_start - in_delta + len(added) > delta_limit(base.size):
            return None  # the merge: a full build folds the delta into a new base
        return self._publish(
            lambda folder, build_id: index_delta(
                folder,
                current,
                added,
                removed,
                config,
                lambda: self._embedder(config),
                build_id=build_id,
                cache=self._cache(config),
                terms_cache=TermsCache(self.settings.cache_path),
                progress=progress,
            )
        )

    def _changes(self, current: Snapshot, pending: PendingChanges) -> tuple[list[Paper], set[str]]:
        """The stored papers that ``current`` lacks or holds in another form, and the ids it must drop (removed,
        or added and deleted since)."""
        stored = self.store.resolve_many(sorted(pending.added))
        added = []
        for paper_id, paper in stored.items():
            if paper is None or paper.id != paper_id:
                continue
            row = current.row_of.get(paper.id)
            if row is None or paper != current.papers[row]:
                added.append(paper)
        gone = pending.removed | {paper_id for paper_id, paper in stored.items() if paper is None}
        kept = {paper.id for paper in added}
        return added, {paper_id for paper_id in gone if paper_id in current.row_of and paper_id not in kept}

    def embed_with_ray(
        self,
        inputs: Sequence[str | Path],
        out_dir: Path,
        *,
        workers: int | None = None,
        address: str | None = None,
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Embed JSONL corpora on a Ray cluster (or a local instance) into shards for ``build(embeddings=...)``.

        The model is the one this index's next build would use, so the shards' keys and fingerprint match.
        """
        from .distributed import embed_with_ray  # ray is an optional extra: imported only when used

        return embed_with_ray(
            inputs,
            out_dir,
            self._build_config(),
            concurrency=workers,
            address=address,
            overwrite=overwrite,
            progress=self.settings.progress,
        )

    def start_rebuild(self, *, full: bool = False) -> Job:
        """Rebuild in the background; queries keep using the current version until the new one is loaded."""
        with self._lock:
            self._pending.full = True
        work = lambda progress: self._build_and_load(progress, full=full)  # noqa: E731
        return self.jobs.submit("rebuild", work, merge_key=_build_key(full))

    def start_update(self, kind: str, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> Job:
        """Bring the index up to date with the store in the background (after papers were added or deleted).

        Given the ids ``added`` (stored or re-stored) and ``removed``, the update is a delta version
        (:mod:`recommender.segments`): only those papers are embedded and written, in a time proportional to
        them, until the delta reaches its merge threshold; then, or without ids, it is a full build. An
        update and a plain rebuild share one queue slot (see :mod:`recommender.jobs`): a queued one absorbs
        this request, and the changes it must cover are collected here until a job takes them.
        """
        with self._lock:
            self._pending.note(added, removed)
        return self.jobs.submit(kind, lambda progress: self._build_and_load(progress), merge_key=_build_key(False))

    def _build_and_load(self, progress: Progress, *, full: bool = False) -> dict[str, Any]:
        """Build, then load the new version in this (background) thread so no request waits for the load."""
        self.serving.building.set()
        try:
            manifest = None if full else self._publish_delta(progress)
            if manifest is None:
                manifest = self.build(full=full, progress=progress)
        finally:
            self.serving.building.clear()
        with progress.step("load", total=1) as step:
            self._current_snapshot()
            step.advance()
        return _summary(manifest)

    def job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

    def close(self, timeout: float = 30.0) -> bool:
        """Shut down background work: queued jobs are dropped, a running build gets ``timeout`` seconds.

        Returns whether nothing is left running (an abandoned build publishes nothing).
        """
        with self._lock:
            batchers, self._batchers = list(self._batchers.values()), {}
        for batcher in batchers:
            batcher.close(timeout)
        return self.jobs.close(timeout)

    # --------------------------------------------------------------------------------------- versions
    def list_versions(self) -> list[dict[str, Any]]:
        """Every kept version, oldest first, with its manifest facts and whether it is current."""
        current = self.versions.current_id()
        listed = []
        for build_id in self.versions.list():
            entry: dict[str, Any] = {"id": build_id, "current": build_id == current}
            try:
                manifest = Manifest.read(self.versions.path(build_id))
                manifest.check_files(self.versions.path(build_id))
                entry.update(_summary(manifest), status="ok")
            except (IndexCorruptError, IndexMismatchError) as error:
                entry.update(status="unusable", problem=error.message)
            listed.append(entry)
        return listed

    def rollback(self, to: str | None = None) -> Manifest:
        """Make an earlier version current again: ``to``, else the newest one older than the current one.

        The target is loaded and checked first; the papers store is not changed, so the next build indexes
        everything stored again.
        """
        with exclusive_lock(self.settings.index_path):
            kept = self.versions.list()
            current = self.versions.current_id()
            if current not in kept:
                current = None  # CURRENT is damaged or names a removed version: every kept one is "older"
            if to is None:
                older = [build_id for build_id in kept if current is None or build_id < current]
                if not older:
                    raise NotFoundError(
                        f"index {self.settings.index_name!r} has no version older than the current one to go back to"
                    )
                to = older[-1]
            if to not in kept:
                raise NotFoundError(f"no version {to!r}; see `recommender versions`")
            snapshot = self.serving.load_version(to)
            snapshot.manifest.check_files(self.versions.path(to), checksums=True)
            self.versions.publish(to)
            self.serving.switch_to(snapshot)
        return snapshot.manifest

    def _configured_model(self) -> ModelConfig | None:
        """The model settings the user asked for explicitly, if any."""
        if self.settings.model is None and not self.settings.model_options:
            return None
        return model_config(self.settings.model, **self.settings.model_options)

    def _build_config(self) -> ModelConfig:
        """The configured model, else the one the current version used (models are sticky), else default."""
        configured = self._configured_model()
        if configured is not None:
            return configured
        try:
            current = self.versions.current_path()
            return Manifest.read(current).embedding_config() if current else model_config(None)
        except (IndexMismatchError, IndexCorruptError):
            # The current version is unreadable or of an older format: rebuilding is the cure, so start
            # from the model it (or the newest version that says) recorded, else from the default.
            return self._recorded_model() or model_config(None)

    def _recorded_model(self) -> ModelConfig | None:
        """The model the newest readable manifest recorded, read leniently, ``CURRENT``'s first."""
        current = self.versions.current_id()
        candidates = [current] if current else []
        candidates += [build_id for build_id in reversed(self.versions.list()) if build_id != current]
        for build_id in candidates:
            folder = self.versions.path(build_id)
            if folder.is_dir() and (config := previous_model_config(folder)) is not None:
                return config
        return None

    # -------------------------------------------------------------------------------------- evaluation
    def evaluate_retrieval(
        self,
        corpus: Path,
        queries: Path,
        qrels: Path,
        *,
        paper_mode: bool = False,
        run_dir: Path | None = None,
    ) -> dict[str, Any]:
        """nDCG@10, Recall@100 and MAP per retrieval mode on a throwaway index over ``corpus``."""
        embedder = self._embedder(self._configured_model() or model_config(None))
        from . import evaluation

        return evaluation.evaluate_retrieval(
            corpus,
            queries,
            qrels,
            embedder,
            config=self.retrieval,
            paper_mode=paper_mode,
            run_dir=run_dir,
            progress=self.settings.progress,
            cache=self._cache(embedder.config),
            terms_cache=TermsCache(self.settings.cache_path),
        )

    def evaluate_clustering(self, corpus: Path, *, method: str = "spectral") -> dict[str, Any]:
        """NMI, ARI and V-measure of themes on a labelled corpus, beside TF-IDF + KMeans."""
        if method not in THEME_METHODS:
            raise InvalidInputError(f"unknown theme method {method!r}; choose one of {', '.join(THEME_METHODS)}")
        embedder = self._embedder(self._configured_model() or model_config(None))
        from . import evaluation

        return evaluation.evaluate_clustering(
            corpus,
            embedder,
            config=self.retrieval,
            method=method,
            progress=self.settings.progress,
            cache=self._cache(embedder.config),
            terms_cache=TermsCache(self.settings.cache_path),
        )

    # ----------------------------------------------------------------------------------------- lookups
    def show(self, reference: str) -> Paper:
        """The stored record of a paper, by id, DOI or PMID."""
        reference = check_reference(reference)
        paper = self.store.resolve(reference)
        if paper is None:
            # Only an index folder without its store (copied versions alone) answers from the index: otherwise a
            # deleted paper would show until the index update that drops it finishes.
            snapshot = None if self.store.exists() else self._current_snapshot(required=False)
            if snapshot is not None and reference in snapshot.row_of:
                return snapshot.papers[snapshot.row_of[reference]]
            raise NotFoundError(f"no paper {reference!r} in index {self.settings.index_name!r}")
        return paper

    def related(
        self,
        reference: str,
        k: int = 10,
        *,
        mode: str | None = None,
        filters: Filters | None = None,
        offset: int = 0,
        sort: str = "relevance",
    ) -> list[Hit]:
        """Papers most related to a stored paper, the paper itself excluded; ``offset`` and ``sort`` page
        through the list (see :mod:`recommender.cards`)."""
        k = check_k(k)
        offset, sort = check_page(offset, sort, k)
        snapshot = self._current_snapshot()
        row = self._row(snapshot, reference)
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        tokens = retriever.paper_query_tokens(row)
        ranked = retriever.rank(
            snapshot.embeddings[row],
            tokens,
            depth(offset, k, sort),
            exclude={row, *excluded},
            paper_query=True,
            allowed=allowed,
            query_text=snapshot.papers[row].text,
        )
        return self._hits(snapshot, ranked, filters, (offset, k, sort))

    def search(
        self,
        text: str,
        k: int = 10,
        *,
        mode: str | None = None,
        filters: Filters | None = None,
        offset: int = 0,
        sort: str = "relevance",
    ) -> list[Hit]:
        """Papers most related to a free-text query (a question, a claim, or a pasted abstract)."""
        k = check_k(k)
        offset, sort = check_page(offset, sort, k)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError("search text must be a non-empty string")
        if len(text) > MAX_QUERY_CHARS:
            raise InvalidInputError(f"search text is longer than {MAX_QUERY_CHARS} characters")
        snapshot = self._current_snapshot()
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        vector = None
        if retriever.config.mode != "lexical":
            vector = self._query_embedder(snapshot).encode_queries([text])[0]
        tokens, paper_like = retriever.text_query(text)
        ranked = retriever.rank(
            vector,
            tokens,
            depth(offset, k, sort),
            exclude=excluded,
            allowed=allowed,
            query_text=text,
            paper_query=paper_like,  # a pasted abstract is ranked like a paper
        )
        return self._hits(snapshot, ranked, filters, (offset, k, sort))

    def recommend(
        self,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        k: int = 10,
        *,
        mode: str | None = None,
        filters: Filters | None = None,
        offset: int = 0,
        sort: str = "relevance",
    ) -> list[Hit]:
        """Papers like the ``positive`` examples and unlike the ``negative`` ones (none of them returned)."""
        k = check_k(k)
        offset, sort = check_page(offset, sort, k)
        if isinstance(positive, str) or isinstance(negative, str):
            raise InvalidInputError("positive and negative must be lists of paper ids")
        if not positive:
            raise InvalidInputError("give at least one positive example paper")
        if len(positive) + len(negative) > MAX_EXAMPLES:
            raise InvalidInputError(f"at most {MAX_EXAMPLES} example papers")
        snapshot = self._current_snapshot()
        positive_rows = list(dict.fromkeys(self._row(snapshot, reference) for reference in positive))
        negative_rows = [
            row for row in dict.fromkeys(self._row(snapshot, r) for r in negative) if row not in positive_rows
        ]
        return self._recommend_rows(snapshot, positive_rows, negative_rows, k, mode, filters, (offset, k, sort))

    def recommend_collection(
        self,
        name: str,
        k: int = 10,
        *,
        negative: Sequence[str] = (),
        mode: str | None = None,
        filters: Filters | None = None,
        offset: int = 0,
        sort: str = "relevance",
    ) -> list[Hit]:
        """Papers like a collection's (its papers are the positive examples, none of them returned).

        Papers added to the index since its last build are not examples yet; a collection larger than
        :data:`COLLECTION_EXAMPLES` is represented by its most recent additions."""
        k = check_k(k)
        offset, sort = check_page(offset, sort, k)
        if isinstance(negative, str) or len(negative) > MAX_EXAMPLES:
            raise InvalidInputError(f"negative must be a list of at most {MAX_EXAMPLES} paper ids")
        info = self.collections.info(name)
        ids = self.collections.paper_ids(info.name)
        snapshot = self._current_snapshot()
        positive_rows = [snapshot.row_of[paper_id] for paper_id in ids if paper_id in snapshot.row_of]
        if not positive_rows:
            raise InvalidInputError(
                f"collection {info.name!r} has no indexed paper to recommend from"
                + (" (its papers are not in the built index yet: run `recommender build`)" if ids else "")
            )
        positive_rows = positive_rows[-COLLECTION_EXAMPLES:]
        negative_rows = [
            row for row in dict.fromkeys(self._row(snapshot, r) for r in negative) if row not in set(positive_rows)
        ]
        return self._recommend_rows(snapshot, positive_rows, negative_rows, k, mode, filters, (offset, k, sort))

    def _recommend_rows(
        self,
        snapshot: Snapshot,
        positive_rows: list[int],
        negative_rows: list[int],
        k: int,
        mode: str | None,
        filters: Filters | None,
        paging: tuple[int, int, str],
    ) -> list[Hit]:
        offset, k, sort = paging
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        vector, tokens, penalised = retriever.examples_query(positive_rows, negative_rows)
        ranked = retriever.rank(
            vector,
            tokens,
            depth(offset, k, sort),
            exclude={*positive_rows, *negative_rows, *excluded},
            paper_query=True,
            allowed=allowed,
            negative_tokens=penalised,
            examples=True,
        )
        return self._hits(snapshot, ranked, filters, (offset, k, sort))

    def themes(
        self,
        k: int | None = None,
        *,
        method: str = "spectral",
        refit: bool = False,
        within: int | None = None,
        seed_themes: Sequence[str] = (),
    ) -> ThemeMap:
        """The index's themes: ``k`` of them (chosen automatically when ``None``) by ``method``, with the
        named ``seed_themes`` first. The workflow is :class:`~recommender.themes.fitting.ThemeWorkflow`.

        The map is kept beside the index; papers indexed since it was fitted are placed in the existing
        themes (nearest centre) unless ``refit``. ``within`` sub-clusters one theme's papers (not kept).

        Maps already fitted are answered from memory (the last :data:`THEME_CACHE_SIZE`). A request that needs
        a fit while another fit runs gets :class:`BusyError` (409 with ``Retry-After``) at once instead of
        waiting: waiting requests would hold the server's threads, and a flood of theme requests for random
        ``k`` would starve every other endpoint.
        """
        snapshot = self._current_snapshot()
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= snapshot.size):
            raise InvalidInputError(f"k must be an integer between 1 and the number of papers ({snapshot.size})")
        if method not in THEME_METHODS:
            raise InvalidInputError(f"unknown theme method {method!r}; choose one of {', '.join(THEME_METHODS)}")
        from .themes.fitting import check_seed_names

        seeds = check_seed_names(seed_themes)
        if seeds and within is not None:
            raise InvalidInputError("named themes apply to the whole corpus, not to the sub-themes of one theme")
        if k is not None and k < len(seeds):
            raise InvalidInputError(f"{len(seeds)} named themes need k of at least {len(seeds)}")
        key = (snapshot.manifest.build_id, k, method, seeds)
        if within is None and not refit and (cached := self._cached_themes(key)) is not None:
            return cached
        if not self._themes_lock.acquire(blocking=False):
            raise BusyError(
                "another theme map is being fitted; try again in a few seconds (maps already fitted answer at once)",
                retry_after=THEME_RETRY_AFTER,
            )
        try:
            workflow = self._theme_workflow()
            if within is not None:
                return workflow.sub_themes(snapshot, within, k, method)
            if not refit and (cached := self._cached_themes(key)) is not None:
                return cached  # fitted by the request that held the lock just before this one
            fitted = workflow.current(snapshot, k, method, refit, seeds)
            with self._lock:
                self._theme_cache[key] = fitted
                self._theme_cache.move_to_end(key)
                while len(self._theme_cache) > THEME_CACHE_SIZE:
                    self._theme_cache.popitem(last=False)
            return fitted
        finally:
            self._themes_lock.release()

    def _cached_themes(self, key: ThemeKey) -> ThemeMap | None:
        with self._lock:
            fitted = self._theme_cache.get(key)
            if fitted is not None:
                self._theme_cache.move_to_end(key)
            return fitted

    def _theme_workflow(self) -> ThemeWorkflow:
        from .themes.fitting import ThemeWorkflow

        terms_cache = TermsCache(self.settings.cache_path)
        return ThemeWorkflow(
            self.settings.index_path,
            self.retrieval,
            terms_of=lambda texts: terms_cache.terms(texts, index_terms),
            encode_names=lambda snapshot: self._query_embedder(snapshot).encode_queries,
            progress=self.settings.progress,
        )

    def theme_points(
        self, k: int | None = None, *, method: str = "spectral", seed_themes: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The 2-D theme map as columns, for drawing (see :func:`recommender.themes.fitting.theme_points`)."""
        theme_map = self.themes(k, method=method, seed_themes=seed_themes)
        from .themes.fitting import theme_points

        return theme_points(theme_map, self._current_snapshot())

    def theme_report(
        self,
        k: int | None = None,
        *,
        method: str = "spectral",
        within: int | None = None,
        fmt: str = "html",
        seed_themes: Sequence[str] = (),
    ) -> str:
        """The themes as a shareable report (HTML, Markdown, JSON or CSV)."""
        from .themes.report import FORMATS as REPORT_FORMATS
        from .themes.report import render as render_report

        if fmt not in REPORT_FORMATS:
            raise InvalidInputError(f"unknown report format {fmt!r}; choose one of {', '.join(REPORT_FORMATS)}")
        theme_map = self.themes(k, method=method, within=within, seed_themes=seed_themes)
        snapshot = self._current_snapshot()
        papers = {paper.id: paper for paper in snapshot.papers}
        return render_report(theme_map, papers, fmt, title=f"index '{self.settings.index_name}'")

    def export(
        self,
        fmt: str,
        out: TextIO,
        *,
        ids: Sequence[str] = (),
        theme: int | None = None,
        collection: str | None = None,
        themes: ThemeMap | None = None,
        theme_k: int | None = None,
        theme_method: str = "spectral",
        theme_seeds: Sequence[str] = (),
    ) -> int:
        """Write stored papers to ``out`` in a reference-manager format (:mod:`recommender.export`): all of
        them, or the ``ids`` given (ids, DOIs or PMIDs, in that order), one ``theme``'s papers tagged with
        its label (in the map of ``theme_k``, ``theme_method`` and ``theme_seeds``), a ``collection``'s
        papers tagged with its name, or every paper of a fitted map (``themes``) tagged with its theme's
        label. Returns the number written; an unknown id, theme or collection is the caller's error, before
        anything is written."""
        from .export import FORMATS as EXPORT_FORMATS
        from .export import export_papers

        if fmt not in EXPORT_FORMATS:
            raise InvalidInputError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        chosen = list(ids)
        tags: dict[str, list[str]] = {}
        selections = [
            self._theme_selection(theme, theme_k, theme_method, theme_seeds) if theme is not None else None,
            self._collection_selection(collection) if collection is not None else None,
            _map_selection(themes) if themes is not None else None,
        ]
        for selection in selections:
            if selection is not None:
                chosen += selection[0]
                for paper_id, labels in selection[1].items():
                    tags.setdefault(paper_id, []).extend(labels)
        if not chosen and all(selection is None for selection in selections):
            return export_papers(self.store.papers(), fmt, out, tags=tags)
        references = list(dict.fromkeys(check_reference(reference) for reference in chosen))
        found = self.store.resolve_many(references)
        unknown = [reference for reference, paper in found.items() if paper is None]
        if unknown:
            raise NotFoundError(f"no paper {unknown[0]!r} in index {self.settings.index_name!r}")
        papers = list({paper.id: paper for paper in found.values() if paper is not None}.values())
        return export_papers(papers, fmt, out, tags=tags)

    def _theme_selection(
        self, theme: int, k: int | None, method: str, seeds: Sequence[str]
    ) -> tuple[list[str], dict[str, list[str]]]:
        found = [item for item in self.themes(k, method=method, seed_themes=seeds).themes if item["id"] == theme]
        if not found:
            raise InvalidInputError(f"unknown theme id {theme}; see `recommender themes`")
        return list(found[0]["papers"]), {paper_id: [str(found[0]["label"])] for paper_id in found[0]["papers"]}

    def _collection_selection(self, name: str) -> tuple[list[str], dict[str, list[str]]]:
        info = self.collections.info(name)
        ids = [paper_id for paper_id in self.collections.paper_ids(info.name)]
        stored = self.store.resolve_many(ids)
        ids = [paper_id for paper_id in ids if stored[paper_id] is not None]  # missing papers cannot be written
        return ids, {paper_id: [info.name] for paper_id in ids}

    def ready(self) -> dict[str, Any]:
        """Whether queries can be answered now: the current version is loaded (loading it if needed)."""
        try:
            snapshot = self._current_snapshot()
        except RecommenderError as error:
            raise NotReadyError(f"not ready: {error.message}") from None
        answer: dict[str, Any] = {"ready": True, "version": snapshot.manifest.build_id, "papers_indexed": snapshot.size}
        if self.serving.problem and snapshot.manifest.build_id != self.versions.current_id():
            answer["problem"] = self.serving.problem
        return answer

    def serving_size(self) -> int:
        """Papers in the version currently loaded (0 before one is), without touching the disk."""
        snapshot = self.serving.loaded
        return snapshot.size if snapshot is not None else 0

    def pending_changes(self) -> bool:
        """Whether the store holds papers (or edits, or deletions) that the current version does not.

        After a crash between storing papers and indexing them, or papers ingested without a build, the
        store is ahead of the index; :meth:`catch_up` closes the gap.
        """
        if self.store.count() == 0:
            return False
        try:
            current = self.versions.current_path()
            if current is None:
                return True
            indexed = Manifest.read(current).corpus_hash
        except (IndexCorruptError, IndexMismatchError):
            return True
        return not same_corpus(indexed, self.store.text_hashes())

    def catch_up(self) -> Job | None:
        """Start a background update if the store is ahead of the index (see :meth:`pending_changes`)."""
        if not self.pending_changes():
            return None
        log.info("the paper store is ahead of the index: starting a catch-up build")
        return self.start_update("catch-up")

    def status(self) -> dict[str, Any]:
        """Where the index stands: store size, current version and its manifest, and what is wrong, if anything.

        Never raises for a damaged index or store: it is what ``/health`` answers with, and a health check
        must describe the trouble rather than join it.
        """
        info: dict[str, Any] = {"index": self.settings.index_name}
        problems: list[str] = []
        try:
            info["papers_stored"] = self.store.count()
        except RecommenderError as error:
            problems.append(error.message)
        info["version"] = self.versions.current_id()
        try:
            current = self.versions.current_path()
            if current is not None:
                manifest = Manifest.read(current)
                info.update(
                    papers_indexed=manifest.count,
                    model=manifest.model,
                    dimension=manifest.dimension,
                    built_at=manifest.built_at,
                    index_type=manifest.index_type,
                    recall_at_10=manifest.recall_at_10,
                    encoder=manifest.encoder,
                )
                if manifest.base is not None:  # a delta version: papers added since the last full build
                    info["delta"] = {"base": manifest.base, **manifest.delta}
        except (IndexCorruptError, IndexMismatchError) as error:
            problems.append(error.message)
        serving = self.serving.loaded
        if serving is not None and serving.manifest.build_id != info["version"]:
            info["serving"] = serving.manifest.build_id  # a fallback, or the moment before a new version loads
            info.setdefault("papers_indexed", serving.size)
            problem = self.serving.problem
            if problem and problem not in problems:
                problems.insert(0, problem)
        if problems:
            info["problem"] = "; ".join(problems)
        return info

    # -------------------------------------------------------------------------------------- internals
    def _row(self, snapshot: Snapshot, reference: str) -> int:
        """The snapshot row of a paper given by id, DOI or PMID; 404 if unknown, 409 if not built yet."""
        reference = check_reference(reference)
        row = snapshot.row_of.get(reference)
        if row is not None:
            return row
        paper = self.store.resolve(reference)
        if paper is None:
            raise NotFoundError(f"no paper {reference!r} in index {self.settings.index_name!r}")
        row = snapshot.row_of.get(paper.id)
        if row is None:
            raise StaleIndexError(
                f"paper {paper.id!r} was ingested after the last build; run `recommender build` to index it"
            )
        return row

    def _filter_rows(self, snapshot: Snapshot, filters: Filters | None) -> tuple[np.ndarray | None, set[int]]:
        """The allowed-rows mask and the excluded rows of a filter (unknown excluded ids are ignored)."""
        if filters is None:
            return None, set()
        check_filters(filters)
        excluded = {snapshot.row_of[paper_id] for paper_id in filters.exclude if paper_id in snapshot.row_of}
        theme_of_row = None
        if filters.themes:
            report = self.themes()
            known = {theme["id"] for theme in report.themes}
            unknown = sorted(set(filters.themes) - known)
            if unknown:
                raise InvalidInputError(
                    f"unknown theme id {unknown[0]}; themes are {sorted(known)} (see `recommender themes`)"
                )
            theme_of_row = np.full(snapshot.size, -1)
            for theme in report.themes:
                theme_of_row[[snapshot.row_of[paper_id] for paper_id in theme["papers"]]] = theme["id"]
        return filters.mask(snapshot, theme_of_row), excluded

    def _current_snapshot(self, *, required: bool = True) -> Snapshot:
        """The version that answers (see :class:`~recommender.serving.Serving`)."""
        return self.serving.current(required=required)  # type: ignore[return-value]

    def _not_built(self) -> IndexNotBuiltError:
        stored = self.store.count()
        if stored:
            return IndexNotBuiltError(
                f"index {self.settings.index_name!r} has {stored} papers but no built version; run `recommender build`"
            )
        return IndexNotBuiltError(
            f"index {self.settings.index_name!r} is empty; run `recommender ingest PATH` then `recommender build`"
        )

    def _cache(self, config: ModelConfig) -> EmbeddingCache:
        return EmbeddingCache(self.settings.cache_path / "embeddings", fingerprint(config))

    def _embedder(self, config: ModelConfig) -> Embedder:
        key = _embedder_key(config)
        with self._lock:
            if key not in self._embedders:
                self._embedders[key] = self._embedder_factory(config, self.settings)
            return self._embedders[key]

    def _encoder_facts(self, config: ModelConfig) -> dict[str, Any]:
        """How this build's new vectors were computed (backend, device, CPU, calibration), for the manifest;
        when every vector came from the embedding cache, no model ran."""
        with self._lock:
            embedder = self._embedders.get(_embedder_key(config))
        if embedder is None:
            return {"backend": config.backend, "note": "no model ran: every vector came from the embedding cache"}
        describe = getattr(embedder, "describe", None)
        facts: dict[str, Any] = describe() if describe is not None else {"backend": config.backend}
        return facts

    def _query_embedder(self, snapshot: Snapshot) -> Embedder:
        config = snapshot.manifest.embedding_config()
        if self.settings.light_queries:  # a fresh CLI process: the lightest interchangeable encoder
            config = light_query_config(config)
        embedder = self._embedder(config)
        if self.settings.query_batching and not self.settings.light_queries:  # a server: share model calls
            with self._lock:
                key = _embedder_key(config)
                batcher = self._batchers.get(key)
                if batcher is None or batcher.wrapped is not embedder:
                    batcher = self._batchers[key] = BatchingEncoder(embedder)
            embedder = batcher
        if embedder.dimension != snapshot.manifest.dimension:
            raise IndexMismatchError(
                f"model {embedder.model_id!r} gives {embedder.dimension}-d vectors but the index holds "
                f"{snapshot.manifest.dimension}-d vectors; rebuild the index with this model"
            )
        return embedder

    def _retriever(self, snapshot: Snapshot, mode: str | None) -> Retriever:
        config = self.retrieval
        if mode is not None and mode != config.mode:
            try:
                config = dataclasses.replace(config, mode=mode)
            except ValueError as error:
                raise InvalidInputError(str(error)) from None
        return Retriever(snapshot, config)

    def _hits(
        self,
        snapshot: Snapshot,
        ranked: list[Ranked],
        filters: Filters | None = None,
        paging: tuple[int, int, str] = (0, MAX_K, "relevance"),
    ) -> list[Hit]:
        """Ranked rows as hits, one page of them; with a least strength, weaker hits dropped first (fewer
        than k may remain)."""
        wanted = filters.min_strength if filters is not None else None
        if wanted is not None:
            if any(item.level is None for item in ranked):
                raise InvalidInputError(
                    "min_strength needs the hybrid mode (strength uses both score parts) and an index of "
                    f"{STRENGTH_MIN_PAPERS} papers or more (strength is calibrated on large corpora)"
                )
            ranked = [item for item in ranked if item.level is not None and at_least(item.level, wanted)]
        ranked = page(ranked, *paging, year=lambda item: snapshot.papers[item.row].year)
        chips = self._theme_chips(snapshot)
        return [_hit(snapshot.papers[item.row], item, chips) for item in ranked]

    def _theme_chips(self, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
        """Each paper's theme ({"id", "label"}) in the index's default theme map, when one has been fitted:
        from memory, else the kept map (read once per version and map file). Never fits one: a search must
        not wait for a theme fit."""
        fitted = self._cached_themes((snapshot.manifest.build_id, None, "spectral", ()))
        stamp: tuple[object, ...]
        if fitted is not None:
            stamp = ("memory", id(fitted))
        else:
            path = self.settings.index_path / THEME_MAP_FILE
            try:
                stamp = ("kept", path.stat().st_mtime_ns, snapshot.manifest.build_id)
            except OSError:
                return {}
        with self._lock:
            if self._chips is not None and self._chips[0] == stamp:
                return self._chips[1]
        if fitted is None:
            try:  # the kept map read directly: the theme workflow would import scikit-learn (seconds)
                fitted = ThemeMap.load(self.settings.index_path)
            except IndexCorruptError:
                fitted = None
            if fitted is None or not fitted.matches(None, "spectral", snapshot.manifest.model):
                fitted = None
        chips = {} if fitted is None else fitted.chips()
        with self._lock:
            self._chips = (stamp, chips, fitted)  # the map is held so that its id is not reused
        return chips


def _embedder_key(config: ModelConfig) -> str:
    """One loaded model per model, vector settings and backend (fp32 and bf16 share vectors, not a model)."""
    return json.dumps([config.name, config.settings(), config.backend], sort_keys=True)


def _map_selection(theme_map: ThemeMap) -> tuple[list[str], dict[str, list[str]]]:
    """Every themed paper of a map, theme by theme, tagged with its theme's label."""
    ids = [paper_id for theme in theme_map.themes for paper_id in theme["papers"]]
    return ids, {paper_id: [str(theme["label"])] for theme in theme_map.themes for paper_id in theme["papers"]}


def _hit(paper: Paper, item: Ranked, chips: Mapping[str, dict[str, Any]]) -> Hit:
    """One ranked paper as a hit with its result card's fields."""
    return Hit(
        id=paper.id,
        title=paper.display_title,  # an untitled paper: its opening words, not null
        score=round(item.score, 6),
        dense=round(item.dense, 6),
        lexical=round(item.lexical, 6),
        shared_terms=item.shared_terms,
        journal=paper.journal,
        year=paper.year,
        doi=paper.doi,
        pmid=paper.pmid,
        strength=item.strength,
        match=item.level,
        snippet=opening(paper) if item.snippet is None else item.snippet.to_dict(),
        authors=first_authors(paper),
        author_count=len(paper.authors),
        pmcid=paper.pmcid,
        links=links(paper),
        theme=chips.get(paper.id),
    )


def retrieval_config(settings: Settings) -> RetrievalConfig:
    """The ranking configuration: measured defaults, with the settings' fusion choices applied."""
    overrides = {
        name: getattr(settings, name)
        for name in ("fusion", "text_weight", "paper_weight")
        if getattr(settings, name) is not None
    }
    if settings.fusion is not None:  # a method chosen by the user applies to both query forms
        overrides["paper_fusion"] = settings.fusion
    try:
        return dataclasses.replace(RetrievalConfig(), **overrides)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def check_k(k: object) -> int:
    """``k`` must be an integer in [1, MAX_K]; anything else is the caller's error."""
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be an integer between 1 and {MAX_K}")
    return k


def check_filters(filters: Filters) -> None:
    """Plausible years in order, and strings/ints where they belong."""
    for name in ("year_min", "year_max"):
        value = getattr(filters, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1000 <= value <= 3000):
            raise InvalidInputError(f"{name} must be a year such as 2019")
    if filters.year_min is not None and filters.year_max is not None and filters.year_min > filters.year_max:
        raise InvalidInputError("year_min is after year_max")
    if not all(isinstance(journal, str) and journal.strip() for journal in filters.journals):
        raise InvalidInputError("journals must be non-empty strings")
    if not all(isinstance(theme, int) and not isinstance(theme, bool) for theme in filters.themes):
        raise InvalidInputError("themes must be theme ids (integers)")
    if not all(isinstance(paper_id, str) for paper_id in filters.exclude):
        raise InvalidInputError("exclude must be a list of paper ids")
    if filters.min_strength is not None:
        try:
            check_level(filters.min_strength)
        except ValueError as error:
            raise InvalidInputError(str(error)) from None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _upload_label(name: object) -> str:
    """A client's file name reduced to a harmless label: its last part, printable, at most 200 characters."""
    text = name if isinstance(name, str) else ""
    text = _CONTROL.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return text[:200] or "upload"


def _nothing_message(report: IngestReport) -> str:
    reasons = "; ".join(
        f"{item['source']}{' ' + item['position'] if item['position'] else ''}: {item['reason']}"
        for item in report.rejected[:5]
    )
    more = f" (and {report.rejected_count - 5:,} more)" if report.rejected_count > 5 else ""
    return f"no usable paper was read: {reasons or 'no input files'}{more}"


@dataclass
class PendingChanges:
    """Paper ids stored or removed since the last update job took them; ``full`` when only a full build will do."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    full: bool = False

    def note(self, added: Iterable[str], removed: Iterable[str]) -> None:
        added, removed = set(added), set(removed)
        if not added and not removed:
            self.full = True  # a change without ids: only a full build knows what it covers
        self.added = (self.added - removed) | added
        self.removed = (self.removed - added) | removed


def _build_key(full: bool) -> str:
    """Jobs with equal keys do the same work (see :mod:`recommender.jobs`): a full build re-embeds everything."""
    return "build-full" if full else "build"


def _summary(manifest: Manifest) -> dict[str, Any]:
    """What callers want to know about a version (the manifest minus its file list)."""
    return manifest.model_dump(exclude={"files", "model_settings"})
