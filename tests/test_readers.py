"""Many readers on one index folder: three `recommender serve` processes over the same index, one writer; each
reader serves the new version once it is published, and none of them writes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import ANOIKIS, jsonl, write

from recommender import remote
from recommender.service import Recommender
from recommender.settings import Settings

pytestmark = pytest.mark.e2e

READERS = 3
NEW_PAPER = {
    "id": "new-1",
    "title": "Anoikis resistance of circulating tumour cells through integrin-linked kinase",
    "abstract": "Detached tumour cells resist anoikis by integrin-linked kinase signalling, which keeps AKT active "
    "in suspension and lets circulating tumour cells survive to seed metastases.",
    "year": 2024,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def _wait_for(check, what: str, timeout: float = 90.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_three_readers_pick_up_the_writers_new_version(seeded, real_factory, tmp_path):
    source, ids, _ = seeded
    folder = tmp_path / "indexes"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("servers"))
    env = {**os.environ, "RECOMMENDER_INDEX_DIR": str(folder), "HF_HUB_OFFLINE": "1"}
    executable = Path(sys.executable).with_name("recommender")
    ports = [_free_port() for _ in range(READERS)]
    readers = [
        subprocess.Popen(
            [str(executable), "serve", "--no-catch-up", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        first = {_wait_for(lambda base=base: _get(f"{base}/ready")["version"], f"{base} ready") for base in bases}
        assert len(first) == 1
        index_path = folder / "default"
        announced = {json.loads(path.read_text())["url"] for path in (index_path / remote.SERVERS).glob("*.json")}
        assert announced == set(bases)
        assert remote.find(index_path) in bases

        writer = Recommender(Settings(index_dir=folder, show_progress=False), embedder_factory=real_factory)
        writer.ingest([write(tmp_path / "new.jsonl", jsonl([NEW_PAPER]))])
        new_version = writer.build().build_id
        assert new_version not in first

        anoikis = {ids[name] for name in ANOIKIS}
        for base in bases:
            ready = _wait_for(
                lambda base=base: (answer := _get(f"{base}/ready"))["version"] == new_version and answer,
                f"{base} to serve {new_version}",
            )
            assert ready["papers_indexed"] == 5
            related = _get(f"{base}/papers/new-1/related?k=2")
            assert {hit["id"] for hit in related} == anoikis  # the new paper is found, with its neighbours
        assert [path.name for path in (index_path / "versions").iterdir() if path.name.startswith(".")] == []
    finally:
        for reader in readers:
            reader.terminate()
        for reader in readers:
            reader.wait(timeout=30)
    assert not list((folder / "default" / remote.SERVERS).glob("*.json"))
