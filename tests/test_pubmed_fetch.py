"""Tests for the E-utilities client against a scripted local HTTP server (never the real NCBI).

The fixture starts a ``ThreadingHTTPServer`` on 127.0.0.1 with an ephemeral port. By default it behaves like
a tiny PubMed: esearch reports ``total`` hits and efetch serves synthetic ``<PubmedArticleSet>`` documents
for the requested ``retstart``/``retmax`` window. Tests replace single endpoints with queued replies to
script failures, and read back every request (path, query parameters, arrival time).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from recommender import fileio, pubmed_fetch
from recommender.errors import InvalidInputError, RemoteServiceError
from recommender.pubmed_fetch import FetchResult, RateLimiter, fetch_pubmed, rate_limiter_for

WEBENV = "MCID_test_webenv"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    endpoint: str
    params: dict[str, str]
    at: float


def article_set(first_pmid: int, n: int) -> bytes:
    """A small but realistic efetch answer: n PubmedArticle records with PMID, title and abstract."""
    articles = "".join(
        f"<PubmedArticle><MedlineCitation Status='MEDLINE' Owner='NLM'><PMID Version='1'>{pmid}</PMID>"
        f"<Article><ArticleTitle>Synthetic study number {pmid}</ArticleTitle>"
        f"<Abstract><AbstractText>Abstract text of synthetic paper {pmid}.</AbstractText></Abstract>"
        f"</Article></MedlineCitation></PubmedArticle>"
        for pmid in range(first_pmid, first_pmid + n)
    )
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN"'
        ' "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
        f"<PubmedArticleSet>{articles}</PubmedArticleSet>\n"
    ).encode()


def esearch_json(count: int, *, webenv: str = WEBENV) -> bytes:
    result = {"count": str(count), "retmax": "0", "retstart": "0", "querykey": "1", "webenv": webenv, "idlist": []}
    return json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}).encode()


class FakeEutils:
    """Scriptable behaviour shared with the handler threads, plus the log of every request."""

    def __init__(self) -> None:
        self.total = 0
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.queues: dict[str, list[Reply]] = {}

    def queue(self, endpoint: str, *replies: Reply) -> None:
        """Answer the next requests to ``endpoint`` with these replies, then fall back to the default."""
        self.queues.setdefault(endpoint, []).extend(replies)

    def requests(self, endpoint: str) -> list[Seen]:
        with self.lock:
            return [seen for seen in self.seen if seen.endpoint == endpoint]

    def answer(self, endpoint: str, params: dict[str, str], at: float) -> Reply:
        with self.lock:
            self.seen.append(Seen(endpoint, params, at))
            queued = self.queues.get(endpoint)
            if queued:
                return queued.pop(0)
        if endpoint == "esearch.fcgi":
            return Reply(body=esearch_json(self.total))
        if endpoint == "efetch.fcgi":
            start, size = int(params["retstart"]), int(params["retmax"])
            n = max(0, min(size, self.total - start))
            return Reply(body=article_set(1000 + start, n))
        return Reply(status=404, body=b"unknown endpoint")


class _Server(ThreadingHTTPServer):
    """Notes when each connection is accepted, before a handler thread is spawned.

    The handler speaks HTTP/1.0, so every request has its own connection and the accept time is the
    request's arrival time without the jitter of thread start-up (which matters on a loaded machine).
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = FakeEutils()
        self.accepted: dict[Any, float] = {}

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.accepted[client_address] = time.monotonic()
        return True


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        at = self.server.accepted.pop(self.client_address, time.monotonic())
        reply = self.server.fake.answer(url.path.rsplit("/", 1)[-1], params, at)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass


@dataclass
class Server:
    fake: FakeEutils
    base_url: str


