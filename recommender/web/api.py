"""JSON endpoints. Each handler validates its input, calls one façade method and returns its result.

Related papers and search results are a JSON list of hits, best first — the same shape the CLI prints with
``--json``. Inputs are validated with the pydantic models of :mod:`.schemas` (unknown fields refused, each
bad field named); ``GET /openapi.json`` describes them all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from ..collection import merge_changes
from ..errors import InvalidInputError, NotFoundError, RecommenderError, TooLargeError, http_status_for
from ..export import file_extension, media_type
from ..ingesting import InputOutcome, combine_reports
from ..jobs import FAILED, Job
from ..service import Recommender
from ..themes import REPORT_TYPES
from .auth import write_access
from .limits import MAX_UPLOAD_FILES
from .openapi import document
from .schemas import (
    JOB_ID_PATTERN,
    AddPapersBody,
    CollectionBody,
    CollectionPapersBody,
    ExportQuery,
    RebuildBody,
    RecommendBody,
    RelatedQuery,
    ReportQuery,
    RollbackBody,
    SearchBody,
    ThemesQuery,
    UploadForm,
    WaitQuery,
)

api = Blueprint("api", __name__)
Model = TypeVar("Model", bound=BaseModel)

LIST_PARAMETERS = {"journal", "theme", "exclude", "seed_themes", "ids"}


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
    """Query parameters; the list ones (journal, theme, exclude, seed_themes) keep every repeated value."""
    return {key: request.args.getlist(key) if key in LIST_PARAMETERS else request.args.get(key) for key in request.args}


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; with ``optional``, an empty body means ``{}`` (but malformed JSON is a 400)."""
    if optional and not request.get_data(cache=True):
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # not a ValueError, so get_json's own handling lets it through as a 500
        raise InvalidInputError("the request body is JSON nested too deeply to read") from None
    if data is None:
        raise InvalidInputError("the request body must be JSON (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (inputs from the same models that validate requests)."""
    return jsonify(document())


@api.get("/health")
def health():
    """Liveness: 200 whenever the process answers; the index's state is included, problems as text."""
    try:
        return jsonify({"status": "ok", **service().status().to_dict()})
    except RecommenderError as error:
        return jsonify({"status": "ok", "index": service().settings.index_name, "problem": error.message})


@api.get("/ready")
def ready():
    """Readiness: 200 once an index version is loaded and can answer, else 503 with the reason."""
    return jsonify(service().ready().to_dict())


@api.get("/papers/<path:paper_id>/related")
def related(paper_id: str):
    params = validate(RelatedQuery, query_args())
    hits = service().related(
        paper_id, params.k, mode=params.mode, filters=params.to_filters(), offset=params.offset, sort=params.sort
    )
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/papers/<path:paper_id>")
def show(paper_id: str):
    return jsonify(service().show(paper_id).to_dict())


@api.post("/search")
def search():
    body = validate(SearchBody, json_body())
    filters = body.filters.to_filters() if body.filters else None
    hits = service().search(body.text, body.k, mode=body.mode, filters=filters, offset=body.offset, sort=body.sort)
    return jsonify([hit.to_dict() for hit in hits])


@api.post("/recommend")
def recommend():
    body = validate(RecommendBody, json_body())
    filters = body.filters.to_filters() if body.filters else None
    if (body.collection is None) == (not body.positive):
        raise InvalidInputError("give positive example papers or a collection (one of them)")
    if body.collection is not None:
        hits = service().recommend_collection(
            body.collection,
            body.k,
            negative=body.negative,
            mode=body.mode,
            filters=filters,
            offset=body.offset,
            sort=body.sort,
        )
    else:
        hits = service().recommend(
            body.positive, body.negative, body.k, mode=body.mode, filters=filters, offset=body.offset, sort=body.sort
        )
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/themes")
def themes():
    params = validate(ThemesQuery, query_args())
    fitted = service().themes(params.k, method=params.method, within=params.within, seed_themes=params.seed_themes)
    return jsonify(fitted.to_dict())


@api.get("/themes/map")
def theme_map():
    """The 2-D map of the corpus coloured by theme, as columns (see ``Recommender.theme_points``)."""
    params = validate(ThemesQuery, query_args())
    if params.within is not None:
        raise InvalidInputError("within: the map shows the whole corpus; use GET /themes?within=ID for sub-themes")
    return jsonify(service().theme_points(params.k, method=params.method, seed_themes=params.seed_themes))


# The report needs nothing from anywhere: no scripts, no fetches, only its own inline styles.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@api.get("/themes/report")
def theme_report():
    params = validate(ReportQuery, query_args())
    body = service().theme_report(
        params.k, method=params.method, within=params.within, fmt=params.format, seed_themes=params.seed_themes
    )
    return Response(
        body,
        mimetype=REPORT_TYPES[params.format],
        headers={"Content-Security-Policy": REPORT_POLICY},
    )


@api.get("/export")
def export():
    """Stored papers as a file for a reference manager (all, ``ids``, or one ``theme`` tagged with its label)."""
    args = query_args()
    theme = args.get("theme")
    if isinstance(theme, list) and len(theme) == 1:  # one theme here, not a filter list
        args["theme"] = theme[0]
    params = validate(ExportQuery, args)
    out = io.StringIO()
    service().export(
        params.format,
        out,
        ids=params.ids,
        theme=params.theme,
        collection=params.collection,
        theme_k=params.k,
        theme_method=params.method,
        theme_seeds=params.seed_themes,
    )
    name = "papers"
    if params.theme is not None:
        name += f"-theme-{params.theme}"
    if params.collection is not None:
        name += "-" + (re.sub(r"[^A-Za-z0-9]+", "-", params.collection).strip("-")[:60] or "collection")
    name += file_extension(params.format)
    return Response(
        out.getvalue(),
        mimetype=media_type(params.format),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ------------------------------------------------------------------------------------------- collections
@api.get("/collections")
def collections():
    """Every collection with its size."""
    return jsonify([info.to_dict() for info in service().collections.infos()])


@api.post("/collections")
@write_access
def create_collection():
    body = validate(CollectionBody, json_body())
    return jsonify(service().collections.create(body.name, body.note).to_dict()), 201


@api.get("/collections/<name>")
def show_collection(name: str):
    """A collection with its stored papers (oldest addition first) and the ids no longer stored."""
    return jsonify(service().collections.get(name).to_dict())


@api.delete("/collections/<name>")
@write_access
def delete_collection(name: str):
    return jsonify({"deleted": service().collections.delete(name).to_dict()})


@api.post("/collections/<name>/papers")
@write_access
def add_to_collection(name: str):
    """Add papers by id, DOI or PMID, and or a pasted list; made if missing. Unknown ones are listed."""
    body = validate(CollectionPapersBody, json_body())
    if not body.ids and not (body.text and body.text.strip()):
        raise InvalidInputError("give ids (paper ids, DOIs or PMIDs) or text (a pasted list)")
    found = service().collections
    change = found.add(name, body.ids) if body.ids else None
    if body.text and body.text.strip():
        listed = found.add_listed(name, body.text)
        change = listed if change is None else merge_changes(change, listed)
    assert change is not None
    return jsonify(change.to_dict())


@api.delete("/collections/<name>/papers/<path:paper_id>")
@write_access
def remove_from_collection(name: str, paper_id: str):
    return jsonify(service().collections.remove(name, [paper_id]).to_dict())


# ------------------------------------------------------------------------------------------- writes
#: What a write that stored papers did, whatever became of the index update after it.
PAPERS_STORED = "the papers were stored (the next build indexes them)"


def job_response(job: Job, body: dict[str, Any], wait: float, stored: str) -> tuple[Response, int]:
    """Wait up to ``wait`` seconds for ``job``: 200 with its result when it succeeded, 202 with where to look
    when it is still running, and the job's own error status when it failed.

    A failed index update is an error answer (so a client does not take the papers for indexed), whose message
    says what did happen — ``stored`` — and whose details carry the ingest summary and the job.
    """
    service().jobs.wait(job, wait)  # capped: past MAX_WAITERS waiting requests this returns at once (202)
    if job.state == FAILED:
        error = job.error or {}
        code = str(error.get("code") or "internal_error")
        message = f"{stored}, but updating the index failed: {error.get('message', 'see the server log')}"
        details = {**body, "job": job.to_dict()}
        return jsonify({"error": {"code": code, "message": message, "details": details}}), http_status_for(code)
    response = jsonify({**body, "job": job.to_dict()})
    if job.finished:
        return response, 200
    response.headers["Location"] = f"/jobs/{job.id}"
    return response, 202


@api.post("/rebuild")
@write_access
def rebuild():
    body = validate(RebuildBody, json_body(optional=True))
    job = service().start_rebuild(full=body.full)
    response = jsonify({"job": job.to_dict()})
    response.headers["Location"] = f"/jobs/{job.id}"
    return response, 202


@api.get("/jobs/<job_id>")
def job_status(job_id: str):
    if not re.fullmatch(JOB_ID_PATTERN, job_id):
        raise NotFoundError(f"no job {job_id[:40]!r}: job ids are 16 hexadecimal characters")
    return jsonify(service().job(job_id).to_dict())


@api.post("/papers")
@write_access
def add_papers():
    """Store papers (JSON records, fields as in JSONL ingest) and update the index with them."""
    body = validate(AddPapersBody, json_body())
    report = service().ingest_records(body.papers)
    job = service().start_update("add-papers", added=report.ids())
    return job_response(job, {"ingest": report.to_dict()}, body.wait, PAPERS_STORED)


@api.post("/papers/upload")
@write_access
def upload_papers():
    """Store the papers of uploaded files (the multipart field ``file``, repeated for several: at most
    MAX_UPLOAD_FILES) and or pasted text (form field ``text``), in any supported format, then update the index
    once for all of them, as ``POST /papers`` does.

    Each input (the files in order, then the text) is read and stored on its own: one that stores nothing gets
    its error and the others are stored all the same. The answer has ``inputs``, one entry per input in order
    (``{"name", "ingest"}`` or ``{"name", "status", "error"}``, see :class:`~recommender.ingesting.InputOutcome`),
    ``ingest``, the report of the inputs stored (for one input, its own report, as before there were several;
    for several, their counts summed and their papers and rejections listed in order), and the one ``job``.
    When no input stored anything the answer is an error: a single input's own, else the gravest status of
    them with every input's error in ``details.inputs``.
    """
    params = validate(UploadForm, {key: request.form.get(key) for key in request.form})
    unknown = sorted(set(request.files) - {"file"})
    if unknown:
        raise InvalidInputError(
            f"unknown file field {', '.join(repr(name[:40]) for name in unknown[:5])}: "
            "send every file in the field 'file' (repeated for several)"
        )
    files = [upload for upload in request.files.getlist("file") if upload.filename]
    if len(files) > MAX_UPLOAD_FILES:
        raise TooLargeError(
            f"{len(files)} files in one upload; at most {MAX_UPLOAD_FILES} are read per request: "
            "send the others in another request"
        )
    text = params.text if params.text and params.text.strip() else None
    if not files and text is None:
        raise InvalidInputError(
            "send a file (multipart field 'file', repeated for several) or pasted text (form field 'text')"
        )

    def inputs() -> Iterator[tuple[str, bytes]]:  # read one at a time, as each is ingested
        for upload in files:
            yield upload.filename or "upload", upload.read()
        if text is not None:
            yield "pasted text", text.encode("utf-8")

    outcomes = service().ingest_uploads(inputs())
    reports = [outcome.report for outcome in outcomes if outcome.report is not None]
    if not reports:
        raise _nothing_stored(outcomes)
    report = combine_reports(reports)
    job = service().start_update("upload", added=list(dict.fromkeys(report.ids())))
    body = {"ingest": report.to_dict(), "inputs": [outcome.to_dict() for outcome in outcomes]}
    return job_response(job, body, params.wait, PAPERS_STORED)


def _nothing_stored(outcomes: list[InputOutcome]) -> RecommenderError:
    """The error of an upload none of whose inputs stored anything: a single input's own; for several, the
    kind of the gravest (highest status, the first on ties) with each input's reason and ``details.inputs``."""
    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    if len(outcomes) == 1:
        return errors[0]
    gravest = max(errors, key=lambda error: error.http_status)
    reasons = "; ".join(f"{outcome.name}: {outcome.error.message}" for outcome in outcomes[:3] if outcome.error)
    more = f" (and {len(outcomes) - 3} more: see details.inputs)" if len(outcomes) > 3 else ""
    return type(gravest)(
        f"nothing was stored from any of the {len(outcomes)} inputs: {reasons}{more}",
        details={"inputs": [outcome.to_dict() for outcome in outcomes]},
        retry_after=gravest.retry_after,
    )


@api.delete("/papers/<path:paper_id>")
@write_access
def delete_paper(paper_id: str):
    params = validate(WaitQuery, query_args())
    paper = service().delete(paper_id)
    job = service().start_update("delete-paper", removed=[paper.id])
    stored = "the paper was deleted from the store (the next build drops it from the index)"
    return job_response(job, {"deleted": paper.id}, params.wait, stored)


@api.get("/versions")
def versions():
    return jsonify([version.to_dict() for version in service().list_versions()])


@api.post("/rollback")
@write_access
def rollback():
    body = validate(RollbackBody, json_body(optional=True))
    manifest = service().rollback(body.to)
    return jsonify({"current": manifest.build_id, "count": manifest.count})
