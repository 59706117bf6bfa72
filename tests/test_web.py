"""The HTTP API through Flask's test client, with a fake embedder: shapes, status codes, one error shape."""

from __future__ import annotations

import pytest
from helpers import CORPUS, jsonl, write

from recommender.web import create_app


@pytest.fixture()
def client(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "c.jsonl", jsonl(CORPUS))])
    service.build()
    return create_app(service=service).test_client()


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_app_keeps_its_service_in_extensions(make_service):
    service = make_service()
    app = create_app(service=service)
    assert app.extensions["recommender"] is service


def test_health(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["papers_indexed"] == len(CORPUS) and body["version"]


def test_paper_record(client):
    response = client.get("/papers/a1")
    assert response.status_code == 200
    assert response.get_json()["title"].startswith("Anoikis resistance")


def test_related(client):
    response = client.get("/papers/a1/related?k=3")
    assert response.status_code == 200
    hits = response.get_json()
    assert len(hits) == 3 and "a1" not in [hit["id"] for hit in hits]
    assert {"id", "title", "score", "dense", "lexical", "shared_terms"} <= set(hits[0])
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)


def test_ids_with_slashes_work(make_service, tmp_path):
    service = make_service()
    service.ingest(
        [
            write(
                tmp_path / "c.jsonl",
                jsonl([{"doi": "10.1000/a/b", "abstract": "anoikis one"}, {"abstract": "anoikis two"}]),
            )
        ]
    )
    service.build()
    client = create_app(service=service).test_client()
    assert client.get("/papers/doi:10.1000/a/b").get_json()["doi"] == "10.1000/a/b"
    assert client.get("/papers/doi:10.1000/a/b/related?k=1").status_code == 200


def test_search(client):
    response = client.post("/search", json={"text": "hypoxia HIF-1alpha glycolysis", "k": 2})
    assert response.status_code == 200
    assert [hit["id"][0] for hit in response.get_json()] == ["h", "h"]


def test_themes(client):
    body = client.get("/themes?k=3").get_json()
    assert len(body["themes"]) == 3
    assert all({"label", "terms", "papers"} <= set(theme) for theme in body["themes"])
    assert sorted(p for theme in body["themes"] for p in theme["papers"]) == sorted(r["id"] for r in CORPUS)


def test_unknown_ids_are_404(client):
    assert_error(client.get("/papers/nope"), 404, "not_found")
    assert_error(client.get("/papers/nope/related"), 404, "not_found")


@pytest.mark.parametrize("query", ["k=0", "k=abc", "k=1001", "k=-2", "mode=magic", "colour=red"])
def test_bad_related_parameters_are_400(client, query):
    message = assert_error(client.get(f"/papers/a1/related?{query}"), 400, "invalid_input")["message"]
    assert query.split("=")[0] in message


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": 5}, {"text": "x", "k": 0}, {"text": "x", "k": "many"}, {"text": "x", "txt": "y"}, []],
)
def test_bad_search_bodies_are_400(client, body):
    assert_error(client.post("/search", json=body), 400, "invalid_input")


def test_non_json_search_is_400(client):
    assert_error(client.post("/search", data="text=hello", content_type="application/x-www-form-urlencoded"), 400)
    assert_error(client.post("/search", data="{broken", content_type="application/json"), 400)


def test_bad_themes_k_is_400(client):
    assert_error(client.get("/themes?k=0"), 400)
    assert_error(client.get("/themes?k=500"), 400)


def test_http_errors_share_the_json_shape(client):
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(client.delete("/search"), 405, "method_not_allowed")
    assert_error(client.post("/search", data="x" * (2 * 1024 * 1024), content_type="application/json"), 413)


def test_unbuilt_index_is_409(make_service):
    client = create_app(service=make_service("empty")).test_client()
    assert_error(client.post("/search", json={"text": "x"}), 409, "index_not_built")
    assert client.get("/health").status_code == 200


def test_unexpected_failure_is_a_json_500(client, monkeypatch):
    service = client.application.extensions["recommender"]
    monkeypatch.setattr(service, "search", lambda *a, **k: 1 / 0)
    assert_error(client.post("/search", json={"text": "x"}), 500, "internal_error")


def test_recommend(client):
    response = client.post("/recommend", json={"positive": ["a1", "a2"], "negative": ["c1"], "k": 3})
    assert response.status_code == 200
    hits = response.get_json()
    assert hits[0]["id"] == "a3" and {"a1", "a2", "c1"}.isdisjoint(hit["id"] for hit in hits)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"positive": []}, 400),
        ({"positive": "a1"}, 400),
        ({"negative": ["a1"]}, 400),
        ({"positive": ["a1"], "k": 0}, 400),
        ({"positive": ["a1"], "filters": {"colour": "red"}}, 400),
        ({"positive": ["a1"], "filters": {"year_min": "soon"}}, 400),
        ({"positive": ["nope"]}, 404),
        ({"positive": ["a1"], "negative": ["nope"]}, 404),
    ],
)
def test_bad_recommend_requests(client, body, status):
    assert_error(client.post("/recommend", json=body), status)


def test_filters_over_http(client):
    related = client.get("/papers/a1/related?k=5&journal=Oncology%20Test&year_min=2019")
    assert related.status_code == 200
    assert {hit["id"] for hit in related.get_json()} == {"a3", "c2", "h3"}
    excluded = client.get("/papers/a1/related?k=3&exclude=a2&exclude=a3").get_json()
    assert {"a2", "a3"}.isdisjoint(hit["id"] for hit in excluded)
    search = client.post(
        "/search", json={"text": "anoikis", "k": 5, "filters": {"journals": ["J Test"], "year_max": 2020}}
    )
    assert {hit["id"] for hit in search.get_json()} <= {"a1", "c1", "h1", "h2"}
    assert_error(client.post("/search", json={"text": "x", "filters": {"journal": ["J Test"]}}), 400)
    assert_error(client.get("/papers/a1/related?year_min=2020&year_max=2010"), 400)
    assert_error(client.get("/papers/a1/related?theme=x"), 400)
    assert_error(client.get("/papers/a1/related?theme=42"), 400)
