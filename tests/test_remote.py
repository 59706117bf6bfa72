"""Command-line queries answered by a running server of the same index (recommender.remote)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from helpers import CORPUS, Live, built_service, fake_factory

from recommender import remote
from recommender.cli import main
from recommender.web import create_app


@pytest.fixture()
def service(index_dir, tmp_path):
    return built_service(index_dir, tmp_path)


@pytest.fixture()
def live(service) -> Iterator[Live]:
    server = Live(create_app(service=service))
    yield server
    server.close()


@pytest.fixture()
def calls(monkeypatch) -> list[str]:
    """Paths the command line asked a server for."""
    asked: list[str] = []
    real = remote.request

    def spy(url: str, path: str, **options: object) -> object:
        asked.append(path)
        return real(url, path, **options)

    monkeypatch.setattr(remote, "request", spy)
    return asked


def cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), obj={"embedder_factory": fake_factory}, catch_exceptions=False)


def hits(result) -> list[dict]:
    """The JSON a command printed (hits, a paper, a theme map), after checking it succeeded."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


PAPER = CORPUS[0]["id"]
QUERIES = [
    ("related", PAPER, "-k", "3"),
    ("related", PAPER, "--year-min", "2015", "--offset", "1"),
    ("search", "cancer-associated fibroblasts IL-6", "-k", "4", "--mode", "lexical"),
    ("search", "anoikis resistance", "--exclude", PAPER, "--sort", "year"),
    ("recommend", "-p", PAPER, "-k", "2"),
]


@pytest.mark.parametrize("query", QUERIES, ids=[" ".join(query[:1] + query[2:]) for query in QUERIES])
def test_a_found_server_answers_as_this_process_would(service, live, calls, query):
    """With a server of the index announced, the query goes to it, and the answer is the local one."""
    local = hits(cli(*query, "--local", "--json"))
    assert calls == []
    remote.announce(service.settings.index_path, f"http://127.0.0.1:{live.port}")
    answered = hits(cli(*query, "--json"))
    assert len(calls) == 1
    assert answered == local and answered


def test_the_named_server_answers_and_its_errors_are_the_users(live, calls):
    url = f"http://127.0.0.1:{live.port}"
    assert hits(cli("related", PAPER, "--server", url, "--json"))
    missing = cli("related", "no-such-paper", "--server", url)
    assert missing.exit_code == 1 and "no paper 'no-such-paper'" in missing.stderr
    assert calls == [f"/papers/{PAPER}/related", "/papers/no-such-paper/related"]


