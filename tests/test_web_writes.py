"""HTTP writes: token auth, background rebuilds with jobs, adding and deleting papers, serving during rebuilds."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import CORPUS, FakeEmbedder, built_service, fake_factory

from recommender.jobs import FAILED, SUCCEEDED
from recommender.service import Recommender
from recommender.web import create_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(index_dir, tmp_path, token: str | None = TOKEN, factory=fake_factory):
    return create_app(service=built_service(index_dir, tmp_path, factory=factory, api_token=token))


@pytest.fixture()
def app(index_dir, tmp_path):
    return make_app(index_dir, tmp_path)


@pytest.fixture()
def client(app):
    return app.test_client()


def error_of(response, status):
    assert response.status_code == status and response.is_json, response.get_data(as_text=True)
    return response.get_json()["error"]


WRITES = [
    ("post", "/rebuild", {}),
    ("post", "/papers", {"papers": [{"id": "n1", "title": "T", "abstract": "Anoikis."}]}),
    ("delete", "/papers/a1", None),
    ("post", "/rollback", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_need_the_token(client, method, path, body):
    call = getattr(client, method)
    assert error_of(call(path, json=body), 401)["code"] == "unauthorized"
    assert call(path, json=body).headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(call(path, json=body, headers={"Authorization": "Bearer wrong"}), 403)["code"] == "forbidden"
    assert error_of(call(path, json=body, headers={"Authorization": f"Basic {TOKEN}"}), 401)
    assert client.get("/papers/a1").status_code == 200  # nothing was changed


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_are_refused_when_no_token_is_configured(index_dir, tmp_path, method, path, body):
    client = make_app(index_dir, tmp_path, token=None).test_client()
    error = error_of(getattr(client, method)(path, json=body, headers=AUTH), 403)
    assert "RECOMMENDER_API_TOKEN" in error["message"]


def wait_for(client, job_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").get_json()
        if job["state"] in (SUCCEEDED, FAILED):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_rebuild_runs_in_the_background_and_reports_progress(client):
    before = client.get("/health").get_json()["version"]
    response = client.post("/rebuild", json={"full": True}, headers=AUTH)
    assert response.status_code == 202
    job = response.get_json()["job"]
    assert response.headers["Location"] == f"/jobs/{job['id']}" and job["kind"] == "rebuild"
    done = wait_for(client, job["id"])
    assert done["state"] == SUCCEEDED, done
    assert done["result"]["embedded"] == len(CORPUS) and done["result"]["count"] == len(CORPUS)
    assert "embed" in done["steps"] and done["progress"]["fraction"] == 1.0
    assert client.get("/health").get_json()["version"] == done["result"]["build_id"] != before


def test_unknown_job_is_404(client):
    assert error_of(client.get("/jobs/nope"), 404)["code"] == "not_found"


def test_rebuild_body_is_validated(client):
    assert "full" in error_of(client.post("/rebuild", json={"full": "yes please"}, headers=AUTH), 400)["message"]
    assert "extra" in error_of(client.post("/rebuild", json={"fast": True}, headers=AUTH), 400)["message"].lower()


def test_add_papers_updates_the_index_without_a_full_rebuild(client):
    paper = {"id": "n1", "title": "Anoikis resistance in detached melanoma", "abstract": "Melanoma cells resist "
             "anoikis after detachment through ERK signalling and BIM loss."}  # fmt: skip
    response = client.post("/papers", json={"papers": [paper]}, headers=AUTH)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ingest"]["added"] == 1 and body["job"]["state"] == SUCCEEDED
    assert body["job"]["result"]["embedded"] == 1 and body["job"]["result"]["reused"] == len(CORPUS)
    assert body["job"]["result"]["delta"] == {"papers": 1, "hidden": 0}  # a delta version: the base is kept
    assert client.get("/health").get_json()["delta"]["papers"] == 1
    related = client.get("/papers/n1/related?k=3").get_json()
    assert related[0]["id"].startswith("a")


def test_add_papers_rejects_unusable_records_and_keeps_the_index(client):
    before = client.get("/health").get_json()
    error = error_of(client.post("/papers", json={"papers": [{"title": "no abstract"}]}, headers=AUTH), 400)
    assert error["code"] == "nothing_ingested" and "no abstract" in error["message"]
    assert error_of(client.post("/papers", json={"papers": []}, headers=AUTH), 400)
    assert error_of(client.post("/papers", json={"paper": {}}, headers=AUTH), 400)
    assert client.get("/health").get_json() == before


def test_delete_paper(client):
    response = client.delete("/papers/c1", headers=AUTH)
    assert response.status_code == 200 and response.get_json()["deleted"] == "c1"
    assert response.get_json()["job"]["result"]["count"] == len(CORPUS) - 1
    assert error_of(client.get("/papers/c1/related"), 404)
    assert all(hit["id"] != "c1" for hit in client.get("/papers/c2/related?k=20").get_json())
    assert error_of(client.delete("/papers/c1", headers=AUTH), 404)


def test_slow_update_answers_202_with_the_job(index_dir, tmp_path):
    release = threading.Event()

    class Slow(FakeEmbedder):
        def encode_documents(self, texts, *, progress=False):
            if self.calls:  # the initial build goes through; the update waits
                release.wait(10)
            return super().encode_documents(texts)

    model = Slow()
    client = make_app(index_dir, tmp_path, factory=lambda config, settings: model).test_client()
    paper = {"id": "n1", "title": "Slow", "abstract": "Anoikis in slow cells."}
    response = client.post("/papers", json={"papers": [paper], "wait": 0}, headers=AUTH)
    assert response.status_code == 202 and response.headers["Location"].startswith("/jobs/")
    assert client.get("/papers/a1/related").status_code == 200  # still serving the previous version
    release.set()
    assert wait_for(client, response.get_json()["job"]["id"])["state"] == SUCCEEDED


def test_queries_keep_being_answered_during_rebuilds(client):
    failures: list[object] = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            response = client.get("/papers/a1/related?k=3")
            if response.status_code != 200 or len(response.get_json()) != 3:
                failures.append(response.get_json())

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            job = client.post("/rebuild", json={"full": True}, headers=AUTH).get_json()["job"]
            assert wait_for(client, job["id"])["state"] == SUCCEEDED
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []


def test_versions_and_rollback_over_http(client):
    first = client.get("/health").get_json()["version"]
    job = client.post("/rebuild", json={}, headers=AUTH).get_json()["job"]
    wait_for(client, job["id"])
    versions = client.get("/versions").get_json()
    assert [entry["current"] for entry in versions] == [False, True]
    response = client.post("/rollback", json={}, headers=AUTH)
    assert response.status_code == 200 and response.get_json()["current"] == first
    assert client.get("/health").get_json()["version"] == first


def test_ready_reports_the_loaded_version(client):
    body = client.get("/ready").get_json()
    assert body["ready"] is True and body["papers_indexed"] == len(CORPUS) and body["version"]


def test_not_ready_without_an_index_is_503(make_service):
    client = create_app(service=make_service("empty")).test_client()
    error = error_of(client.get("/ready"), 503)
    assert error["code"] == "not_ready" and "recommender ingest" in error["message"]
    assert client.get("/health").status_code == 200  # alive all the same


def test_not_ready_when_the_current_version_is_corrupt(app, index_dir):
    service = app.extensions["recommender"]
    (service.versions.current_path() / "manifest.json").unlink()
    fresh = create_app(service=Recommender(service.settings, embedder_factory=lambda c, s: FakeEmbedder(c)))
    assert error_of(fresh.test_client().get("/ready"), 503)["code"] == "not_ready"
    health = fresh.test_client().get("/health")
    assert health.status_code == 200 and "manifest.json" in health.get_json()["problem"]
