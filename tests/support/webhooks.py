"""A real webhook receiver for the tests (a threaded HTTP server on the tests' allowed
loopback address) and an independent check of a Standard Webhooks signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.jobs import ORIGIN_HOST


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    # Status codes to answer, in order; once used up, ``then`` for every request.
    answers: list[int] = field(default_factory=list)
    then: int = 204
    got: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{ORIGIN_HOST}:{self.server.server_address[1]}/hook"

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else self.then


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        receiver.got.append(Received(self.path, headers, body, time.monotonic()))
        status = receiver.next_status()
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer((ORIGIN_HOST, 0), _Handler)
    server.daemon_threads = True
    made = Receiver(server)
    server.receiver = made  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        server.shutdown()
        server.server_close()


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The spec's check, written here with hmac and base64 only (not the library)."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1) for s in headers["webhook-signature"].split()]
    return any(v == "v1" and hmac.compare_digest(sig, expected) for v, sig in offered)
