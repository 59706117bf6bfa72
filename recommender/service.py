"""The façade: every operation the CLI and the web app offer, in one class that knows neither.

:class:`Recommender` wires the parts of one index together and delegates: readers into the paper store
(:mod:`.ingesting`), the models (:mod:`.encoders`), new versions and rollbacks (:mod:`.updates`), which
version answers (:mod:`.serving`), queries (:mod:`.answering`), themes (:mod:`.themes.maps`) and exports
(:mod:`.export_selection`). Every request is checked here first (:mod:`.checks`), so the CLI, the web API
and the library refuse the same inputs, and every failure is a :class:`~recommender.errors.RecommenderError`.
It is safe to share between threads: the current snapshot and the models are loaded once and swapped
atomically when a new version is published.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import health
from .answering import Answering, retrieval_config
from .checks import check_choice, check_examples, check_negative, check_paging, check_search_text, upload_label
from .collection import Collections
from .embedding import Embedder
from .encoders import EmbedderFactory, Encoders, default_embedder_factory
from .errors import NotFoundError, RecommenderError
from .export_selection import collection_selection, export_selected, map_selection, theme_selection
from .hit import Hit
from .ingesting import IngestReport, InputOutcome, Item, store_items
from .jobs import Job, JobRunner
from .manifest import Manifest
from .paper import Paper, check_reference
from .progress import Progress
from .retrieval import Filters, RetrievalConfig
from .serving import Serving
from .settings import Settings
from .snapshot import Snapshot
from .store import PaperStore
from .terms_cache import TermsCache
from .themes import METHODS as THEME_METHODS
from .themes import REPORT_FORMATS
from .themes.fitted import FittedThemes
from .themes.maps import ThemeMaps
from .updates import Updates
from .versions import VersionInfo, VersionStore

if TYPE_CHECKING:
    from .distributed import RaySummary
    from .evaluation import ClusteringEvaluation, RetrievalEvaluation
    from .pubmed_fetch import FetchResult
    from .upload_parser import UploadLimits, UploadParser

# Ingest readers (bs4, lxml, rdflib, pypdf), themes and evaluation (scikit-learn), reports (jinja2), exports
# and the PubMed client (requests) are imported by the methods that use them: a command answering from a
# built index (`recommender related`) then starts in well under a second instead of four
# (`scripts/bench_cli.py`).
log = logging.getLogger(__name__)

#: Imported from here by the CLI, the library and the tests: the façade's own vocabulary.
__all__ = ["EmbedderFactory", "Hit", "IngestReport", "Recommender", "default_embedder_factory"]


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
        self.encoders = Encoders(settings, self.versions, embedder_factory)
        #: Which version answers: loaded once, swapped when a new one is published, never a broken one.
        self.serving = Serving(
            self.versions,
            check=lambda snapshot: snapshot.manifest.check_model(self.encoders.configured()),
            missing=lambda: health.not_built(settings.index_name, self.store),
            search_threads=settings.search_threads,
        )
        self.jobs = JobRunner()
        self.updates = Updates(settings, self.store, self.versions, self.serving, self.encoders, self.jobs)
        self.theme_maps = ThemeMaps(
            settings, self.retrieval, lambda snapshot: self.encoders.for_queries(snapshot).encode_queries
        )
        self.answering = Answering(
            self.store, settings.index_name, self.retrieval, self.encoders.for_queries, self.theme_maps
        )
        self._upload_limits = upload_limits
        self._upload_parser: UploadParser | None = None
        self._upload_lock = threading.Lock()

    @property
    def upload_parser(self) -> UploadParser:
        """The sandboxed parser of uploads (made on first use: only the web app's upload needs it)."""
        from .upload_parser import UploadLimits, UploadParser

        with self._upload_lock:
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

        return self._store(read_paths(paths, columns))

    def ingest_records(self, records: Any, source: str = "request") -> IngestReport:
        """Store papers given as JSON records (same fields as a JSONL file), as :meth:`ingest` does files."""
        from .ingest import read_records

        return self._store(read_records(records, source))

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        """Store the papers of an uploaded file (any supported format, recognised from its content).

        The bytes are parsed in a child process with a time, memory and record limit (see
        :mod:`recommender.upload_parser`), so a hostile document cannot stall the server; the client's file
        name is only a label (the papers' ``source``), never a path, and nothing uploaded is executed.
        """
        label = upload_label(name)
        items = self.upload_parser.parse(data, label)
        return self._store((label, position, item) for position, item in items)

    def ingest_uploads(self, uploads: Iterable[tuple[str, bytes]]) -> list[InputOutcome]:
        """Store several uploads (``(name, bytes)``, read lazily, in order), each on its own as
        :meth:`ingest_upload` does: one that stores nothing (no usable paper, over a limit, too slow to read)
        gets its error in its outcome, and the others are stored all the same.

        They are read one after another in one parse slot, so a request is refused as busy at its start,
        before anything is stored, or not at all.
        """
        outcomes: list[InputOutcome] = []
        with self.upload_parser.reserved():
            for name, data in uploads:
                label = upload_label(name)
                try:
                    outcomes.append(InputOutcome(label, report=self.ingest_upload(name, data)))
                except RecommenderError as error:
                    outcomes.append(InputOutcome(label, error=error))
        return outcomes

    def _store(self, items: Iterable[Item]) -> IngestReport:
        return store_items(self.store, items, index=self.settings.index_name, progress=self.settings.progress)

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
        from .pubmed_fetch import DEFAULT_BASE_URL, fetch_pubmed

        result = fetch_pubmed(
            query,
            out_dir,
            max_results=max_results,
            api_key=api_key,
            email=email,
            base_url=base_url or DEFAULT_BASE_URL,
            progress=self.settings.progress,
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
        return self.updates.build(full=full, embeddings=embeddings, progress=progress)

    def embed_with_ray(
        self,
        inputs: Sequence[str | Path],
        out_dir: Path,
        *,
        workers: int | None = None,
        address: str | None = None,
        overwrite: bool = False,
    ) -> RaySummary:
        """Embed JSONL corpora on a Ray cluster (or a local instance) into shards for ``build(embeddings=...)``.

        The model is the one this index's next build would use, so the shards' keys and fingerprint match.
        """
        from .distributed import embed_with_ray  # ray is an optional extra: imported only when used

        return embed_with_ray(
            inputs,
            out_dir,
            self.encoders.for_build(),
            concurrency=workers,
            address=address,
            overwrite=overwrite,
            progress=self.settings.progress,
        )

    def start_rebuild(self, *, full: bool = False) -> Job:
        """Rebuild in the background; queries keep using the current version until the new one is loaded."""
        return self.updates.start_rebuild(full=full)

    def start_update(self, kind: str, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> Job:
        """Bring the index up to date with the store in the background (after papers were added or deleted).

        Given the ids ``added`` (stored or re-stored) and ``removed``, the update is a delta version
        (:mod:`recommender.segments`): only those papers are embedded and written, in a time proportional to
        them, until the delta reaches its merge threshold; then, or without ids, it is a full build.
        """
        return self.updates.start_update(kind, added=added, removed=removed)

    def job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

    def close(self, timeout: float = 30.0) -> bool:
        """Shut down background work: queued jobs are dropped, a running build gets ``timeout`` seconds.

        Returns whether nothing is left running (an abandoned build publishes nothing).
        """
        self.encoders.close(timeout)
        return self.jobs.close(timeout)

    # --------------------------------------------------------------------------------------- versions
    def list_versions(self) -> list[VersionInfo]:
        """Every kept version, oldest first, with its manifest and whether it is current."""
        return self.updates.list_versions()

    def rollback(self, to: str | None = None) -> Manifest:
        """Make an earlier version current again: ``to``, else the newest one older than the current one.

        The target is loaded and checked first; the papers store is not changed, so the next build indexes
        everything stored again.
        """
        return self.updates.rollback(to)

    # -------------------------------------------------------------------------------------- evaluation
    def evaluate_retrieval(
        self,
        corpus: Path,
        queries: Path,
        qrels: Path,
        *,
        paper_mode: bool = False,
        run_dir: Path | None = None,
    ) -> RetrievalEvaluation:
        """nDCG@10, Recall@100 and MAP per retrieval mode on a throwaway index over ``corpus``."""
        embedder, shared = self._evaluation()
        from . import evaluation

        return evaluation.evaluate_retrieval(
            corpus, queries, qrels, embedder, paper_mode=paper_mode, run_dir=run_dir, **shared
        )

    def evaluate_clustering(self, corpus: Path, *, method: str = "spectral") -> ClusteringEvaluation:
        """NMI, ARI and V-measure of themes on a labelled corpus, beside TF-IDF + KMeans."""
        check_choice("theme method", method, THEME_METHODS)
        embedder, shared = self._evaluation()
        from . import evaluation

        return evaluation.evaluate_clustering(corpus, embedder, method=method, **shared)

    def _evaluation(self) -> tuple[Embedder, dict[str, Any]]:
        """The model an evaluation uses (the configured one, else the default: a throwaway index follows no
        version) and what both evaluations share with builds: the ranking settings and the caches."""
        embedder = self.encoders.for_evaluation()
        caches = {"cache": self.encoders.cache(embedder.config), "terms_cache": TermsCache(self.settings.cache_path)}
        return embedder, {"config": self.retrieval, "progress": self.settings.progress, **caches}

    # ----------------------------------------------------------------------------------------- lookups
    def show(self, reference: str) -> Paper:
        """The stored record of a paper, by id, DOI or PMID."""
        reference = check_reference(reference)
        paper = self.store.resolve(reference)
        if paper is None:
            # Only an index folder without its store (copied versions alone) answers from the index: otherwise a
            # deleted paper would show until the index update that drops it finishes.
            snapshot = None if self.store.exists() else self.serving.current(required=False)
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
        paging = check_paging(k, offset, sort)
        return self.answering.related(self._current_snapshot(), reference, paging, mode, filters)

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
        paging = check_paging(k, offset, sort)
        text = check_search_text(text)
        return self.answering.search(self._current_snapshot(), text, paging, mode, filters)

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
        paging = check_paging(k, offset, sort)
        check_examples(positive, negative)
        return self.answering.recommend(self._current_snapshot(), positive, negative, paging, mode, filters)

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

        Papers added to the index since its last build are not examples yet; a large collection is
        represented by its most recent additions (:data:`recommender.answering.COLLECTION_EXAMPLES`)."""
        paging = check_paging(k, offset, sort)
        check_negative(negative)
        info = self.collections.info(name)
        ids = self.collections.paper_ids(info.name)
        snapshot = self._current_snapshot()
        return self.answering.recommend_collection(snapshot, info.name, ids, negative, paging, mode, filters)

    # ------------------------------------------------------------------------------------------ themes
    def themes(
        self,
        k: int | None = None,
        *,
        method: str = "spectral",
        refit: bool = False,
        within: int | None = None,
        seed_themes: Sequence[str] = (),
    ) -> FittedThemes:
        """The index's themes: ``k`` of them (chosen automatically when ``None``) by ``method``, with the
        named ``seed_themes`` first. The workflow is :class:`~recommender.themes.fitting.ThemeWorkflow`.

        The map is kept beside the index; papers indexed since it was fitted are placed in the existing
        themes (nearest centre) unless ``refit``. ``within`` sub-clusters one theme's papers (not kept).

        Maps already fitted are answered from memory (see :mod:`recommender.themes.maps`). A request that
        needs a fit while another fit runs gets :class:`~recommender.errors.BusyError` (409 with
        ``Retry-After``) at once instead of waiting: waiting requests would hold the server's threads, and a
        flood of theme requests for random ``k`` would starve every other endpoint.
        """
        return self.theme_maps.get(
            self._current_snapshot(), k, method=method, refit=refit, within=within, seed_themes=seed_themes
        )

    def theme_points(
        self, k: int | None = None, *, method: str = "spectral", seed_themes: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The 2-D theme map as columns, for drawing (see :func:`recommender.themes.points.theme_points`)."""
        theme_map = self.themes(k, method=method, seed_themes=seed_themes)
        return self.theme_maps.points(self._current_snapshot(), theme_map)

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
        check_choice("report format", fmt, REPORT_FORMATS)
        theme_map = self.themes(k, method=method, within=within, seed_themes=seed_themes)
        return self.theme_maps.report(self._current_snapshot(), theme_map, fmt)

    def export(
        self,
        fmt: str,
        out: TextIO,
        *,
        ids: Sequence[str] = (),
        theme: int | None = None,
        collection: str | None = None,
        themes: FittedThemes | None = None,
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

        check_choice("export format", fmt, EXPORT_FORMATS)
        selections = [
            None
            if theme is None
            else theme_selection(self.themes(theme_k, method=theme_method, seed_themes=theme_seeds), theme),
            None if collection is None else collection_selection(self.collections, self.store, collection),
            None if themes is None else map_selection(themes),
        ]
        return export_selected(self.store, fmt, out, ids, selections, index=self.settings.index_name)

    # ------------------------------------------------------------------------------------------ health
    def ready(self) -> health.Readiness:
        """Whether queries can be answered now: the current version is loaded (loading it if needed)."""
        return health.ready(self.serving, self.versions)

    def serving_size(self) -> int:
        """Papers in the version currently loaded (0 before one is), without touching the disk."""
        snapshot = self.serving.loaded
        return snapshot.size if snapshot is not None else 0

    def pending_changes(self) -> bool:
        """Whether the store holds papers (or edits, or deletions) that the current version does not.

        After a crash between storing papers and indexing them, or papers ingested without a build, the
        store is ahead of the index; :meth:`catch_up` closes the gap.
        """
        return self.updates.pending_changes()

    def catch_up(self) -> Job | None:
        """Start a background update if the store is ahead of the index (see :meth:`pending_changes`)."""
        if not self.pending_changes():
            return None
        log.info("the paper store is ahead of the index: starting a catch-up build")
        return self.start_update("catch-up")

    def status(self) -> health.Status:
        """Where the index stands: store size, current version and its manifest, and what is wrong, if anything.

        Never raises for a damaged index or store: it is what ``/health`` answers with, and a health check
        must describe the trouble rather than join it.
        """
        return health.status(self.settings.index_name, self.store, self.versions, self.serving)

    # -------------------------------------------------------------------------------------- internals
    def _current_snapshot(self) -> Snapshot:
        """The version that answers (see :class:`~recommender.serving.Serving`)."""
        return self.serving.current()
