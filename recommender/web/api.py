"""JSON endpoints. Each handler validates its input, calls one façade method and returns its result.

Related papers and search results are a JSON list of hits, best first — the same shape the CLI prints with
``--json``.

Request bodies and query strings are validated with pydantic models that forbid unknown fields, so a typo
("txt" for "text") is a 400 naming the field rather than a silently ignored parameter.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidInputError
from ..retrieval import MODES
from ..service import MAX_QUERY_CHARS, Recommender
from ..settings import DEFAULT_K, MAX_K

api = Blueprint("api", __name__)
Model = TypeVar("Model", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class SearchBody(_Strict):
    text: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: str | None = Field(None, pattern="^(" + "|".join(MODES) + ")$")


class RelatedQuery(_Strict):
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    mode: str | None = Field(None, pattern="^(" + "|".join(MODES) + ")$")


class ThemesQuery(_Strict):
    k: int | None = Field(None, ge=1)


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


def query_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items()}


def json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInputError("the request body must be JSON (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


@api.get("/health")
def health():
    return jsonify({"status": "ok", **service().status()})


@api.get("/papers/<path:paper_id>/related")
def related(paper_id: str):
    params = validate(RelatedQuery, query_args())
    hits = service().related(paper_id, params.k, mode=params.mode)
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/papers/<path:paper_id>")
def show(paper_id: str):
    return jsonify(service().show(paper_id).to_dict())


@api.post("/search")
def search():
    body = validate(SearchBody, json_body())
    hits = service().search(body.text, body.k, mode=body.mode)
    return jsonify([hit.to_dict() for hit in hits])


@api.get("/themes")
def themes():
    params = validate(ThemesQuery, query_args())
    return jsonify(service().themes(params.k).to_dict())
