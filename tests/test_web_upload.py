"""Uploading files or pasted text over HTTP (POST /papers/upload): any format, stored and indexed, and the errors."""

from __future__ import annotations

import io
import threading

import pytest
from helpers import RIS_RECORD, built_service

from recommender.web import create_app

TOKEN = "upload-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def service(index_dir, tmp_path):
    return built_service(index_dir, tmp_path, api_token=TOKEN)


@pytest.fixture()
def client(service):
    return create_app(service=service).test_client()


def ris(number: int) -> bytes:
    """A RIS record of its own (DOI 10.1000/rNUMBER), like RIS_RECORD."""
    record = RIS_RECORD.replace("TrkB", f"TrkB{number}").replace("10.1038/nature02766", f"10.1000/r{number}")
    return record.encode()


def upload(client, inputs, **fields):
    """POST /papers/upload with ``inputs`` ([(bytes, name)]) all in the repeated field ``file``, and ``fields``."""
    data = {"file": [(io.BytesIO(content), name) for content, name in inputs], **fields}
    return client.post("/papers/upload", data=data, headers=AUTH, content_type="multipart/form-data")


def count_updates(service, monkeypatch) -> list[list[str]]:
    """The ``added`` ids of every index update started from now on."""
    started: list[list[str]] = []
    start_update = service.start_update

    def spy(kind, *, added=(), removed=()):
        started.append(list(added))
        return start_update(kind, added=added, removed=removed)

    monkeypatch.setattr(service, "start_update", spy)
    return started


def test_an_uploaded_file_in_any_format_is_stored_and_indexed(client):
    data = {"file": (io.BytesIO(RIS_RECORD.encode()), "../../etc/passwd.ris")}
    response = client.post("/papers/upload", data=data, headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"ingest", "inputs", "job"}  # as before several files, plus the per-input list
    assert body["ingest"]["added"] == 1 and body["job"]["state"] == "succeeded"
    assert body["inputs"] == [{"name": "passwd.ris", "ingest": body["ingest"]}]
    assert body["ingest"]["papers"][0]["source"] == "passwd.ris"  # a label, never a path
    paper = client.get("/papers/10.1038/nature02766").get_json()
    assert paper["journal"] == "Oncogene"
    assert client.get(f"/papers/{paper['id']}/related?k=2").status_code == 200


def test_pasted_pages_are_read_like_files(client, seeds_dir, expected_seeds):
    for name in expected_seeds:
        text = (seeds_dir / name).read_text(encoding="utf-8")
        response = client.post("/papers/upload", data={"text": text, "wait": "30"}, headers=AUTH)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["ingest"]["read"] == 1
    assert client.get("/papers/10.1186/s40164-025-00713-9").status_code == 200


