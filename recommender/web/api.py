"""JSON endpoints. Each handler validates its input, calls one façade method and returns its result.

Related papers and search results are a JSON list of hits, best first — the same shape the CLI prints with
``--json``.

Request bodies and query strings are validated with pydantic models that forbid unknown fields, so a typo
("txt" for "text") is a 400 naming the field rather than a silently ignored parameter.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidInputError, RecommenderError
from ..jobs import Job
from ..retrieval import MODES, Filters
from ..service import MAX_EXAMPLES, MAX_QUERY_CHARS, Recommender
from ..settings import DEFAULT_K, MAX_K
from ..theme_report import FORMATS as REPORT_FORMATS
from ..themes import METHODS as THEME_METHODS
from .auth import write_access

MAX_EXCLUDE = 10000

api = Blueprint("api", __name__)
Model = TypeVar("Model", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


Mode = Annotated[str, Field(pattern="^(" + "|".join(MODES) + ")$")]
Year = Annotated[int, Field(ge=1000, le=3000)]
PaperId = Annotated[str, Field(min_length=1, max_length=1000)]


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
    k: int | None = Field(None, ge=1)
    method: str = Field("spectral", pattern="^(" + "|".join(THEME_METHODS) + ")$")
    within: int | None = None


class ReportQuery(ThemesQuery):
    format: str = Field("html", pattern="^(" + "|".join(REPORT_FORMATS) + ")$")


class RebuildBody(_Strict):
    full: bool = False


#: How long a write request waits for the index update it started before answering 202 with the job.
MAX_WAIT_SECONDS = 300.0


class AddPapersBody(_Strict):
    papers: list[dict[str, Any]] = Field(min_length=1, max_length=10000)
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class WaitQuery(_Strict):
    wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS)


class RollbackBody(_Strict):
    to: Annotated[str, Field(min_length=1, max_length=200)] | None = None


LIST_PARAMETERS = {"journal", "theme", "exclude"}


def service() -> Recommender:
    return current_app.extensions["recommender"]


def validate(model: type[Model], data: Any) -> Model:
    """Parse ``data`` into ``model``; a failure is a 400 whose message names each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'body'}: {issue['msg']}" for issue in error.errors()
        )
        raise InvalidInputError(f"invalid request: {problems}") from None


def query_args() -> dict[str, object]:
    """Query parameters; the list ones (journal, theme, exclude) keep every repeated value."""
    return {key: request.args.getlist(key) if key in LIST_PARAMETERS else request.args.get(key) for key in request.args}


def json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInputError("the request body must be JSON (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


@api.get("/health")
def health():
    """Liveness: 200 whenever the process answers; the index's state is included, problems as text."""
    try:
        return jsonify({"status": "ok", **service().status()})
    except RecommenderError as error:
        return jsonify({"status": "ok", "index": service().settings.index_name, "problem": error.message})


@api.get("/ready")
def ready():
    """Readiness: 200 once an index version is loaded and can answer, else 503 with the reason."""
    return jsonify(service().ready())


@api.get("/papers/<path:paper_id>/related")
def related(paper_id: str):
    params = validate(RelatedQuery, query_args())
    hits = service().related(paper_id, params.k, mode=params.mode, filters=params.to_filters())
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/papers/<path:paper_id>")
def show(paper_id: str):
    return jsonify(service().show(paper_id).to_dict())


@api.post("/search")
def search():
    body = validate(SearchBody, json_body())
    filters = body.filters.to_filters() if body.filters else None
    hits = service().search(body.text, body.k, mode=body.mode, filters=filters)
    return jsonify([hit.to_dict() for hit in hits])


@api.post("/recommend")
def recommend():
    body = validate(RecommendBody, json_body())
    filters = body.filters.to_filters() if body.filters else None
    hits = service().recommend(body.positive, body.negative, body.k, mode=body.mode, filters=filters)
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/themes")
def themes():
    params = validate(ThemesQuery, query_args())
    return jsonify(service().themes(params.k, method=params.method, within=params.within).to_dict())


# The report needs nothing from anywhere: no scripts, no fetches, only its own inline styles.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
REPORT_TYPES = {"html": "text/html", "md": "text/markdown", "json": "application/json", "csv": "text/csv"}


@api.get("/themes/report")
def theme_report():
    params = validate(ReportQuery, query_args())
    body = service().theme_report(params.k, method=params.method, within=params.within, fmt=params.format)
    return Response(
        body,
        mimetype=REPORT_TYPES[params.format],
        headers={"Content-Security-Policy": REPORT_POLICY},
    )


# ------------------------------------------------------------------------------------------- writes
def job_response(job: Job, body: dict[str, Any], wait: float) -> tuple[Response, int]:
    """Wait up to ``wait`` seconds for ``job``: 200 with its result when done, else 202 with where to look."""
    job.wait(wait)
    response = jsonify({**body, "job": job.to_dict()})
    if job.finished:
        return response, 200
    response.headers["Location"] = f"/jobs/{job.id}"
    return response, 202


@api.post("/rebuild")
@write_access
def rebuild():
    body = validate(RebuildBody, request.get_json(silent=True) or {})
    job = service().start_rebuild(full=body.full)
    response = jsonify({"job": job.to_dict()})
    response.headers["Location"] = f"/jobs/{job.id}"
    return response, 202


@api.get("/jobs/<job_id>")
def job_status(job_id: str):
    return jsonify(service().job(job_id).to_dict())


@api.post("/papers")
@write_access
def add_papers():
    """Store papers (JSON records, fields as in JSONL ingest) and update the index with them."""
    body = validate(AddPapersBody, json_body())
    report = service().ingest_records(body.papers)
    job = service().start_update("add-papers")
    return job_response(job, {"ingest": report.to_dict()}, body.wait)


@api.delete("/papers/<path:paper_id>")
@write_access
def delete_paper(paper_id: str):
    params = validate(WaitQuery, query_args())
    paper = service().delete(paper_id)
    job = service().start_update("delete-paper")
    return job_response(job, {"deleted": paper.id}, params.wait)


@api.get("/versions")
def versions():
    return jsonify(service().list_versions())


@api.post("/rollback")
@write_access
def rollback():
    body = validate(RollbackBody, request.get_json(silent=True) or {})
    manifest = service().rollback(body.to)
    return jsonify({"current": manifest.build_id, "count": manifest.count})
