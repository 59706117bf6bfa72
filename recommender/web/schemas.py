"""Request schemas: every body and query string the API accepts, as pydantic models.

They are the single source of the requests' shapes: :mod:`.api` validates requests with them and
:mod:`.openapi` publishes them as JSON Schema in ``/openapi.json``. Their limits are the ones the core
enforces, read from where they are defined (:mod:`recommender.checks`, the paper-id rule of
:mod:`recommender.paper`, :mod:`recommender.collection`, ...), so the API and the CLI refuse alike.
Unknown fields are refused (``extra="forbid"``), so a typo ("txt" for "text") is a 400 naming the field
rather than a silently ignored parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..cards import MAX_OFFSET, SORTS, YEAR_POOL
from ..checks import MAX_EXAMPLES, MAX_QUERY_CHARS, MAX_YEAR, MIN_YEAR
from ..collection import MAX_COLLECTION_PAPERS, MAX_NOTE_LENGTH
from ..collection import MAX_NAME_LENGTH as COLLECTION_NAME_LENGTH
from ..collection import NAME_PATTERN as COLLECTION_NAME_PATTERN
from ..export import FORMATS as EXPORT_FORMATS
from ..ingest.identifiers import MAX_TEXT_CHARS
from ..paper import MAX_ID_LENGTH, PAPER_ID_PATTERN
from ..retrieval import MODES, Filters
from ..settings import DEFAULT_K, MAX_K
from ..themes import METHODS as THEME_METHODS
from ..themes import REPORT_FORMATS
from ..themes.guided import MAX_NAME_LENGTH, MAX_SEED_THEMES
from ..upload_parser import MAX_PAPERS_PER_REQUEST

MAX_EXCLUDE = 10000
MAX_EXPORT_IDS = 10000
MAX_THEMES = 1000
#: A job id as ``POST /rebuild`` and the write endpoints return it.
JOB_ID_PATTERN = r"^[0-9a-f]{16}$"
#: A version id as ``GET /versions`` lists it (UTC build time and a random suffix).
VERSION_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{6}$"


class _Strict(BaseModel):
    """Query strings: unknown parameters refused; values arrive as text, so "10" may become 10."""

    model_config = ConfigDict(extra="forbid", strict=False)


class _StrictBody(BaseModel):
    """JSON bodies: unknown fields refused and no type coercion (``true`` is not the theme id 1, "10" not a k)."""

    model_config = ConfigDict(extra="forbid", strict=True)


Mode = Annotated[str, Field(pattern="^(" + "|".join(MODES) + ")$", description="ranking: " + ", ".join(MODES))]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
Strength = Annotated[
    str, Field(pattern="^(strong|related)$", description="drop hits weaker than this calibrated strength")
]
#: A paper id, DOI or PMID, by the paper-id rule of :mod:`recommender.paper`.
PaperId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=PAPER_ID_PATTERN)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="skip this many hits (the next pages of a list)")]
Sort = Annotated[
    str,
    Field(
        pattern="^(" + "|".join(SORTS) + ")$",
        description=f"order: relevance, or year (newest first among the {YEAR_POOL} most relevant)",
    ),
]
CollectionName = Annotated[str, Field(min_length=1, max_length=COLLECTION_NAME_LENGTH, pattern=COLLECTION_NAME_PATTERN)]


class FiltersBody(_StrictBody):
    year_min: Year | None = None
    year_max: Year | None = None
    journals: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=100)
    themes: list[int] = Field(default_factory=list, max_length=100)
    exclude: list[PaperId] = Field(default_factory=list, max_length=MAX_EXCLUDE)
    min_strength: Strength | None = None

    def to_filters(self) -> Filters:
        return Filters(
            self.year_min,
            self.year_max,
            tuple(self.journals),
            tuple(self.themes),
            tuple(self.exclude),
            self.min_strength,
        )


class SearchBody(_StrictBody):
    text: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    filters: FiltersBody | None = None
    offset: Offset = 0
    sort: Sort = "relevance"


class RecommendBody(_StrictBody):
    positive: list[PaperId] = Field(
        default_factory=list, max_length=MAX_EXAMPLES, description="example papers (or give a collection)"
    )
    collection: CollectionName | None = Field(None, description="use this collection's papers as the examples")
    negative: list[PaperId] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    filters: FiltersBody | None = None
    offset: Offset = 0
    sort: Sort = "relevance"


class RelatedQuery(_Strict):
    """Query string of GET /papers/<id>/related; list filters repeat (``?journal=A&journal=B``)."""

    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    year_min: Year | None = None
    year_max: Year | None = None
    journal: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=100)
    theme: list[int] = Field(default_factory=list, max_length=100)
    exclude: list[PaperId] = Field(default_factory=list, max_length=MAX_EXCLUDE)
    min_strength: Strength | None = None
    offset: Offset = 0
    sort: Sort = "relevance"

    def to_filters(self) -> Filters:
        return Filters(
            self.year_min,
            self.year_max,
            tuple(self.journal),
            tuple(self.theme),
            tuple(self.exclude),
            self.min_strength,
        )


class ThemesQuery(_Strict):
    k: int | None = Field(None, ge=1, le=MAX_THEMES, description="number of themes (default: chosen automatically)")
    method: str = Field("spectral", pattern="^(" + "|".join(THEME_METHODS) + ")$")
    within: int | None = Field(None, ge=0, description="sub-cluster this theme id instead of the whole corpus")
    seed_themes: list[Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]] = Field(
        default_factory=list,
        max_length=MAX_SEED_THEMES,
        description="themes you know, made first and named as given (repeat: ?seed_themes=A&seed_themes=B)",
    )


class ReportQuery(ThemesQuery):
    format: str = Field("html", pattern="^(" + "|".join(REPORT_FORMATS) + ")$")


class RebuildBody(_StrictBody):
    full: bool = False


#: How long a write request waits for the index update it started before answering 202 with the job.
MAX_WAIT_SECONDS = 300.0


#: What a paper record may hold. Records are read leniently, as lines of a JSONL file are (field synonyms such
#: as "Abstract", "AB" or "summary"; years from dates; authors from a list or a string), so the properties are
#: described, not typed: a record that yields no usable title or abstract is skipped and listed in the
#: answer's ``ingest.rejected`` with the reason, and the other records of the request are stored.
PAPER_RECORD: dict[str, Any] = {
    "type": "object",
    "description": "a paper, keys as in a JSONL ingest file; unusable records are listed in ingest.rejected",
    "properties": {
        "id": {"description": "your id, a string (default: derived from the DOI, PMID or text)"},
        "title": {"description": "the title, a string"},
        "abstract": {"description": "the abstract, a string (markup tags are removed)"},
        "doi": {"description": "a DOI, bare or as a doi.org link"},
        "pmid": {"description": "a PubMed id, digits"},
        "journal": {"description": "the journal's name"},
        "year": {"description": "a year, or a date that contains one"},
        "authors": {"description": "a list of names, or one string"},
        "keywords": {"description": "a list of terms, or one string"},
    },
}


class AddPapersBody(_StrictBody):
    papers: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_PAPERS_PER_REQUEST,
        description="paper records with the fields of a JSONL ingest file (id, title, abstract, doi, ...)",
        json_schema_extra={"items": PAPER_RECORD},
    )
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class UploadForm(_Strict):
    """Form fields of ``POST /papers/upload`` beside the files (field ``file``, repeated for several): pasted text,
    read after the files, and the wait."""

    text: str | None = Field(None, description="pasted records or a pasted page, beside or instead of files")
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class WaitQuery(_Strict):
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class RollbackBody(_StrictBody):
    to: Annotated[str, Field(pattern=VERSION_ID_PATTERN)] | None = Field(
        None, description="version id (default: the one before the current one)"
    )


class ExportQuery(_Strict):
    """Query string of GET /export; ``ids`` repeats (``?ids=A&ids=B``)."""

    format: str = Field("ris", pattern="^(" + "|".join(EXPORT_FORMATS) + ")$", description="file format")
    ids: list[PaperId] = Field(default_factory=list, max_length=MAX_EXPORT_IDS, description="only these papers")
    theme: int | None = Field(None, ge=0, description="only this theme's papers, tagged with its label")
    collection: CollectionName | None = Field(None, description="only this collection's papers, tagged with its name")
    k: int | None = Field(None, ge=1, le=MAX_THEMES, description="with theme: the map of this many themes")
    method: str = Field(
        "spectral", pattern="^(" + "|".join(THEME_METHODS) + ")$", description="with theme: the map's method"
    )
    seed_themes: list[Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]] = Field(
        default_factory=list, max_length=MAX_SEED_THEMES, description="with theme: the map's named themes"
    )


class CollectionBody(_StrictBody):
    name: CollectionName
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class CollectionPapersBody(_StrictBody):
    """Papers to add: ids/DOIs/PMIDs, and or a pasted list (any separators, links, a PubMed results page)."""

    ids: list[PaperId] = Field(default_factory=list, max_length=MAX_COLLECTION_PAPERS)
    text: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="a pasted list of PMIDs, DOIs or PMC ids, or a PubMed page"
    )
