"""The HTTP API fuzzed from its own OpenAPI description (schemathesis): no input gets a 5xx.

Every operation of ``/openapi.json`` is called with generated valid and invalid inputs (wrong types, missing
and unknown fields, out-of-range numbers, odd strings and path ids). The checks: no server error, every
answer has a documented status, content type and body shape, and every request that breaks the published
schema is refused with a 4xx (so the description and the validation agree). Reads run with the write token configured
but not sent; the write operations run again with the token, so their validation and effects are fuzzed
too. Examples per operation are set so that one run makes a few thousand calls (counted and asserted).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from helpers import CORPUS, fake_factory, jsonl, write
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from recommender.service import Recommender
from recommender.settings import Settings
from recommender.web import create_app
from recommender.web.openapi import document

TOKEN = "fuzz-token-0123456789"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
READ_EXAMPLES = 180
WRITE_EXAMPLES = 60
calls: Counter[str] = Counter()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(index_dir=folder / "indexes", show_progress=False, api_token=TOKEN, keep_versions=3)
    service = Recommender(settings_, embedder_factory=fake_factory)
    service.ingest([write(folder / "corpus.jsonl", jsonl(CORPUS))])
    service.build()
    return create_app(service=service)


@pytest.fixture(scope="module")
def api_schema(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # An invalid request may be refused for its size before its content is looked at: 413 is a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


PATHS = document()["paths"]
OPERATIONS = [(path, method) for path, item in PATHS.items() for method in item if method in {"get", "post", "delete"}]


def has_inputs(path: str, method: str) -> bool:
    item = PATHS[path]
    return bool(item.get("parameters") or item[method].get("parameters") or item[method].get("requestBody"))


# Negative cases need something to make invalid: operations without inputs are fuzzed with valid ones only.
CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or has_inputs(path, method)
]
WRITES = {"post", "delete"}
# POST /search and /recommend only read; they are fuzzed as reads (without a token, at the read count).
READ_POSTS = {"/search", "/recommend"}


def fuzz(operation, mode: GenerationMode, examples: int, headers: dict[str, str]) -> int:
    """Call ``operation`` with ``examples`` generated cases of ``mode``; every check must pass."""
    made = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case):
        nonlocal made
        case.call_and_validate(headers=headers, checks=CHECKS)
        made += 1

    run()
    return made


@pytest.mark.parametrize(
    ("path", "method", "mode"), CASES, ids=[f"{m.upper()} {p} {mode.value}" for p, m, mode in CASES]
)
def test_no_generated_request_gets_a_server_error(api_schema, path, method, mode):
    operation = api_schema[path][method.upper()]
    writes = method in WRITES and path not in READ_POSTS
    headers = {"Authorization": f"Bearer {TOKEN}"} if writes else {}
    made = fuzz(operation, mode, WRITE_EXAMPLES if writes else READ_EXAMPLES, headers)
    calls[f"{method} {path} {mode.value}"] = made


def test_the_fuzzing_made_thousands_of_calls_and_the_service_still_answers(app):
    if len(calls) < len(CASES):
        pytest.skip("run together with the fuzz tests above")
    assert sum(calls.values()) >= 3000, calls
    assert app.test_client().get("/ready").status_code == 200
