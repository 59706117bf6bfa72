"""The Python API for notebooks and scripts: :class:`Library`, one index behind a few typed methods.

A thin layer over :class:`~recommender.service.Recommender`, the façade the CLI and the HTTP API call, so
a notebook gets exactly their answers: the same ranking, themes and errors. It adds what a notebook wants
on top: keyword filters instead of a ``Filters`` object, answers that print as tables and turn into pandas
DataFrames (:mod:`recommender.results`), export to a path with the format taken from its extension, and a
context manager.

An index is found the way the CLI's ``--index`` and ``--index-dir`` find it: the name defaults to
``RECOMMENDER_INDEX``, else ``default``; the folder to ``RECOMMENDER_INDEX_DIR``, else ``./indexes``; the
other ``RECOMMENDER_*`` variables apply too (:meth:`~recommender.settings.Settings.from_env`). Opening a
library that does not exist yet is fine: the first :meth:`Library.ingest` creates it.

Errors are the service's, unchanged: every failure a user can cause is a
:class:`~recommender.errors.RecommenderError` subclass with a ``code`` and a message written for people
(``NotFoundError`` for an unknown paper, ``IndexNotBuiltError`` before :meth:`Library.build`,
``StaleIndexError`` for a paper ingested since, ``InvalidInputError`` for a bad argument,
``NothingIngestedError`` when no input held a usable paper, ...). Misuse of Python itself (an unknown
keyword) is a ``TypeError``, as anywhere in Python.

Importing this module is cheap: the service (numpy, FAISS, the model) is imported when a library is opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypedDict, Unpack, cast

from .results import Results, Themes
from .settings import Settings

if TYPE_CHECKING:
    from .collection import Collections
    from .health import Status
    from .manifest import Manifest
    from .paper import Paper
    from .retrieval import Filters
    from .service import EmbedderFactory, IngestReport, Recommender

PathLike = str | os.PathLike[str]


class FilterOptions(TypedDict, total=False):
    """Keyword filters of ``related``, ``search`` and ``recommend`` (see :class:`~recommender.retrieval.Filters`).

    A single journal, theme or excluded id may be given alone instead of in a list.
    """

    year_min: int
    year_max: int
    journals: Sequence[str] | str
    themes: Sequence[int] | int
    exclude: Sequence[str] | str
    #: Drop hits weaker than this calibrated strength: "strong" or "related" (hybrid mode, 50+ papers).
    min_strength: str


class Library:
    """One index of papers: ingest, build, then related papers, search, recommendations and themes.

    ``Library()`` opens the index the CLI would use; ``Library("reviews")`` the index ``reviews`` beside it;
    ``Library(index_dir=folder)`` the default index under ``folder``; :meth:`open` an index folder by its
    path. ``model`` chooses the embedding model as ``--model`` does (default: the index's model, else the
    bundled offline all-MiniLM-L6-v2). Other keywords are :class:`~recommender.settings.Settings` fields
    (``show_progress=True``, ``index_kind="hnsw"``, ``fusion="rrf"``, ...). ``embedder_factory`` supplies
    the model object (tests give a fake; several libraries may share one loaded model).

    Use it as a context manager, or call :meth:`close`, to stop background work when done.
    """

    def __init__(
        self,
        index: str | None = None,
        *,
        index_dir: PathLike | None = None,
        model: str | None = None,
        embedder_factory: EmbedderFactory | None = None,
        **settings: Any,
    ) -> None:
        from .service import Recommender, default_embedder_factory  # heavy: numpy, FAISS, the retrieval stack

        folder = Path(index_dir) if index_dir is not None else None
        configured = Settings.from_env(index_dir=folder, index_name=index, model=model, **settings)
        self._service = Recommender(configured, embedder_factory=embedder_factory or default_embedder_factory)
        self._owns_service = True

    @classmethod
    def open(cls, path: PathLike, **options: Any) -> Library:
        """The index whose folder is ``path`` (``indexes/reviews``): its name is the folder's name, its
        index folder the parent (where the embedding cache is shared with sibling indexes)."""
        folder = Path(path)
        return cls(folder.name, index_dir=folder.parent, **options)

    @classmethod
    def from_service(cls, service: Recommender) -> Library:
        """A library over a service made elsewhere (a web app's, a test's); closing it stays its owner's job."""
        library = cls.__new__(cls)
        library._service = service
        library._owns_service = False
        return library

    # ------------------------------------------------------------------------------------ lifecycle
    @property
    def service(self) -> Recommender:
        """The underlying façade, for anything this API does not wrap (versions, rollback, reports, jobs)."""
        return self._service

    @property
    def settings(self) -> Settings:
        return self._service.settings

    @property
    def name(self) -> str:
        return self._service.settings.index_name

    @property
    def path(self) -> Path:
        """The index folder: the paper store, the built versions and the kept theme map."""
        return self._service.settings.index_path

    def close(self) -> None:
        """Stop background work (queued rebuilds are dropped). Safe to call twice."""
        if self._owns_service:
            self._service.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        """Papers stored (ingested), built or not: ``len(lib)`` after ``ingest`` counts the new ones."""
        return self._service.store.count()

    def __repr__(self) -> str:
        return f"Library({self.name!r}, index_dir={str(self.settings.index_dir)!r})"

    def status(self) -> Status:
        """Papers stored and indexed, the current version and its manifest (``recommender status``;
        ``.to_dict()`` is its JSON)."""
        return self._service.status()

    # ------------------------------------------------------------------------------------- writing
    def ingest(self, *paths: PathLike | Iterable[PathLike], columns: Mapping[str, str] | None = None) -> IngestReport:
        """Read papers from files, folders or globs (any supported format) into the store, in one transaction.

        Each argument is a path or a list of paths. ``columns`` maps fields to CSV/TSV columns or JSON keys
        (``{"abstract": "Summary"}``), as ``--column`` does. Returns the report (``added``, ``updated``,
        ``unchanged``, ``rejected`` with reasons, ``papers`` with each one's id and source); when nothing
        usable was read, raises ``NothingIngestedError`` and writes nothing. Call :meth:`build` afterwards.
        """
        return self._service.ingest(_flat_paths(paths), columns=columns)

    def build(self, *, full: bool = False) -> Manifest:
        """Index every stored paper as a new version and make it current atomically; returns its manifest.

        Only new or changed papers are embedded (``full`` re-embeds all). The model is loaded on first use.
        """
        return self._service.build(full=full)

    def export(
        self,
        destination: PathLike | TextIO,
        fmt: str | None = None,
        *,
        ids: Sequence[str] = (),
        theme: int | None = None,
        collection: str | None = None,
    ) -> int:
        """Write stored papers for a reference manager and return how many were written.

        ``destination`` is a path (written atomically: a reader never sees half a file) or an open text
        file. ``fmt`` is one of ris, bibtex, csv, csl-json, medline; when not given it comes from the
        path's extension (.ris, .bib, .csv, .json, .nbib), else RIS (the CLI's default); an extension that
        names no format is refused rather than guessed. All papers, the ``ids`` given (``results.ids`` of an
        answer), one ``theme``'s papers tagged with its label, or a ``collection``'s tagged with its name.
        """
        from .export import export_format, write_export

        if isinstance(ids, str):
            ids = [ids]
        if hasattr(destination, "write"):  # an open file, whatever its class: duck typing, as the docstring says
            stream = cast(TextIO, destination)
            return self._service.export(
                export_format(fmt, getattr(stream, "name", None)), stream, ids=ids, theme=theme, collection=collection
            )
        path = Path(destination)
        chosen = export_format(fmt, path)
        return write_export(
            path, lambda out: self._service.export(chosen, out, ids=ids, theme=theme, collection=collection)
        )

    # ---------------------------------------------------------------------------------- collections
    @property
    def collections(self) -> Collections:
        """Named sets of papers kept with the index: ``.add(name, ids)``, ``.get(name)``, ``.infos()``,
        ``.remove(name, ids)``, ``.delete(name)`` (see :class:`~recommender.collection.Collections`)."""
        return self._service.collections

    def recommend_collection(
        self, name: str, k: int = 10, *, mode: str | None = None, **filters: Unpack[FilterOptions]
    ) -> Results:
        """Papers like a collection's papers (its papers are the examples, none of them returned)."""
        hits = self._service.recommend_collection(name, k, mode=mode, filters=make_filters(filters))
        return Results(hits, f"like the collection {name!r}")

    # ------------------------------------------------------------------------------------- reading
    def paper(self, reference: str) -> Paper:
        """The stored record of a paper, by id, DOI (``doi:10...`` or bare) or PMID."""
        return self._service.show(reference)

    def related(
        self,
        reference: str,
        k: int = 10,
        *,
        mode: str | None = None,
        offset: int = 0,
        sort: str = "relevance",
        **filters: Unpack[FilterOptions],
    ) -> Results:
        """The ``k`` papers most related to a stored paper (by id, DOI or PMID), the paper itself excluded.

        ``mode`` is hybrid (dense + BM25, the default), dense or lexical; ``filters`` are
        :class:`FilterOptions` (``year_min=2018``, ``journals=[...]``, ``themes=[0]``, ``exclude=[...]``);
        ``offset`` skips to a later page and ``sort="year"`` lists the most relevant newest first (the same
        for ``search`` and ``recommend``).
        """
        hits = self._service.related(reference, k, mode=mode, filters=make_filters(filters), offset=offset, sort=sort)
        return Results(hits, f"related to {reference!r}")

    def search(
        self,
        text: str,
        k: int = 10,
        *,
        mode: str | None = None,
        offset: int = 0,
        sort: str = "relevance",
        **filters: Unpack[FilterOptions],
    ) -> Results:
        """The ``k`` papers most related to free text: a question, a claim or a pasted abstract."""
        hits = self._service.search(text, k, mode=mode, filters=make_filters(filters), offset=offset, sort=sort)
        return Results(hits, f"search {text!r}" if len(text) <= 60 else f"search {text[:57]!r}…")

    def recommend(
        self,
        positive: Sequence[str] | str,
        negative: Sequence[str] | str = (),
        k: int = 10,
        *,
        mode: str | None = None,
        offset: int = 0,
        sort: str = "relevance",
        **filters: Unpack[FilterOptions],
    ) -> Results:
        """Papers like the ``positive`` examples and unlike the ``negative`` ones (none of them returned).

        A single id may be given alone; ``results.ids`` of an earlier answer works as examples too.
        """
        liked, disliked = _as_list(positive), _as_list(negative)
        hits = self._service.recommend(
            liked, disliked, k, mode=mode, filters=make_filters(filters), offset=offset, sort=sort
        )
        return Results(hits, f"like {_examples(liked)}" + (f", unlike {_examples(disliked)}" if disliked else ""))

    def themes(
        self,
        k: int | None = None,
        *,
        method: str = "spectral",
        refit: bool = False,
        within: int | None = None,
        seed_themes: Sequence[str] = (),
    ) -> Themes:
        """The index's themes: ``k`` of them (chosen automatically when None) by ``method``.

        ``seed_themes`` are names of themes you know ("anoikis resistance"), made first with the papers that
        fit them; ``within`` divides one theme into sub-themes; ``refit`` clusters again instead of placing
        papers indexed since the last fit in the kept themes.
        """
        theme_map = self._service.themes(
            k, method=method, refit=refit, within=within, seed_themes=_as_list(seed_themes)
        )
        return Themes(theme_map)


