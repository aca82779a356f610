"""The signals an operator sends: SIGTERM mid-upload, and a ``HUP`` reload under load."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import time

import requests

from tests.support.crashes import CrashableServer, Load
from tests.support.production import ProductionServer
from tests.support.servers import wait_until

# gunicorn's graceful_timeout in `pastefile serve` (pastefile/gunicorn_app.py).
GRACEFUL_TIMEOUT = 30
# A body that stalls this long is dropped: shorter than the graceful timeout, so a client
# that never finishes is cut by the server, not by gunicorn's kill at the deadline.
BODY_TIMEOUT = 8
SERVER_SETTINGS = {"PASTEFILE_CLIENT_BODY_TIMEOUT": str(BODY_TIMEOUT)}


def _tmp_growing(server: ProductionServer) -> bool:
    return any(p.stat().st_size > 0 for p in (server.root / "files" / "tmp").glob("upload-*"))


def test_sigterm_mid_upload_lets_it_finish_then_exits(crashable: CrashableServer) -> None:
    server = crashable.running()
    data = os.urandom(4_000_000)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        f"PUT /term.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + data[:2_000_000])
    wait_until(lambda: _tmp_growing(server), timeout=20)
    assert crashable.process is not None
    master = crashable.process
    master.send_signal(signal.SIGTERM)
    started = time.monotonic()
    sock.sendall(data[2_000_000:])
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    master.wait(timeout=GRACEFUL_TIMEOUT + 10)
    assert time.monotonic() - started < GRACEFUL_TIMEOUT, "it stopped within the graceful timeout"
    crashable.process = None
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    public_id = re.search(rb"/p/([A-Za-z0-9]+)", answer)
    assert public_id, answer

    server = crashable.start()
    stored = requests.get(server.url(f"/d/{public_id.group(1).decode()}"), timeout=10)
    assert stored.content == data, "what was acknowledged is there, byte for byte"
    crashable.collect()
    crashable.assert_consistent()
    assert crashable.leftovers() == []


def test_sigterm_with_a_client_that_never_finishes_exits_and_stores_nothing(
    crashable: CrashableServer,
) -> None:
    server = crashable.running()
    data = os.urandom(4_000_000)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=GRACEFUL_TIMEOUT + 10)
    head = (
        f"PUT /stalled.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + data[:2_000_000])  # and never the rest
    wait_until(lambda: _tmp_growing(server), timeout=20)
    assert crashable.process is not None
    master = crashable.process
    started = time.monotonic()
    master.send_signal(signal.SIGTERM)
    master.wait(timeout=GRACEFUL_TIMEOUT + 10)
    stopped = time.monotonic() - started
    crashable.process = None
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    assert stopped < BODY_TIMEOUT + 5, (
        f"the stalled body was dropped, then it exited ({stopped:.1f}s)"
    )
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]

    server = crashable.start()
    crashable.collect()
    crashable.assert_consistent()
    assert crashable.leftovers() == [], "no temp file of the stalled upload is left"
    with sqlite3.connect(server.root / "pastefile.db") as db:
        stored = db.execute("SELECT count(*) FROM files WHERE filename = 'stalled.bin'")
        assert stored.fetchone() == (0,)


def _workers(master: int) -> set[int]:
    children = f"/proc/{master}/task/{master}/children"
    with open(children) as listing:
        return {int(pid) for pid in listing.read().split()}


def test_a_hup_reload_under_load_fails_no_request(crashable: CrashableServer) -> None:
    server = crashable.running()
    assert crashable.process is not None
    master = crashable.process.pid
    before = _workers(master)
    load = Load(server)
    try:
        wait_until(lambda: load.done >= 10, timeout=30)
        os.kill(master, signal.SIGHUP)
        wait_until(lambda: len(_workers(master)) == 2 and not (_workers(master) & before), 40)
        reloaded_at = load.done
        wait_until(lambda: load.done >= reloaded_at + 10, timeout=30)
    finally:
        load.finish()
    assert load.failures == [], load.failures[:5]
    assert load.done >= 20
