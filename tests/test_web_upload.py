"""Uploading files or pasted text over HTTP (POST /papers/upload): any format, stored and indexed, and the errors."""

from __future__ import annotations

import io

import pytest
from helpers import RIS_RECORD, built_service

from recommender.web import create_app

TOKEN = "upload-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def client(index_dir, tmp_path):
    return create_app(service=built_service(index_dir, tmp_path, api_token=TOKEN)).test_client()


def test_an_uploaded_file_in_any_format_is_stored_and_indexed(client):
    data = {"file": (io.BytesIO(RIS_RECORD.encode()), "../../etc/passwd.ris")}
    response = client.post("/papers/upload", data=data, headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ingest"]["added"] == 1 and body["job"]["state"] == "succeeded"
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