def make_filters(options: Mapping[str, Any]) -> Filters | None:
    """Keyword filters as the service's :class:`~recommender.retrieval.Filters`; None when nothing filters.

    Values are checked by the service (an ``InvalidInputError`` for a bad year or theme); an unknown keyword
    is a ``TypeError`` here, as a misspelt argument is anywhere in Python.
    """
    unknown = sorted(set(options) - set(FilterOptions.__annotations__))
    if unknown:
        raise TypeError(f"unknown filter {unknown[0]!r}; filters are {', '.join(FilterOptions.__annotations__)}")
    from .retrieval import Filters  # numpy and the retrieval stack: imported with the service, not before

    filters = Filters(
        year_min=options.get("year_min"),
        year_max=options.get("year_max"),
        journals=tuple(_as_list(options.get("journals", ()))),
        themes=tuple(_as_list(options.get("themes", ()))),
        exclude=tuple(_as_list(options.get("exclude", ()))),
        min_strength=options.get("min_strength"),
    )
    return None if filters == Filters() else filters


def _as_list(value: Any) -> list[Any]:
    """A single value (a string, an id, a theme number) as a one-item list; a sequence as a list."""
    if value is None:
        return []
    if isinstance(value, str | int) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _examples(ids: list[str], shown: int = 3) -> str:
    """Example papers for a caption: their ids when few, else how many (a caption stays one short line)."""
    return ", ".join(ids) if len(ids) <= shown else f"{len(ids)} papers"


def _flat_paths(paths: Iterable[PathLike | Iterable[PathLike]]) -> list[str]:
    """``ingest("a.ris", ["b.bib", "c.csv"])`` → three paths: notebooks often hold a list already. Each as a
    string (:func:`os.fspath`), as ``ingest`` reads them (a glob stays a pattern)."""
    flat: list[str] = []
    for item in paths:
        if isinstance(item, str | os.PathLike):
            flat.append(os.fspath(item))
        else:
            flat.extend(os.fspath(path) for path in item)
    return flat
