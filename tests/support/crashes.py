"""A production server a test can hold at a named point, ``kill -9``, restart and check.

The points are ``pastefile.crashpoints``: with ``PASTEFILE_TEST_PAUSE_AT`` set, a
process that reaches the point leaves a file in the pause folder and waits there,
so the test kills it exactly there, never by sleeping and hoping.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support.cli import PASTEFILE, run_cli
from tests.support.production import ProductionServer, production_env
from tests.support.servers import free_port, wait_until

# Without the thread runner's upload jobs, the only work a request starts is its own.
QUIET = {"PASTEFILE_UPLOAD_JOBS": ""}
# ``pastefile gc`` in the tests has no grace: the server's own periodic gc keeps its
# default, so it never races the test for what the crash left.
NO_GRACE = {"PASTEFILE_GC_GRACE_SECONDS": "0", "PASTEFILE_TEMP_MAX_AGE_SECONDS": "1"}


class CrashableServer:
    """``pastefile serve`` (2 gunicorn workers, SQLite, local disk) in its own process group."""

    def __init__(self, root: Path, **settings: str) -> None:
        self.root = root
        self.pauses = root / "pauses"
        self.pauses.mkdir(parents=True, exist_ok=True)
        self.settings = {**QUIET, **settings}
        self.process: subprocess.Popen[bytes] | None = None
        self.server: ProductionServer | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment of CLI commands on this instance: never paused."""
        return production_env(self.root, **{**self.settings, **NO_GRACE})

    def arm(self, point: str) -> None:
        """From now on, a process that reaches ``point`` holds there."""
        (self.pauses / "armed").write_text(point)

    def disarm(self) -> None:
        (self.pauses / "armed").unlink(missing_ok=True)

    def start(self) -> ProductionServer:
        """Start the server, stopping first the one already running: a restart never
        leaves a second master behind (it would outlive the test, its parent gone)."""
        self.stop()
        self.disarm()
        env = production_env(self.root, PASTEFILE_TEST_PAUSE_DIR=str(self.pauses), **self.settings)
        port = free_port()
        with open(self.root / "server.out", "ab") as log:
            self.process = subprocess.Popen(
                [PASTEFILE, "serve", "--port", str(port), "--workers", "2"],
                env=env,
                cwd=self.root,
                stdout=log,
                stderr=log,
                start_new_session=True,  # one group: SIGKILL takes master and workers at once
            )
        self.server = ProductionServer(self.root, env, port)
        process = self.process
        wait_until(lambda: self.server.healthy() or process.poll() is not None, timeout=60)  # type: ignore[union-attr]
        assert process.poll() is None, (self.root / "server.out").read_text()
        return self.server

    def running(self) -> ProductionServer:
        """The server, started again if a test killed it."""
        if self.process is None or self.server is None:
            return self.start()
        return self.server

    def workers(self) -> set[int]:
        """The pids of the gunicorn workers of the running server."""
        assert self.process is not None
        master = self.process.pid
        with open(f"/proc/{master}/task/{master}/children") as listing:
            return {int(pid) for pid in listing.read().split()}

    def wait_all_serving(self, timeout: float = 30) -> None:
        """Until every worker has answered a request (the access log names its pid)."""
        assert self.server is not None
        server = self.server

        def served() -> bool:
            server.healthy()
            log = (self.root / "server.out").read_text(errors="replace")
            return all(f"pid={pid} " in log for pid in self.workers())

        wait_until(served, timeout=timeout)

    def wait_paused(self, point: str, timeout: float = 30) -> int:
        """The pid of the process that reached ``point``."""
        wait_until(lambda: list(self.pauses.glob(f"{point}.*")), timeout=timeout)
        found = next(self.pauses.glob(f"{point}.*"))
        found.unlink()
        return int(found.suffix[1:])

    def kill(self) -> None:
        """``kill -9`` of the master and every worker, as a power cut would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        self.process = None
        self.disarm()

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env, cwd=self.root, timeout=120)

    def collect(self) -> str:
        """``pastefile gc`` (grace 0), once the temp files are older than their max age."""
        past = time.time() - 60  # PASTEFILE_TEMP_MAX_AGE_SECONDS is 1
        for leftover in (self.root / "files" / "tmp").glob("upload-*"):
            os.utime(leftover, (past, past))
        gc = self.cli("gc")
        assert gc.returncode == 0, gc.stderr
        return gc.stdout

    def assert_consistent(self) -> None:
        """``pastefile check``: every row's bytes are there and sound, and nothing is orphaned."""
        check = self.cli("check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "missing: 0" in check.stdout and "orphans: 0" in check.stdout, check.stdout

    def leftovers(self) -> list[Path]:
        """Temp files, stray objects and parts: what a crash may leave on the disk."""
        files = self.root / "files"
        return sorted(p for p in files.rglob("*") if p.is_file() and "objects" not in p.parts)


class Attempt:
    """A client call in a thread: what it answered, or how it failed."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as exc:  # the test judges it
            self.error = exc

    def join(self, timeout: float = 30) -> Attempt:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the client call never ended"
        return self


class SlowOrigin:
    """An origin server for URL uploads that sends half a body and holds the rest.

    The first request gets half its bytes, then waits for ``release`` (at most 30 s);
    every later request gets the whole body at once. ``half_sent`` is set when the
    fetcher is provably mid-body.
    """

    def __init__(self, data: bytes, host: str = "127.0.0.2") -> None:
        self.data = data
        self.half_sent = threading.Event()
        self.release = threading.Event()
        self.requests = 0
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.requests += 1
                first = origin.requests == 1
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(origin.data)))
                self.end_headers()
                half = len(origin.data) // 2 if first else len(origin.data)
                with contextlib.suppress(OSError):
                    self.wfile.write(origin.data[:half])
                    self.wfile.flush()
                    if first:
                        origin.half_sent.set()
                        origin.release.wait(30)
                    self.wfile.write(origin.data[half:])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/big.bin"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Load:
    """A client uploading and reading back small files on fresh connections, as curl
    does, in a thread: bounded in count and time. It keeps every answer with the
    phase the test had set, and what was acknowledged (201) with its bytes."""

    def __init__(self, server: ProductionServer, rounds: int = 400, seconds: float = 40) -> None:
        self.server = server
        self.rounds = rounds
        self.deadline = time.monotonic() + seconds
        self.phase = "before"
        self.done = 0
        self.answers: list[tuple[str, str, int, str]] = []  # phase, method, status, type
        self.errors: list[str] = []
        self.acknowledged: dict[str, bytes] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def failures(self) -> list[str]:
        bad = [f"{p} {m} {s} {t}" for p, m, s, t in self.answers if s >= 400]
        return self.errors + bad

    def _run(self) -> None:
        for n in range(self.rounds):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                return
            data = f"load {n} {os.urandom(8).hex()}".encode()
            try:
                self._round(n, data)
            except requests.RequestException as exc:
                self.errors.append(f"{self.phase} {n}: {exc!r}")
            self.done += 1

    def _note(self, method: str, answer: requests.Response) -> None:
        kind = answer.headers.get("Content-Type", "").split(";")[0]
        self.answers.append((self.phase, method, answer.status_code, kind))

    def _round(self, n: int, data: bytes) -> None:
        put = requests.put(self.server.url(f"/load{n}.txt"), data=data, timeout=20)
        self._note("PUT", put)
        found = re.search(r"/p/([A-Za-z0-9]+)", put.text) if put.status_code == 201 else None
        if found is None:
            return
        self.acknowledged[found.group(1)] = data
        got = requests.get(self.server.url(f"/d/{found.group(1)}"), timeout=20)
        self._note("GET", got)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()

    def lost(self) -> list[str]:
        """Acknowledged uploads that do not read back byte for byte."""
        missing = []
        for public_id, data in self.acknowledged.items():
            got = requests.get(self.server.url(f"/d/{public_id}"), timeout=20)
            if got.status_code != 200 or got.content != data:
                missing.append(f"{public_id}: {got.status_code}")
        return missing
