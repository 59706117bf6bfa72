"""The HTTP server layer against hostile clients: slow sockets, smuggling-shaped framing, huge bodies, foreign
Host headers (DNS rebinding) and made-up methods that would grow the metrics without bound."""

from __future__ import annotations

import json
import random
import select
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import waitress.buffers
from click.testing import CliRunner
from helpers import Live, built_service, fake_factory

import recommender.web.server as server_module
from recommender.cli import main
from recommender.settings import Settings
from recommender.web import create_app
from recommender.web.guard import allowed_hosts, framing_problem, host_allowed
from recommender.web.server import ServerLimits


@pytest.fixture()
def app(index_dir: Path, tmp_path: Path):
    return create_app(service=built_service(index_dir, tmp_path))


@pytest.fixture()
def live(app) -> Iterator[Live]:
    server = Live(app)
    yield server
    server.close()


def exchange(live: Live, raw: bytes, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send ``raw`` (in pieces, stopping once the server answers: it may refuse before the end); everything
    the server answers until it closes (True) or ``timeout`` passes (False)."""
    with live.connect(timeout) as sock:
        for start in range(0, len(raw), 16384):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(raw[start : start + 16384])
            except OSError:
                break
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk
        return received, False


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# ------------------------------------------------------------------------------------------ metrics labels
def test_metrics_stay_bounded_after_requests_with_random_methods_and_paths(app):
    client = app.test_client()
    rng = random.Random(7)
    for _ in range(20):
        client.get("/health")
        client.get("/papers/a1/related")
    before = len(client.get("/metrics").data)
    for _ in range(500):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = "/" + "".join(rng.choices(string.ascii_lowercase + "/", k=rng.randint(1, 30)))
        client.open(path, method=method)
        client.open(path, method="GET")
        client.open("/papers/" + path.strip("/") + "/related", method="GET")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert len(metrics) - before < 20_000, len(metrics) - before
    methods = {line.split('method="')[1].split('"')[0] for line in metrics.splitlines() if 'method="' in line}
    assert methods <= {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "other"}
    assert "other" in methods
    routes = {line.split('route="')[1].split('"')[0] for line in metrics.splitlines() if 'route="' in line}
    assert routes <= {rule.rule for rule in app.url_map.iter_rules()} | {"unmatched"}


# ------------------------------------------------------------------------------------------ Host header
def test_a_foreign_host_gets_a_json_400_naming_the_setting(app):
    client = app.test_client()
    for host in ("evil.example", "evil.example:8000", "localhost:80@evil.example", "localhost.evil.example"):
        response = client.get("/papers/a1/related", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["code"] == "bad_host" and "RECOMMENDER_ALLOWED_HOSTS" in error["message"]
    assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400  # probes too


def test_loopback_hosts_are_allowed_by_default_on_any_port(app):
    client = app.test_client()
    assert client.get("/health").status_code == 200  # the test client's "localhost"
    for host in ("localhost:8000", "127.0.0.1", "127.0.0.1:5000", "[::1]:8000", "LOCALHOST", "localhost."):
        assert client.get("/papers/a1/related", headers={"Host": host}).status_code == 200, host


def test_an_allowed_host_setting_works(index_dir, tmp_path):
    app = create_app(service=built_service(index_dir, tmp_path, allowed_hosts=("papers.lab.org", ".lab.net")))
    client = app.test_client()
    for host in ("papers.lab.org:8000", "lab.net", "x.lab.net", "localhost"):
        assert client.get("/papers/a1/related", headers={"Host": host}).status_code == 200, host
    for host in ("other.lab.org", "evil.example", "xlab.net"):
        assert client.get("/papers/a1/related", headers={"Host": host}).status_code == 400, host
    open_app = create_app(service=built_service(index_dir / "any", tmp_path / "any", allowed_hosts=("*",)))
    assert open_app.test_client().get("/health", headers={"Host": "anything.example"}).status_code == 200


def test_allowed_hosts_come_from_the_environment():
    settings = Settings.from_env({"RECOMMENDER_ALLOWED_HOSTS": " a.org, [::2] ,,b.org:80"})
    assert settings.allowed_hosts == ("a.org", "[::2]", "b.org:80")
    allowed = allowed_hosts(settings.allowed_hosts)
    assert allowed is not None and {"a.org", "::2", "b.org", "localhost", "127.0.0.1", "::1"} <= allowed
    assert host_allowed("[::2]:8000", allowed) and not host_allowed("c.org", allowed)
    assert allowed_hosts(["*"]) is None


def test_serve_allows_its_bound_host_and_the_allowed_host_option(index_dir, tmp_path, monkeypatch):
    built_service(index_dir, tmp_path)
    seen = {}

    def fake_run(app, **options):
        seen["app"], seen["options"] = app, options

    monkeypatch.setattr(server_module, "run_server", fake_run)
    monkeypatch.setattr("recommender.web.observability.configure_logging", lambda *args, **kwargs: None)
    result = CliRunner().invoke(
        main,
        ["serve", "--host", "10.1.2.3", "--allowed-host", "papers.lab.org", "--no-catch-up", "--header-timeout", "5"],
        obj={"embedder_factory": fake_factory},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    client = seen["app"].test_client()
    for host in ("10.1.2.3:8000", "papers.lab.org", "localhost"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400
    settings = seen["app"].extensions["recommender"].settings
    assert settings.header_timeout == 5 and ServerLimits.from_settings(settings).header_timeout == 5


# ------------------------------------------------------------------------------------------ framing
def test_framing_rules():
    assert framing_problem(b"GET / HTTP/1.1\r\nHost: x") is None
    assert framing_problem(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked") is None
    assert "both" in framing_problem(b"POST / HTTP/1.1\r\ncontent-length: 3\r\nTRANSFER-ENCODING: chunked")
    assert "obs-fold" in framing_problem(b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked")
    assert "HTTP/1.0" in framing_problem(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked")


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(live):
    smuggled = b"GET /papers/a1/related HTTP/1.1\r\nHost: localhost\r\n\r\n"
    raw = (
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s" % (5 + len(smuggled), smuggled)
    )
    answer, closed = exchange(live, raw)
    status, headers, body = parse(answer)
    assert status == 400 and closed
    assert headers["connection"] == "close" and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "invalid_input"
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.count(b"HTTP/1.") == 1  # the request hidden behind it was never answered


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nX-Note: a\r\n\tb\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /search HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=["obs-fold-te", "obs-fold-other", "te-in-http1.0"],
)
def test_other_ambiguous_framing_is_refused_and_closed(live, raw):
    answer, closed = exchange(live, raw)
    assert parse(answer)[0] == 400 and closed


def test_a_plain_chunked_request_still_works_and_keeps_the_connection(live):
    body = b'{"text": "anoikis resistance", "k": 2}'
    raw = (
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    answer, closed = exchange(live, raw, timeout=2.0)
    status, headers, _ = parse(answer)
    assert status == 200 and not closed and headers.get("connection") != "close"


# ------------------------------------------------------------------------------------------ body size
def test_a_body_over_the_server_cap_is_refused_before_it_is_read(live, monkeypatch):
    spooled = []
    original = waitress.buffers.TempfileBasedBuffer.newfile
    monkeypatch.setattr(
        waitress.buffers.TempfileBasedBuffer, "newfile", lambda self: spooled.append(1) or original(self)
    )
    started = time.monotonic()
    raw = (
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n" + b"x" * 4096
    )
    answer, closed = exchange(live, raw)
    status, headers, body = parse(answer)
    assert status == 413 and closed and time.monotonic() - started < 3
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "request_entity_too_large"
    assert not spooled  # nothing of it went to a temporary file


def test_a_chunked_body_is_cut_off_at_the_cap(app):
    live = Live(app, ServerLimits(max_body_bytes=100_000))
    try:
        chunk = b"x" * 50_000
        raw = b"POST /search HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        raw += (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 3 + b"0\r\n\r\n"
        answer, closed = exchange(live, raw)
        assert parse(answer)[0] == 413 and closed
    finally:
        live.close()


def test_the_server_cap_is_the_largest_upload_plus_overhead():
    limits = ServerLimits.from_settings(Settings(max_upload_bytes=2 * 1024 * 1024))
    assert 2 * 1024 * 1024 < limits.max_body_bytes <= 2 * 1024 * 1024 + 128 * 1024
    adjustments = limits.adjustments()
    assert adjustments["max_request_body_size"] == limits.max_body_bytes
    assert adjustments["connection_limit"] == 1000 and adjustments["channel_timeout"] == 30


# ------------------------------------------------------------------------------------------ slow clients
def test_150_slow_sockets_do_not_stop_the_service(live):
    sockets = []
    try:
        for _ in range(150):  # more than waitress's default connection limit (100)
            sock = live.connect()
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            sockets.append(sock)
        for round_ in range(3):
            for sock in sockets:
                sock.sendall(b"X-Slow-%d: a\r\n" % round_)
            for path in ("/health", "/papers/a1/related"):
                started = time.monotonic()
                status, _ = live.get(path, timeout=1.0)
                assert status == 200 and time.monotonic() - started < 1.0
            time.sleep(0.5)
    finally:
        for sock in sockets:
            sock.close()


def test_a_header_trickled_past_the_header_timeout_gets_408_and_is_closed(app):
    live = Live(app, ServerLimits(header_timeout=1.0))
    try:
        with live.connect() as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            answer = b""
            for i in range(10):
                time.sleep(0.4)
                if select.select([sock], [], [], 0)[0]:
                    break  # answered: sending more into a closed connection would reset it
                sock.sendall(b"X-Slow-%d: a\r\n" % i)
            sock.settimeout(3)
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except ConnectionResetError:
                pass
        status, headers, body = parse(answer)
        assert status == 408 and headers["connection"] == "close"
        assert json.loads(body)["error"]["code"] == "request_timeout"
        assert live.get("/health")[0] == 200
    finally:
        live.close()


def test_an_oversize_body_is_not_invited_with_100_continue(live):
    raw = (
        b"POST /papers/upload HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n"
    )
    answer, closed = exchange(live, raw)
    assert answer.startswith(b"HTTP/1.1 413") and closed  # not "100 Continue" and a read up to the cap


def test_a_body_trickled_past_the_body_timeout_gets_408(app):
    live = Live(app, ServerLimits(body_timeout=1.0))
    try:
        with live.connect() as sock:
            sock.sendall(b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{")
            for _ in range(10):
                time.sleep(0.4)
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(b" ")
            sock.settimeout(3)
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer
    finally:
        live.close()