@pytest.fixture()
def server() -> Iterator[Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(httpd.fake, f"http://127.0.0.1:{httpd.server_address[1]}/")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture()
def fetch(server: Server, tmp_path: Path) -> Callable[..., FetchResult]:
    """fetch_pubmed against the local server, fast: high rate, no backoff, few retries."""

    def run(query: str = "asthma[mh]", **kwargs: Any) -> FetchResult:
        out_dir = kwargs.pop("out_dir", tmp_path / "out")
        options: dict[str, Any] = {
            "base_url": server.base_url,
            "requests_per_second": 500.0,
            "backoff_factor": 0.0,
            "max_retries": 3,
            "timeout": 5.0,
        }
        options.update(kwargs)
        return fetch_pubmed(query, out_dir, **options)

    return run


def pmids(path: Path) -> list[str]:
    root = etree.parse(str(path)).getroot()
    assert root.tag == "PubmedArticleSet"
    return [article.findtext("MedlineCitation/PMID") for article in root.findall("PubmedArticle")]


# --- paging and files -------------------------------------------------------------------------------------


def test_pages_in_batches_and_stops_at_max_results(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 23
    result = fetch("asthma[mh] AND 2020[dp]", batch_size=5, max_results=12)

    assert (result.query, result.count, result.fetched) == ("asthma[mh] AND 2020[dp]", 23, 12)
    (search,) = server.fake.requests("esearch.fcgi")
    assert search.params["term"] == "asthma[mh] AND 2020[dp]"
    assert {k: search.params[k] for k in ("db", "usehistory", "retmode")} == {
        "db": "pubmed",
        "usehistory": "y",
        "retmode": "json",
    }
    fetches = server.fake.requests("efetch.fcgi")
    assert [(s.params["retstart"], s.params["retmax"]) for s in fetches] == [("0", "5"), ("5", "5"), ("10", "2")]
    for seen in fetches:
        assert seen.params["WebEnv"] == WEBENV
        assert seen.params["query_key"] == "1"
        assert (seen.params["db"], seen.params["rettype"], seen.params["retmode"]) == ("pubmed", "abstract", "xml")
    assert [path.name for path in result.files] == ["pubmed-0001.xml", "pubmed-0002.xml", "pubmed-0003.xml"]


def test_fetches_all_hits_when_fewer_than_max_results(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 7
    result = fetch(batch_size=3, max_results=1000)

    assert (result.count, result.fetched, len(result.files)) == (7, 7, 3)
    fetches = server.fake.requests("efetch.fcgi")
    assert [(s.params["retstart"], s.params["retmax"]) for s in fetches] == [("0", "3"), ("3", "3"), ("6", "1")]


def test_files_are_complete_xml_documents_with_the_right_records(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path
) -> None:
    server.fake.total = 9
    out_dir = tmp_path / "nested" / "missing" / "folder"
    result = fetch(batch_size=4, out_dir=out_dir)

    assert out_dir.is_dir()
    assert all(path.parent == out_dir for path in result.files)
    assert [pmids(path) for path in result.files] == [
        ["1000", "1001", "1002", "1003"],
        ["1004", "1005", "1006", "1007"],
        ["1008"],
    ]
    first = etree.parse(str(result.files[0])).getroot()
    assert first.findtext("PubmedArticle/MedlineCitation/Article/ArticleTitle") == "Synthetic study number 1000"
    assert first.findtext(".//AbstractText") == "Abstract text of synthetic paper 1000."
    assert sorted(p.name for p in out_dir.iterdir()) == [p.name for p in result.files]  # no temp files left
    umask = os.umask(0)
    os.umask(umask)
    assert {path.stat().st_mode & 0o777 for path in result.files} == {0o666 & ~umask}  # ordinary file permissions


def test_zero_hits_writes_no_files(server: Server, fetch: Callable[..., FetchResult], tmp_path: Path) -> None:
    server.fake.total = 0
    result = fetch()

    assert result == FetchResult(query="asthma[mh]", count=0, fetched=0, files=[])
    assert server.fake.requests("efetch.fcgi") == []
    assert list((tmp_path / "out").glob("*")) == []


def test_interrupted_write_leaves_no_partial_file(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.fake.total = 2

    def crash(src: object, dst: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError, match="disk went away"):
        fetch()
    assert not (tmp_path / "out").exists()  # nothing written: the folder made for it is gone too


# --- identification ---------------------------------------------------------------------------------------


def test_tool_email_and_api_key_go_with_every_request(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 5
    fetch(batch_size=2, tool="my-tool", email="me@example.org", api_key="secret-key")

    assert len(server.fake.seen) == 4  # 1 esearch + 3 efetch
    for seen in server.fake.seen:
        assert (seen.params["tool"], seen.params["email"], seen.params["api_key"]) == (
            "my-tool",
            "me@example.org",
            "secret-key",
        )


def test_email_and_api_key_are_omitted_when_not_given(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 1
    fetch()

    for seen in server.fake.seen:
        assert seen.params["tool"] == "recommender"
        assert "email" not in seen.params
        assert "api_key" not in seen.params


# --- retries and errors -----------------------------------------------------------------------------------


def test_retries_after_429_with_retry_after(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 3
    server.fake.queue("esearch.fcgi", Reply(429, b'{"error":"API rate limit exceeded"}', {"Retry-After": "0"}))
    result = fetch()

    assert result.fetched == 3
    assert len(server.fake.requests("esearch.fcgi")) == 2


def test_retries_after_500s_then_succeeds(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 4
    server.fake.queue("efetch.fcgi", Reply(500, b"oops"), Reply(502, b"bad gateway"))
    result = fetch(batch_size=4)

    assert result.fetched == 4
    fetches = server.fake.requests("efetch.fcgi")
    assert len(fetches) == 3
    assert {s.params["retstart"] for s in fetches} == {"0"}  # the same batch, retried
    assert pmids(result.files[0]) == ["1000", "1001", "1002", "1003"]


def test_persistent_500_raises_remote_service_error(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path
) -> None:
    server.fake.total = 3
    server.fake.queue("efetch.fcgi", *[Reply(500, b"Internal error")] * 10)

    with pytest.raises(RemoteServiceError, match=r"efetch.*kept failing: HTTP 500 after 2 retries") as caught:
        fetch(max_retries=2)
    assert "try again later" in caught.value.message
    assert len(server.fake.requests("efetch.fcgi")) == 3  # first attempt + 2 retries
    assert not (tmp_path / "out").exists()  # nothing written: the folder made for it is gone too


def test_error_messages_never_show_the_api_key(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.queue("esearch.fcgi", *[Reply(400, b'{"error":"bad key","api-key":"top-secret"}')] * 2)

    with pytest.raises(RemoteServiceError, match="HTTP 400") as caught:
        fetch(api_key="top-secret")
    assert "top-secret" not in str(caught.value)


def test_unreachable_server_raises_remote_service_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(RemoteServiceError, match="Could not get an answer from NCBI E-utilities"):
        fetch_pubmed(
            "asthma",
            tmp_path,
            base_url=f"http://127.0.0.1:{port}/",
            max_retries=1,
            backoff_factor=0.0,
            requests_per_second=500.0,
            timeout=2.0,
        )


def test_esearch_error_raises_remote_service_error(server: Server, fetch: Callable[..., FetchResult]) -> None:
    body = json.dumps({"header": {}, "esearchresult": {"ERROR": "Invalid query syntax"}}).encode()
    server.fake.queue("esearch.fcgi", Reply(body=body))

    with pytest.raises(RemoteServiceError, match="rejected the query: Invalid query syntax"):
        fetch()
    assert server.fake.requests("efetch.fcgi") == []


@pytest.mark.parametrize(
    "body",
    [b"<html>Service unavailable</html>", b"", b"[1, 2]", b'{"header": {}}', b'{"esearchresult": {"count": "x"}}'],
)
def test_garbled_esearch_raises_remote_service_error(
    server: Server, fetch: Callable[..., FetchResult], body: bytes
) -> None:
    server.fake.queue("esearch.fcgi", Reply(body=body))

    with pytest.raises(RemoteServiceError, match="NCBI esearch"):
        fetch()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>", "Unable to obtain query #1"),
        (b"<PubmedArticleSet><PubmedArticle>", "malformed XML"),
    ],
)
def test_bad_efetch_answer_raises_remote_service_error(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path, body: bytes, message: str
) -> None:
    server.fake.total = 2
    server.fake.queue("efetch.fcgi", Reply(body=body))

    with pytest.raises(RemoteServiceError, match=message):
        fetch()
    assert not (tmp_path / "out").exists()  # nothing written: the folder made for it is gone too


@pytest.mark.parametrize(
    ("query", "kwargs", "message"),
    [
        ("", {}, "query is empty"),
        ("   ", {}, "query is empty"),
        ("asthma", {"max_results": 0}, "max_results"),
        ("asthma", {"batch_size": 0}, "batch_size"),
        ("asthma", {"batch_size": 10_001}, "batch_size"),
        ("asthma", {"requests_per_second": 0}, "requests_per_second"),
        ("asthma", {"base_url": "ftp://example.org/"}, "base_url"),
    ],
)
def test_bad_arguments_raise_invalid_input(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path, query: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        fetch(query, **kwargs)
    assert server.fake.seen == []  # rejected before any request
    assert not (tmp_path / "out").exists()  # and before touching the disk


def test_output_folder_that_is_a_file_is_invalid_input(
    server: Server, fetch: Callable[..., FetchResult], tmp_path: Path
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")

    with pytest.raises(InvalidInputError, match="Cannot create the output folder"):
        fetch(out_dir=blocker / "out")
    assert server.fake.seen == []


def test_progress_bar_goes_to_stderr(
    server: Server, fetch: Callable[..., FetchResult], capsys: pytest.CaptureFixture[str]
) -> None:
    server.fake.total = 3
    fetch(progress=True)

    captured = capsys.readouterr()
    assert "PubMed" in captured.err
    assert captured.out == ""


# --- rate limiting ----------------------------------------------------------------------------------------


def _gaps(seen: list[Seen]) -> list[float]:
    times = sorted(s.at for s in seen)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_requests_are_spaced_by_the_rate_limit(server: Server, fetch: Callable[..., FetchResult]) -> None:
    server.fake.total = 8
    server.fake.queue("efetch.fcgi", Reply(503, b"busy", {"Retry-After": "0"}))  # retries are limited too
    fetch(batch_size=2, requests_per_second=5.0)

    assert len(server.fake.seen) == 6  # esearch + 1 retry + 4 batches
    # 0.2 s apart when sent; arrival times at the server may jitter by tens of ms on a loaded machine.
    assert min(_gaps(server.fake.seen)) >= 0.15


class FakeClock:
    """A clock that only moves when the limiter sleeps (or the test says so)."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_limiter_waits_out_the_rest_of_the_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)
    limiter.wait()  # first call never waits
    limiter.wait()  # immediately after: the whole interval
    clock.now += 0.1
    limiter.wait()  # 0.1 s already passed: the rest
    clock.now += 5.0
    limiter.wait()  # after a long pause: no wait, and no burst credit either
    limiter.wait()

    assert clock.sleeps == pytest.approx([0.25, 0.15, 0.25])
    assert limiter.interval == pytest.approx(0.25)


def test_limiter_measures_from_the_actual_release() -> None:
    """A caller that overslept (loaded machine) must not let the next caller through early."""
    clock = FakeClock()
    asked: list[float] = []

    def oversleep(seconds: float) -> None:
        asked.append(seconds)
        clock.sleep(seconds + 0.2)

    limiter = RateLimiter(4.0, clock=clock, sleep=oversleep)
    limiter.wait()
    limiter.wait()  # released 0.45 s after the first
    limiter.wait()  # still waits a full interval after that release

    assert asked == pytest.approx([0.25, 0.25])


def test_limiter_is_thread_safe() -> None:
    """Concurrent callers queue: never two waiting at once, each waits one full interval after the last."""
    clock = FakeClock(start=0.0)
    guard = threading.Lock()
    waiting = [0, 0]  # now, most at once

    def sleep(seconds: float) -> None:
        with guard:
            waiting[0] += 1
            waiting[1] = max(waiting)
            clock.sleep(seconds)
        time.sleep(0.001)  # let other threads run while this one "sleeps"
        with guard:
            waiting[0] -= 1

    limiter = RateLimiter(10.0, clock=clock, sleep=sleep)
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        for _ in range(10):
            limiter.wait()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert waiting[1] == 1
    assert clock.sleeps == pytest.approx([0.1] * 39)  # 40 calls, the first is free
    assert clock.now == pytest.approx(3.9)


def test_limiter_spaces_real_calls() -> None:
    limiter = RateLimiter(50.0)
    times = []
    for _ in range(4):
        limiter.wait()
        times.append(time.monotonic())

    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.019


@pytest.mark.parametrize("rate", [0, -1.0])
def test_limiter_rejects_non_positive_rates(rate: float) -> None:
    with pytest.raises(InvalidInputError):
        RateLimiter(rate)


def test_default_rate_depends_on_api_key() -> None:
    assert rate_limiter_for(None).interval == pytest.approx(1 / 3)
    assert rate_limiter_for("key").interval == pytest.approx(1 / 10)
    assert rate_limiter_for("key", 20.0).interval == pytest.approx(1 / 20)
    assert rate_limiter_for(None, 20.0).interval == pytest.approx(1 / 20)


@pytest.mark.parametrize(("api_key", "expected"), [(None, 3.0), ("key", 10.0)])
def test_fetch_uses_the_default_rate(
    server: Server,
    fetch: Callable[..., FetchResult],
    monkeypatch: pytest.MonkeyPatch,
    api_key: str | None,
    expected: float,
) -> None:
    made: list[RateLimiter] = []

    class SpyLimiter(RateLimiter):
        def __init__(self, requests_per_second: float, **kwargs: Any) -> None:
            super().__init__(requests_per_second, **kwargs)
            made.append(self)

    monkeypatch.setattr(pubmed_fetch, "RateLimiter", SpyLimiter)
    server.fake.total = 0  # a single request: the first slot never waits
    fetch(requests_per_second=None, api_key=api_key)

    assert [limiter.requests_per_second for limiter in made] == [expected]
    assert made[0].interval == pytest.approx(1 / expected)


def test_cli_fetches_and_ingests(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`recommender fetch-pubmed` downloads into --out and ingests the records into the index."""
    from click.testing import CliRunner

    from recommender.cli import main

    monkeypatch.setenv("RECOMMENDER_INDEX_DIR", str(tmp_path / "indexes"))
    server.fake.total = 5
    out = tmp_path / "download"
    args = ["fetch-pubmed", "anoikis", "--max", "4", "--out", str(out), "--base-url", server.base_url, "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["count"], summary["fetched"]) == (5, 4)
    assert summary["ingest"]["read"] == 4 and summary["ingest"]["rejected"] == []
    assert sorted(path.name for path in out.iterdir()) == ["pubmed-0001.xml"]


# --- collections: pasted PMIDs fetched when missing --------------------------------------------------------


def test_collection_add_fetches_missing_pmids_then_adds_them(
    server: Server, index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner
    from helpers import fake_factory

    from recommender.cli import main

    server.fake.total = 2  # the fake answers every search with PMIDs 1000 and 1001
    monkeypatch.chdir(tmp_path)  # the records are downloaded under ./pubmed/
    result = CliRunner().invoke(
        main,
        ["collection", "add", "to read", "1000", "1001", "--fetch", "--base-url", server.base_url, "--json"],
        obj={"embedder_factory": fake_factory},
    )
    assert result.exit_code == 0, result.output
    change = json.loads(result.stdout)
    assert change["changed"] == ["pmid:1000", "pmid:1001"] and change["not_found"] == []
    assert "Fetched 2 of 2 PMIDs" in result.stderr
    assert "1000[pmid] OR 1001[pmid]" in server.fake.requests("esearch.fcgi")[0].params["term"]
    assert (tmp_path / "pubmed" / "collection-to-read").is_dir()


def test_a_host_that_does_not_resolve_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network or no DNS: one clear error after one lookup, not half a minute of retries with backoff."""
    lookups: list[object] = []

    def no_dns(*args: object, **kwargs: object) -> object:
        lookups.append(args[0])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(RemoteServiceError, match="does not resolve"):
        fetch_pubmed("asthma", tmp_path, base_url="http://eutils.example/", max_retries=5, backoff_factor=2.0)
    assert lookups == ["eutils.example"]  # no retry


def test_a_failed_fetch_leaves_no_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a README check: `fetch-pubmed` without DNS left an empty ./pubmed/<query>/ behind."""
    from click.testing import CliRunner

    from recommender.cli import main

    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setenv("RECOMMENDER_INDEX_DIR", str(tmp_path / "indexes"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["fetch-pubmed", "anoikis resistance", "--base-url", "http://eutils.example/"])
    assert result.exit_code == 1 and "does not resolve" in result.stderr
    assert not (tmp_path / "pubmed").exists()
    kept = tmp_path / "kept"
    (kept / "old").mkdir(parents=True)
    with pytest.raises(RemoteServiceError):
        fetch_pubmed("asthma", kept / "old" / "new" / "newer", base_url="http://eutils.example/")
    assert [path.name for path in kept.iterdir()] == ["old"] and list((kept / "old").iterdir()) == []