def test_upload_errors(client):
    assert client.post("/papers/upload", data={"text": "x"}).status_code == 401
    empty = client.post("/papers/upload", data={}, headers=AUTH)
    assert empty.status_code == 400 and "file" in empty.get_json()["error"]["message"]
    junk = client.post(
        "/papers/upload",
        data={"file": (io.BytesIO(b"\x00\x01\x02" * 10), "x.bin")},
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert junk.status_code == 400 and junk.get_json()["error"]["code"] == "nothing_ingested"
    unknown = client.post("/papers/upload", data={"text": "abc", "colour": "red"}, headers=AUTH)
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["error"]["message"]


def test_several_files_and_a_paste_in_one_request_are_one_index_update(client, service, monkeypatch):
    updates = count_updates(service, monkeypatch)
    pasted = '[{"id": "pasted1", "title": "Pasted anoikis paper", "abstract": "Anoikis resistance in a paste."}]'
    response = upload(client, [(ris(1), "one.ris"), (ris(2), "two.ris"), (ris(3), "three.ris")], text=pasted)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(updates) == 1 and body["job"]["state"] == "succeeded"
    assert [entry["name"] for entry in body["inputs"]] == ["one.ris", "two.ris", "three.ris", "pasted text"]
    reports = [entry["ingest"] for entry in body["inputs"]]
    assert [report["papers"][0]["source"] for report in reports] == [entry["name"] for entry in body["inputs"]]
    assert all(report["added"] == 1 for report in reports)
    assert body["ingest"]["added"] == body["ingest"]["read"] == 4  # the sum of the inputs
    assert body["ingest"]["total"] == reports[-1]["total"]
    ids = [paper["id"] for report in reports for paper in report["papers"]]
    assert [paper["id"] for paper in body["ingest"]["papers"]] == ids == updates[0]
    for reference in ("10.1000/r1", "10.1000/r2", "10.1000/r3", "pasted1"):  # stored and indexed by the one job
        paper = client.get(f"/papers/{reference}").get_json()
        assert client.get(f"/papers/{paper['id']}/related?k=2").status_code == 200
    hits = client.post("/search", json={"text": "Anoikis resistance through TrkB2", "k": 20}).get_json()
    assert any(hit["doi"] == "10.1000/r2" for hit in hits)


def test_an_unreadable_file_gets_its_error_and_the_others_are_stored(client, service, monkeypatch):
    updates = count_updates(service, monkeypatch)
    junk = b"\x00\x01\x02" * 10
    response = upload(client, [(ris(1), "good.ris"), (junk, "junk.bin"), (ris(2), "also good.ris")])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    first, bad, last = body["inputs"]
    assert first["name"] == "good.ris" and first["ingest"]["added"] == 1
    assert bad["name"] == "junk.bin" and "ingest" not in bad
    assert bad["status"] == 400 and bad["error"]["code"] == "nothing_ingested" and bad["error"]["message"]
    assert bad["error"]["details"]["rejected_count"] >= 1  # the same error a single-file upload answers
    assert last["name"] == "also good.ris" and last["ingest"]["added"] == 1
    assert body["ingest"]["added"] == 2 and len(updates) == 1
    assert client.get("/papers/10.1000/r1").status_code == 200
    assert client.get("/papers/10.1000/r2").status_code == 200


def test_when_no_input_is_stored_the_answer_is_an_error_with_each_inputs_reason(client, service, monkeypatch):
    updates = count_updates(service, monkeypatch)
    junk = b"\x00\x01\x02" * 10
    response = upload(client, [(junk, "a.bin"), (junk, "b.bin")], text="   ")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "nothing_ingested"
    assert "a.bin" in error["message"] and "b.bin" in error["message"]
    assert [entry["name"] for entry in error["details"]["inputs"]] == ["a.bin", "b.bin"]
    assert all(entry["error"]["code"] == "nothing_ingested" for entry in error["details"]["inputs"])
    assert updates == []


def test_too_many_files_in_one_request_are_refused_before_any_is_read(client, service, monkeypatch):
    from recommender.web.limits import MAX_UPLOAD_FILES

    updates = count_updates(service, monkeypatch)
    before = service.store.count()
    response = upload(client, [(ris(i), f"f{i}.ris") for i in range(MAX_UPLOAD_FILES + 1)])
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large"
    assert f"at most {MAX_UPLOAD_FILES}" in error["message"] and f"{MAX_UPLOAD_FILES + 1} files" in error["message"]
    assert service.store.count() == before and updates == []


def test_files_in_another_field_are_refused_by_name(client):
    response = upload(client, [], files=(io.BytesIO(RIS_RECORD.encode()), "x.ris"))
    assert response.status_code == 400
    assert "'files'" in response.get_json()["error"]["message"]


def test_a_busy_parser_refuses_the_whole_request_before_anything_is_stored(index_dir, tmp_path):
    from recommender.upload_parser import UploadLimits

    service = built_service(index_dir, tmp_path, api_token=TOKEN)
    service.upload_parser = type(service.upload_parser)(UploadLimits(concurrent=1))
    client = create_app(service=service).test_client()
    before = service.store.count()
    holding, release = threading.Event(), threading.Event()

    def other_request() -> None:  # another request, in its own thread, is reading an upload
        with service.upload_parser.reserved():
            holding.set()
            release.wait(30)

    other = threading.Thread(target=other_request)
    other.start()
    try:
        assert holding.wait(30)
        response = upload(client, [(ris(1), "one.ris"), (ris(2), "two.ris")])
    finally:
        release.set()
        other.join(30)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "busy"
    assert response.headers["Retry-After"]
    assert service.store.count() == before
    assert upload(client, [(ris(1), "one.ris"), (ris(2), "two.ris")]).status_code == 200  # the slot is free again
