"""Helpers for the job tests: a local HTTP origin with slow and failing routes, waiting,
a thread runner, and running queued jobs synchronously."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from pastefile.jobs.runners.threads import ThreadRunner

if TYPE_CHECKING:
    from pastefile.composition import Services
    from pastefile.db.jobs import Job

ORIGIN_HOST = "127.0.0.2"  # allowed by the tests' fetch policy; 127.0.0.1 never is
PAYLOAD = bytes(range(256)) * 5120  # 1.25 MiB
# Quick retries, and fetches allowed to reach the origin below.
JOB_SETTINGS: dict[str, object] = {
    "job_retry_base_seconds": 0.05,
    "job_retry_max_seconds": 0.2,
    "fetch_allowed_networks": [f"{ORIGIN_HOST}/32"],
    "fetch_read_timeout": 5.0,
}


class Origin(BaseHTTPRequestHandler):
    """``/ok`` answers at once, ``/slow`` trickles for a few seconds, ``/fail`` is a 500,
    ``/hang`` never sends a body. The bytes end with the query, so two URLs that differ
    in it are two files, not one found again by content dedup."""

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        route = self.path.split("?", 1)[0]
        if route == "/fail":
            self._send(500, b"broken on purpose")
        elif route == "/slow":
            self._trickle(seconds=float(self.server.slow_seconds))  # type: ignore[attr-defined]
        elif route == "/hang":
            self._trickle(seconds=60.0)
        else:
            self._send(200, self._payload())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _payload(self) -> bytes:
        return PAYLOAD + self.path.partition("?")[2].encode()

    def _trickle(self, seconds: float) -> None:
        body = self._payload()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        steps = 20
        chunk = len(body) // steps + 1
        try:
            for start in range(0, len(body), chunk):
                self.wfile.write(body[start : start + chunk])
                self.wfile.flush()
                time.sleep(seconds / steps)
        except OSError:
            return

    def log_message(self, *args: object) -> None:
        return


def serve_origin(slow_seconds: float = 3.0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((ORIGIN_HOST, 0), Origin)
    server.hits = []  # type: ignore[attr-defined]
    server.slow_seconds = slow_seconds  # type: ignore[attr-defined]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def origin_url(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://{ORIGIN_HOST}:{server.server_address[1]}{path}"


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s; last value {value!r}")
        time.sleep(every)
        value = check()
    return value


def drain_jobs(services: Services, limit: int = 100) -> list[Job]:
    """Run the queued jobs now, in this thread, as a runner would (claim, run, record).

    ``APP_ENV=testing`` starts no runner inside the app, so uploads leave their jobs
    queued (and their files ``processing``); tests that look at what a job produces
    call this instead of starting threads. Jobs waiting out a retry backoff stay queued.
    """
    from pastefile.jobs.executor import execute
    from pastefile.jobs.runners.base import worker_name

    ran: list[int] = []
    while len(ran) < limit and (queued := services.jobs.next_queued(10)):
        for job_id in queued:
            execute(services, job_id, worker_name())
            ran.append(job_id)
    services.jobs.sessions.remove()
    return [services.jobs.get(job_id) for job_id in dict.fromkeys(ran)]


def start_thread_runner(services: Services, workers: int) -> ThreadRunner:
    """A started thread runner that the app's job service hands its jobs to."""
    started = ThreadRunner(services, workers=workers, poll=0.05, lease=30.0, schedule=False)
    services.jobs.use_runner(started)
    started.start()
    return started


def finished(services: Services, job_id: int) -> Job | None:
    job = services.jobs.get(job_id)
    return job if job.status in ("succeeded", "failed", "cancelled") else None
