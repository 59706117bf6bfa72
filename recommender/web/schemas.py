"""Request schemas: every body and query string the API accepts, as pydantic models.

They are the single source of the input rules: :mod:`.api` validates requests with them and :mod:`.openapi`
publishes them as JSON Schema in ``/openapi.json``. Unknown fields are refused (``extra="forbid"``), so a
typo ("txt" for "text") is a 400 naming the field rather than a silently ignored parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..retrieval import MODES, Filters
from ..service import MAX_EXAMPLES, MAX_QUERY_CHARS
from ..settings import DEFAULT_K, MAX_K
from ..theme_report import FORMATS as REPORT_FORMATS
from ..themes import METHODS as THEME_METHODS

MAX_EXCLUDE = 10000
MAX_THEMES = 1000
MAX_PAPERS_PER_REQUEST = 10000
#: A paper id, DOI or PMID: up to 1,000 characters, no control characters.
PAPER_ID_PATTERN = r"^[^\x00-\x1F\x7F]+$"
#: A job id as ``POST /rebuild`` and the write endpoints return it.
JOB_ID_PATTERN = r"^[0-9a-f]{16}$"
#: A version id as ``GET /versions`` lists it (UTC build time and a random suffix).
VERSION_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{6}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


Mode = Annotated[str, Field(pattern="^(" + "|".join(MODES) + ")$", description="ranking: " + ", ".join(MODES))]
Year = Annotated[int, Field(ge=1000, le=3000)]
PaperId = Annotated[str, Field(min_length=1, max_length=1000, pattern=PAPER_ID_PATTERN)]


class FiltersBody(_Strict):
    year_min: Year | None = None
    year_max: Year | None = None
    journals: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=100)
    themes: list[int] = Field(default_factory=list, max_length=100)
    exclude: list[PaperId] = Field(default_factory=list, max_length=MAX_EXCLUDE)

    def to_filters(self) -> Filters:
        return Filters(self.year_min, self.year_max, tuple(self.journals), tuple(self.themes), tuple(self.exclude))


class SearchBody(_Strict):
    text: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    filters: FiltersBody | None = None


class RecommendBody(_Strict):
    positive: list[PaperId] = Field(min_length=1, max_length=MAX_EXAMPLES)
    negative: list[PaperId] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    filters: FiltersBody | None = None


class RelatedQuery(_Strict):
    """Query string of GET /papers/<id>/related; list filters repeat (``?journal=A&journal=B``)."""

    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: Mode | None = None
    year_min: Year | None = None
    year_max: Year | None = None
    journal: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=100)
    theme: list[int] = Field(default_factory=list, max_length=100)
    exclude: list[PaperId] = Field(default_factory=list, max_length=MAX_EXCLUDE)

    def to_filters(self) -> Filters | None:
        filters = Filters(self.year_min, self.year_max, tuple(self.journal), tuple(self.theme), tuple(self.exclude))
        return filters if filters != Filters() else None


class ThemesQuery(_Strict):
    k: int | None = Field(None, ge=1, le=MAX_THEMES, description="number of themes (default: chosen automatically)")
    method: str = Field("spectral", pattern="^(" + "|".join(THEME_METHODS) + ")$")
    within: int | None = Field(None, ge=0, description="sub-cluster this theme id instead of the whole corpus")


class ReportQuery(ThemesQuery):
    format: str = Field("html", pattern="^(" + "|".join(REPORT_FORMATS) + ")$")


class RebuildBody(_Strict):
    full: bool = False


#: How long a write request waits for the index update it started before answering 202 with the job.
MAX_WAIT_SECONDS = 300.0


#: What a paper record may hold (documentation and fuzzing; the ingest reader also takes the field synonyms of
#: JSONL files, e.g. "Abstract", "AB", "summary", and reports each record it cannot use).
PAPER_RECORD: dict[str, Any] = {
    "type": "object",
    "description": "a paper: title and/or abstract required; other keys as in a JSONL ingest file",
    "properties": {
        "id": {"type": "string", "description": "your id (default: derived from the DOI, PMID or text)"},
        "title": {"type": "string"},
        "abstract": {"type": "string"},
        "doi": {"type": "string"},
        "pmid": {"type": ["string", "integer"]},
        "journal": {"type": "string"},
        "year": {"type": ["integer", "string"]},
        "authors": {"type": ["array", "string"], "items": {"type": "string"}},
        "keywords": {"type": ["array", "string"], "items": {"type": "string"}},
    },
    "anyOf": [{"required": ["title"]}, {"required": ["abstract"]}],
}


class AddPapersBody(_Strict):
    papers: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_PAPERS_PER_REQUEST,
        description="paper records with the fields of a JSONL ingest file (id, title, abstract, doi, ...)",
        json_schema_extra={"items": PAPER_RECORD},
    )
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class WaitQuery(_Strict):
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class RollbackBody(_Strict):
    to: Annotated[str, Field(pattern=VERSION_ID_PATTERN)] | None = Field(
        None, description="version id (default: the one before the current one)"
    )
