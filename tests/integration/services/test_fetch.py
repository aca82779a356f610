"""The URL fetcher refuses to reach our own network, for real.

The forbidden target is always a live server on 127.0.0.1: a test passes
only if that server never sees a request. Positive cases use 127.0.0.2,
which the policy explicitly allows (as an operator could allow an intranet).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pastefile.errors import FetchFailed, FetchRefused, TooLarge
from pastefile.services.fetch import POOLS_AT_MOST, Fetcher, FetchPolicy
from pastefile.storage.local import LocalStorage
from tests.support.fetch import ALLOWED, Sink, fetcher


class Recorder(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/endless":
            self._endless()
            return
        if self.path == "/hang":
            time.sleep(3)
        status, headers, body = self.server.routes.get(  # type: ignore[attr-defined]
            self.path, (200, {}, b"hello from " + self.server.server_address[0].encode())
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(10_000):
                self.wfile.write(b"x" * 65536)
        except OSError:
            return

    def log_message(self, *args: object) -> None:
        return


def _serve(host: str, port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Recorder)
    server.seen = []  # type: ignore[attr-defined]
    server.routes = {}  # type: ignore[attr-defined]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def server_pair() -> Iterator[tuple[ThreadingHTTPServer, ThreadingHTTPServer]]:
    """A forbidden server on 127.0.0.1 and an allowed one on 127.0.0.2, same port,
    so only the address tells them apart. The port is free on 127.0.0.1 but may be
    taken on 127.0.0.2 by another process, hence a few tries."""
    for _ in range(10):
        forbidden = _serve("127.0.0.1")
        try:
            allowed = _serve("127.0.0.2", forbidden.server_address[1])
        except OSError:
            forbidden.shutdown()
            forbidden.server_close()
            continue
        yield forbidden, allowed
        for server in (forbidden, allowed):
            server.shutdown()
            server.server_close()
        return
    raise RuntimeError("no port was free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def forbidden(server_pair) -> ThreadingHTTPServer:
    return server_pair[0]


@pytest.fixture
def allowed(server_pair) -> ThreadingHTTPServer:
    return server_pair[1]


def test_loopback_target_is_refused_before_any_request(forbidden):
    port = forbidden.server_address[1]
    for url in (
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
    ):
        with pytest.raises(FetchRefused):
            Fetcher().fetch(url, Sink())
    assert forbidden.seen == []


def test_allowed_network_is_fetched(allowed, forbidden):
    sink = Sink()
    result = fetcher().fetch(f"http://127.0.0.2:{allowed.server_address[1]}/a/photo.txt", sink)
    assert bytes(sink.data) == b"hello from 127.0.0.2"
    assert result.filename == "photo.txt"
    assert allowed.seen == ["/a/photo.txt"]
    assert forbidden.seen == []


def test_redirect_to_a_forbidden_address_is_checked_again(allowed, forbidden):
    port = forbidden.server_address[1]
    allowed.routes["/go"] = (302, {"Location": f"http://127.0.0.1:{port}/secret"}, b"")
    with pytest.raises(FetchRefused):
        fetcher().fetch(f"http://127.0.0.2:{port}/go", Sink())
    assert allowed.seen == ["/go"]
    assert forbidden.seen == []


def test_redirect_to_another_scheme_is_refused(allowed):
    allowed.routes["/go"] = (301, {"Location": "file:///etc/passwd"}, b"")
    with pytest.raises(FetchRefused):
        fetcher().fetch(f"http://127.0.0.2:{allowed.server_address[1]}/go", Sink())


def test_too_many_redirects_fail(allowed):
    port = allowed.server_address[1]
    allowed.routes["/loop"] = (302, {"Location": f"http://127.0.0.2:{port}/loop"}, b"")
    with pytest.raises(FetchFailed):
        fetcher(max_redirects=3).fetch(f"http://127.0.0.2:{port}/loop", Sink())
    assert allowed.seen == ["/loop"] * 4


def test_connection_is_pinned_to_the_checked_address(allowed, forbidden):
    """DNS rebinding: the first answer is allowed, every later one is loopback."""
    answers = iter([["127.0.0.2"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])

    policy = FetchPolicy(allowed_networks=ALLOWED)
    sink = Sink()
    Fetcher(policy, resolver=rebinding).fetch(
        f"http://rebind.test:{allowed.server_address[1]}/x", sink
    )
    assert bytes(sink.data) == b"hello from 127.0.0.2"
    assert forbidden.seen == []


def test_one_private_answer_among_several_refuses(allowed, forbidden):
    def mixed(host: str, port: int) -> list[str]:
        return ["127.0.0.2", "127.0.0.1"]

    with pytest.raises(FetchRefused):
        Fetcher(FetchPolicy(allowed_networks=ALLOWED), resolver=mixed).fetch(
            f"http://mixed.test:{allowed.server_address[1]}/", Sink()
        )
    assert allowed.seen == [] and forbidden.seen == []


def test_size_limit_is_enforced_while_streaming(allowed):
    sink = Sink(limit=1024 * 1024)
    started = time.monotonic()
    with pytest.raises(TooLarge):
        fetcher().fetch(f"http://127.0.0.2:{allowed.server_address[1]}/endless", sink)
    assert len(sink.data) < 4 * 1024 * 1024
    assert time.monotonic() - started < 5


def test_read_timeout_fails_cleanly(allowed):
    started = time.monotonic()
    with pytest.raises(FetchFailed):
        fetcher(read_timeout=0.5).fetch(
            f"http://127.0.0.2:{allowed.server_address[1]}/hang", Sink()
        )
    assert time.monotonic() - started < 3


def test_remote_error_status_fails(allowed):
    allowed.routes["/gone"] = (404, {}, b"nope")
    with pytest.raises(FetchFailed):
        fetcher().fetch(f"http://127.0.0.2:{allowed.server_address[1]}/gone", Sink())


def test_fetch_streams_into_a_storage_writer(allowed, tmp_path):
    storage = LocalStorage(tmp_path)
    writer = storage.writer(max_size=1000)
    port = allowed.server_address[1]
    with pytest.raises(TooLarge):
        fetcher().fetch(f"http://127.0.0.2:{port}/endless", writer)
    assert list((tmp_path / "tmp").iterdir()) == []


class KeepAlive(BaseHTTPRequestHandler):
    """HTTP/1.1: the connection stays open after an answer until the client closes it."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.open += 1  # type: ignore[attr-defined]

    def finish(self) -> None:
        super().finish()
        self.server.open -= 1  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


def test_a_worker_keeps_connections_to_recent_hosts_only() -> None:
    hosts = []
    for _ in range(POOLS_AT_MOST + 4):
        server = ThreadingHTTPServer(("127.0.0.2", 0), KeepAlive)
        server.open = 0  # type: ignore[attr-defined]
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        hosts.append(server)
    shared = fetcher()
    try:
        for server in hosts:
            sink = Sink()
            shared.fetch(f"http://127.0.0.2:{server.server_address[1]}/", sink)
            assert bytes(sink.data) == b"ok"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(s.open for s in hosts[:4]):  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert [s.open for s in hosts[:4]] == [0] * 4  # type: ignore[attr-defined]
        assert all(s.open == 1 for s in hosts[4:])  # type: ignore[attr-defined]
        sink = Sink()  # an evicted host is reached again, on a new connection
        shared.fetch(f"http://127.0.0.2:{hosts[0].server_address[1]}/", sink)
        assert bytes(sink.data) == b"ok"
    finally:
        shared.close()
        for server in hosts:
            server.shutdown()
            server.server_close()
