"""Hardening of the HTTP API: hostile text, path tricks, oversize bodies, tokens, rate limits, request ids,
metrics, the OpenAPI description and a graceful stop of the real server."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import CORPUS, built_service

from recommender.web import create_app
from recommender.web.limits import MAX_QUERY_BODY

TOKEN = "write-token-7f3a9c"
READ_TOKEN = "read-token-11b2"
XSS_TITLE = '<script>alert("title")</script> Anoikis resistance'
XSS_ABSTRACT = "<img src=x onerror=alert(1)> anoikis resistance in detached cells <svg onload=alert(2)>"
XSS = {"id": "x<script>", "title": XSS_TITLE, "abstract": XSS_ABSTRACT, "journal": "<b onmouseover=alert(3)>J</b>"}


def make_app(index_dir: Path, tmp_path: Path, **settings: object):
    return create_app(service=built_service(index_dir, tmp_path, [*CORPUS, XSS], **{"api_token": TOKEN, **settings}))


@pytest.fixture()
def app(index_dir, tmp_path):
    return make_app(index_dir, tmp_path)


@pytest.fixture()
def client(app):
    return app.test_client()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


# ----------------------------------------------------------------------------------------- safe output
def test_hostile_corpus_text_is_escaped_in_the_html_report(client):
    report = client.get("/themes/report?format=html")
    assert report.status_code == 200 and report.mimetype == "text/html"
    html = report.get_data(as_text=True)
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<b onmouseover"):
        assert raw not in html
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html or "&lt;script&gt;" in html
    assert "script-src" not in report.headers["Content-Security-Policy"]  # no script may run at all


def test_hostile_text_comes_back_as_json_data_never_as_a_page(client):
    response = client.post("/search", json={"text": "anoikis resistance detached cells"})
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert XSS_TITLE in [hit["title"] for hit in response.get_json()]  # kept verbatim as data, escaped by JSON
    markdown = client.get("/themes/report?format=md")
    assert markdown.mimetype == "text/markdown" and markdown.headers["X-Content-Type-Options"] == "nosniff"


def test_an_error_message_echoing_input_is_json_not_html(client):
    response = client.get("/papers/<script>alert(1)<%2Fscript>")
    assert error_of(response, 404)["code"] == "not_found"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ------------------------------------------------------------------------------------ path traversal
@pytest.mark.parametrize(
    "path",
    [
        "/papers/..%2F..%2F..%2Fetc%2Fpasswd",
        "/papers/../../etc/passwd",
        "/papers/%2E%2E/%2E%2E/indexes/default/papers.sqlite/related",
        "/papers/..%5C..%5Cwindows%5Cwin.ini",
        "/papers/%00",
        "/jobs/..%2F..%2Fetc%2Fpasswd",
        "/themes/report?format=..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_ids_that_look_like_paths_open_nothing(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404), response.get_data(as_text=True)
    assert response.is_json
    assert "root:" not in response.get_data(as_text=True)


def test_rollback_target_must_be_a_version_id(client):
    response = client.post("/rollback", json={"to": "../../../etc"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert "to" in error_of(response, 400)["message"]


def test_an_id_with_control_characters_is_refused(client):
    assert "control characters" in error_of(client.get("/papers/a1%07b"), 400)["message"]
    assert error_of(client.get("/papers/a1%0D%0AX-Injected:%201"), 404)  # the router matches no line breaks


# -------------------------------------------------------------------------------------- input limits
def test_oversize_query_bodies_are_413_before_parsing(client):
    body = json.dumps({"text": "a" * (MAX_QUERY_BODY + 10)})
    response = client.post("/search", data=body, content_type="application/json")
    assert error_of(response, 413)["code"] == "request_entity_too_large"


def test_uploads_have_their_own_cap(index_dir, tmp_path):
    client = make_app(index_dir, tmp_path, max_upload_bytes=4096).test_client()
    papers = [{"id": f"n{i}", "title": "Anoikis", "abstract": "x" * 100} for i in range(60)]
    response = client.post("/papers", json={"papers": papers}, headers={"Authorization": f"Bearer {TOKEN}"})
    error_of(response, 413)
    assert client.get("/papers/n0").status_code == 404  # nothing stored


def test_text_k_and_unknown_fields_are_checked_and_named(client):
    assert "text" in error_of(client.post("/search", json={"text": "a" * 20001}), 400)["message"]
    assert "k" in error_of(client.post("/search", json={"text": "anoikis", "k": 1001}), 400)["message"]
    assert "txt" in error_of(client.post("/search", json={"txt": "anoikis"}), 400)["message"]
    assert "k" in error_of(client.get("/papers/a1/related?k=0"), 400)["message"]


def test_malformed_json_is_a_400_on_every_body_endpoint(client):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/search", "/recommend", "/rebuild", "/rollback", "/papers"):
        response = client.post(path, data="{not json", content_type="application/json", headers=auth)
        assert "JSON" in error_of(response, 400)["message"], path
    assert client.post("/rebuild", headers=auth).status_code == 202  # an empty body means the defaults


# -------------------------------------------------------------------------------------------- tokens
def test_reads_are_open_by_default(client):
    assert client.get("/papers/a1/related").status_code == 200


def test_reads_can_be_token_protected(index_dir, tmp_path):
    client = make_app(index_dir, tmp_path, read_token=READ_TOKEN).test_client()
    assert error_of(client.get("/papers/a1/related"), 401)["code"] == "unauthorized"
    assert error_of(client.get("/papers/a1", headers={"Authorization": "Bearer nope"}), 403)["code"] == "forbidden"
    for token in (READ_TOKEN, TOKEN):
        assert client.get("/papers/a1/related", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for open_path in ("/health", "/ready", "/metrics", "/openapi.json"):
        assert client.get(open_path).status_code == 200, open_path
    # the read token does not allow writes
    response = client.post("/rebuild", json={}, headers={"Authorization": f"Bearer {READ_TOKEN}"})
    assert error_of(response, 403)["code"] == "forbidden"


def test_tokens_never_reach_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/rebuild", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    client.post("/rebuild", json={}, headers={"Authorization": "Bearer wrong-guess-123"})
    client.get("/papers/a1", headers={"Authorization": f"Bearer {TOKEN}"})
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records  # requests are logged...
    assert TOKEN not in logged and "wrong-guess-123" not in logged  # ...without their credentials


# ------------------------------------------------------------------------------------------ rate limit
def test_rate_limit_answers_429_in_the_json_shape(index_dir, tmp_path):
    client = make_app(index_dir, tmp_path, rate_limit="3/minute").test_client()
    statuses = [client.get("/papers/a1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/papers/a1")
    assert error_of(response, 429)["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/health").status_code == 200  # probes are exempt


def test_a_malformed_rate_limit_is_refused_at_start(index_dir, tmp_path):
    from recommender.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="rate limit"):
        make_app(index_dir, tmp_path, rate_limit="lots")


# ---------------------------------------------------------------------------------- request ids, metrics
def test_every_answer_carries_a_request_id(client):
    generated = client.get("/papers/a1").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/nowhere", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/health", headers={"X-Request-ID": "x" * 300}).headers["X-Request-ID"]
    assert forged != "x" * 300


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/papers/a1/related?k=2")
    client.get("/papers/nope/related")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'recommender_http_requests_total{method="GET",route="/papers/<path:paper_id>/related",status="200"} 1.0' in text
    )
    assert 'status="404"' in text
    assert "recommender_http_request_duration_seconds_bucket" in text
    assert f"recommender_papers_indexed {float(len(CORPUS) + 1)}" in text


# ------------------------------------------------------------------------------------------- OpenAPI
def test_openapi_describes_every_route_with_its_rules(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "api.openapi"):
            continue
        path = rule.rule.replace("<path:paper_id>", "{paper_id}").replace("<job_id>", "{job_id}")
        path = path.replace("<name>", "{name}")
        routed |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    search = spec["components"]["schemas"]["SearchBody"]
    assert search["additionalProperties"] is False
    assert search["properties"]["text"]["maxLength"] == 20000
    assert spec["paths"]["/rebuild"]["post"]["security"] == [{"bearerAuth": []}]


# ------------------------------------------------------------------------------- the real server process
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_server_logs_json_with_request_ids_and_stops_cleanly_on_sigterm(index_dir, tmp_path):
    make_app(index_dir, tmp_path)  # builds the index with the fake model; serving it needs no model
    port = free_port()
    env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(index_dir), "RECOMMENDER_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "recommender", "serve", "--port", str(port), "--threads", "4"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        answer = requests.get(f"{base}/papers/a1/related", headers={"X-Request-ID": "trace-42"}, timeout=10)
        assert answer.status_code == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
    lines = [json.loads(line) for line in server.stderr.read().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "trace-42"]
    assert access and access[0]["status"] == 200 and access[0]["route"] == "/papers/<path:paper_id>/related"
    assert TOKEN not in json.dumps(lines)
    assert any(line["message"] == "shut down cleanly" for line in lines)


def test_log_records_of_a_background_job_carry_its_id(caplog):
    from recommender.jobs import JobRunner
    from recommender.web.observability import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    runner = JobRunner()
    job = runner.submit("test", lambda progress: logging.getLogger("recommender.test").info("inside the job"))
    assert job.wait(10)
    logging.getLogger("recommender.test").info("outside any job")
    tags = {record.getMessage(): record.request_id for record in caplog.records}
    assert tags == {"inside the job": f"job:{job.id}", "outside any job": "-"}
