"""Slow clients against ``pastefile serve`` without nginx: they cost the server a socket, not
its threads, and give up their connection once they are too slow."""

from __future__ import annotations

import socket
import threading
import time

import requests

from tests.support.production import ProductionServer, until

SERVER_SETTINGS = {
    "PASTEFILE_CLIENT_HEADER_TIMEOUT": "2",
    "PASTEFILE_CLIENT_BODY_TIMEOUT": "2",
}
ATTACKERS = 40


def _trickle(server: ProductionServer, head: bytes, drip: bytes, stop: float) -> None:
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head)
            for _ in until(stop):
                sock.sendall(drip)
                time.sleep(0.5)
    except OSError:
        return  # the server dropped us: what it should do, sooner or later


def test_forty_slow_clients_do_not_stop_health_checks_or_small_uploads(
    server: ProductionServer,
) -> None:
    stop = time.monotonic() + 8
    heads = [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n"),
        (b"PUT /slow.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n", b"0123456789"),
    ]
    attackers = [
        threading.Thread(target=_trickle, args=(server, *heads[i % 2], stop), daemon=True)
        for i in range(ATTACKERS)
    ]
    for attacker in attackers:
        attacker.start()
    time.sleep(1)  # every attacker is connected and holding what it can
    probes, failures = 0, 0
    for _ in until(stop - 0.5):
        probes += 1
        failures += not server.healthy(timeout=3.0)
        time.sleep(0.2)
    upload = requests.put(server.url("/during-attack.txt"), data=b"still here", timeout=5)
    for attacker in attackers:
        attacker.join(timeout=10)
    assert probes >= 20 and failures == 0, f"{failures} of {probes} health checks failed"
    assert upload.status_code == 201, upload.text


def test_a_client_that_never_finishes_its_headers_gets_408(server: ProductionServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = sock.recv(4096)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"application/problem+json" in answer
    assert 1.5 < waited < 5


def test_a_trickled_upload_is_dropped_and_nothing_of_it_is_kept(server: ProductionServer) -> None:
    before = server.stored_objects()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(b"PUT /trickle.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        answer = b""
        for _ in until(time.monotonic() + 12):
            try:
                sock.sendall(b"x" * 100)  # 200 bytes a second, far below the minimum rate
            except OSError:
                break
            sock.settimeout(0.5)
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            break
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert server.stored_objects() == before
    assert server.healthy()


def test_clients_that_never_close_after_the_answer_do_not_stall_others(
    server: ProductionServer,
) -> None:
    lingerers = []
    for _ in range(12):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        lingerers.append(sock)  # never read, never closed until the end
    try:
        started = time.monotonic()
        answered = [server.healthy(timeout=1.0) for _ in range(10)]
        elapsed = time.monotonic() - started
    finally:
        for sock in lingerers:
            sock.close()
    assert all(answered) and elapsed < 5, (answered, elapsed)