def test_a_named_server_that_does_not_answer_is_an_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("search", "anoikis", "--server", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1 and "no answer from the server" in result.stderr
    wrong = cli("search", "anoikis", "--server", "file:///etc/passwd")
    assert wrong.exit_code == 1 and "http(s) URL" in wrong.stderr


def test_stale_and_foreign_announcements_are_ignored(service, live, calls):
    """A server that died without withdrawing, one on another host, or one that is not ready: answered here."""
    folder = service.settings.index_path / remote.SERVERS
    folder.mkdir(parents=True)
    url = f"http://127.0.0.1:{live.port}"
    dead = {"url": url, "pid": 2**22 + 12345, "host": socket.gethostname(), "started": 0}
    elsewhere = {"url": url, "pid": os.getpid(), "host": "another-machine", "started": 0}
    broken = {"url": "http://127.0.0.1:1", "pid": os.getpid(), "host": socket.gethostname(), "started": 0}
    for name, record in {"dead": dead, "elsewhere": elsewhere, "broken": broken}.items():
        (folder / f"{name}.json").write_text(json.dumps(record))
    (folder / "garbage.json").write_text("{not json")
    assert remote.find(service.settings.index_path) is None
    assert hits(cli("related", PAPER, "--json"))
    assert calls == []


def test_a_found_server_is_not_used_when_the_answer_would_differ(service, live, calls, tmp_path):
    """--model, root ranking options and --export are answered here (the server ranks with its own)."""
    announcement = remote.announce(service.settings.index_path, f"http://127.0.0.1:{live.port}")
    assert hits(cli("--paper-weight", "0.9", "related", PAPER, "--json"))
    export = tmp_path / "list.ris"
    assert cli("related", PAPER, "--export", str(export)).exit_code == 0 and export.exists()
    assert calls == []
    remote.withdraw(announcement)
    assert not announcement.exists()


def test_a_found_server_that_fails_falls_back_to_this_process(service, monkeypatch):
    """The server went away between the readiness probe and the query: a note, then the local answer."""
    monkeypatch.setattr(remote, "find", lambda index_path: "http://127.0.0.1:1")
    result = cli("related", PAPER, "--json")
    assert result.exit_code == 0 and "answering here" in result.stderr
    assert json.loads(result.stdout)


@pytest.mark.parametrize(
    ("host", "url"),
    [("0.0.0.0", "http://127.0.0.1:8000"), ("::", "http://[::1]:8000"), ("10.1.2.3", "http://10.1.2.3:8000")],
)
def test_announced_urls_reach_the_server_from_this_machine(host, url):
    assert remote.local_url(host, 8000) == url


def test_a_doi_reaches_the_server_whole(index_dir, tmp_path, calls):
    """A DOI holds slashes and brackets: it travels as one quoted path segment and names the same paper."""
    doi = "10.1000/j.cell(2019)07.001"
    papers = [{**CORPUS[0], "doi": doi}, *CORPUS[1:]]
    service = built_service(index_dir, tmp_path, papers=papers)
    server = Live(create_app(service=service))
    try:
        url = f"http://127.0.0.1:{server.port}"
        assert hits(cli("related", doi, "--server", url, "--json")) == hits(cli("related", doi, "--local", "--json"))
        assert calls == ["/papers/10.1000%2Fj.cell%282019%2907.001/related"]
    finally:
        server.close()


def test_show_and_themes_through_a_found_server(service, live, calls):
    local_paper = hits(cli("show", PAPER, "--local", "--json"))
    local_themes = hits(cli("themes", "--local", "--json"))
    text = cli("themes", "--local").stdout
    remote.announce(service.settings.index_path, f"http://127.0.0.1:{live.port}")
    assert hits(cli("show", PAPER, "--json")) == local_paper
    assert hits(cli("themes", "--json")) == local_themes
    assert cli("themes").stdout == text  # the same report printed from the server's map
    assert calls == [f"/papers/{PAPER}", "/themes", "/themes"]
    assert cli("themes", "--refit", "--json").exit_code == 0 and len(calls) == 3  # a refit runs here
    refused = cli("themes", "--refit", "--server", f"http://127.0.0.1:{live.port}")
    assert refused.exit_code == 2 and "drop --server" in refused.stderr


@pytest.mark.parametrize(
    "answer",
    [
        [{"id": "x"}],  # fields missing
        [
            {
                "id": "x",
                "title": "t",
                "score": "high",
                "dense": 0.1,
                "lexical": 0.2,
                "shared_terms": [],
                "journal": None,
                "year": None,
                "doi": None,
                "pmid": None,
            }
        ],  # a score that is no number
        [
            {
                "id": 1,
                "title": "t",
                "score": 1.0,
                "dense": 0.1,
                "lexical": 0.2,
                "shared_terms": [3],
                "journal": None,
                "year": "2020",
                "doi": None,
                "pmid": None,
            }
        ],
    ],
)
def test_a_server_answering_malformed_hits_is_not_trusted(service, monkeypatch, answer):
    """Whatever wrote an announcement in the index folder may answer anything: a malformed hit is a note and a
    local answer, never a traceback."""
    monkeypatch.setattr(remote, "find", lambda index_path: "http://127.0.0.1:9")
    monkeypatch.setattr(remote, "request", lambda url, path, **request: answer)
    result = cli("related", PAPER, "--json")
    assert result.exit_code == 0 and "answered something unreadable" in result.stderr
    assert json.loads(result.stdout)[0]["id"] != "x"


def test_every_hit_field_type_is_checked():
    from dataclasses import fields

    from recommender.hit import _CHECKS, Hit

    assert {str(item.type) for item in fields(Hit)} <= set(_CHECKS)


@pytest.mark.parametrize(
    "answer",
    [
        {"k": 1, "papers": 2, "themes": [{"id": "one", "label": 3}]},
        {"k": "two", "papers": 2, "themes": []},
        {"unexpected": True},
    ],
)
def test_a_server_answering_a_malformed_theme_listing_is_not_trusted(service, monkeypatch, answer):
    monkeypatch.setattr(remote, "find", lambda index_path: "http://127.0.0.1:9")
    monkeypatch.setattr(remote, "request", lambda url, path, **request: answer)
    result = cli("themes", "--k", "2")
    assert result.exit_code == 0, result.output
    assert "answered something unreadable" in result.stderr
    assert "themes over" in result.stdout  # the local listing
