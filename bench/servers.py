#!/usr/bin/env python3
"""Which server should run pastefile in production: gunicorn's workers, measured side by side.

    .venv/bin/python bench/servers.py                           # 5 s per measurement, 1 GiB
    .venv/bin/python bench/servers.py --upload-size 256MiB      # a quicker run
    .venv/bin/python bench/servers.py --only guarded,gevent     # some candidates

Each candidate runs one worker, with ``pastefile serve``'s options (bench/_gunicorn_as.py)
and pastefile in production on its embedded defaults (SQLite, the local disk); the
production worker (``guarded``) runs as ``pastefile serve`` itself. For each, in one run:

- small files: wrk -t2 -c16 on ``GET /i/<id>`` of a public 10 kB file, and on a bare
  Flask "hello" under the same worker class (the ratio: what the server costs pastefile);
- a streamed upload (PUT, 1 GiB by default): time, MB/s, and the worker's peak RSS over
  its RSS before it (VmHWM, reset through /proc/<pid>/clear_refs);
- 200 idle keep-alive connections (one request each, then silence) held while wrk
  measures small files again; how many of them were answered within a second;
- 40 slow clients (half trickle their headers, half their body, a byte every 0.2 s,
  for the measurement's length only) while wrk measures small files again;
- the WebSocket (``/api/v1/events``): a handshake with a token, and its "hello" message.

gevent is a bench-only dependency: it is installed, pinned, into the bench's own venv
``bench/.servers-venv``, which sees the project's packages through a .pth file.

Left out, because they lose something pastefile needs (docs/performance.md, "Choosing
the server"): waitress (reads a whole request body before the app sees it, no WebSocket),
cheroot and granian's WSGI mode (no socket for a WebSocket), uWSGI (its own WebSocket
API only, no Flask-Sock), bjoern and meinheld (unmaintained), gunicorn's eventlet worker
(eventlet asks new projects not to use it).

Exit status: 0 when every candidate ran, 2 when wrk is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _servers import (
    BIN,
    WORKER,
    Result,
    Server,
    bench_env,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    seed,
    start_bare,
    wrk,
)
from upload_download import parse_size

from tests.support.scaleout import stream_put

MiB = 1024 * 1024
# gevent and what it needs, pinned
GEVENT = ("gevent==26.9.0", "greenlet==3.5.6", "zope.event==6.2", "zope.interface==8.7")
VENV = Path(__file__).resolve().parent / ".servers-venv"
PASSWORD = "a long enough bench password"
IDLE_CONNECTIONS = 200
SLOW_CLIENTS = 40
DRIP_SECONDS = 0.2


@dataclass(frozen=True)
class Candidate:
    key: str
    label: str
    worker: str
    threads: int
    needs: tuple[str, ...] = ()


CANDIDATES = (
    Candidate("sync", "gunicorn sync", "sync", 1),
    Candidate("gthread", "gunicorn gthread, 8 threads", "gthread", 8),
    Candidate("guarded", "GuardedThreadWorker, 8 threads (today)", WORKER, 8),
    Candidate("gevent", "gunicorn gevent", "gevent", 1, GEVENT),
)


@dataclass
class Upload:
    status: int
    seconds: float
    mb_per_s: float
    rss_growth_mb: float


@dataclass
class Row:
    candidate: Candidate
    bare: Result
    small: Result
    upload: Upload
    idle: Result
    idle_answered: int  # within a second
    slow: Result
    websocket: str


# -- the bench's own environment -------------------------------------------------------


def python_for(candidate: Candidate) -> str:
    """This interpreter, or the bench venv's when the candidate needs a package of its own."""
    if not candidate.needs:
        return sys.executable
    python = VENV / "bin" / "python"
    stamp = VENV / "installed.txt"
    wanted = "\n".join(candidate.needs)
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing {', '.join(candidate.needs)} into {VENV} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *candidate.needs], check=True)
        # After the install, so pip does not take the project's packages for the pins'.
        ours = sysconfig.get_paths()["purelib"]
        site = next((VENV / "lib").glob("python*/site-packages"))
        (site / "pastefile-project.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
        stamp.write_text(wanted)
    return str(python)


# -- servers ---------------------------------------------------------------------------


def start_pastefile(candidate: Candidate, root: Path, upload_size: int) -> Server:
    env = bench_env(
        root,
        PASTEFILE_MAX_UPLOAD_SIZE=str(upload_size + 64 * MiB),
        MALLOC_ARENA_MAX="1",  # as `pastefile serve` sets it for its gunicorn
    )
    pastefile = str(BIN / "pastefile")
    subprocess.run([pastefile, "db", "upgrade"], env=env, cwd=root, check=True, capture_output=True)
    user = [pastefile, "create-user", "bench", "--password", PASSWORD]
    subprocess.run(user, env=env, cwd=root, check=True, capture_output=True)
    if candidate.worker == WORKER:
        command = [pastefile, "serve", "--port", "{port}", "--workers", "1"]
    else:
        launcher = str(Path(__file__).resolve().parent / "_gunicorn_as.py")
        command = [python_for(candidate), launcher, "{port}", candidate.worker]
        command.append(str(candidate.threads))
    return Server(command, env, root, root / "pastefile.out")


def token_for(server: Server) -> str:
    asked = {"username": "bench", "password": PASSWORD, "name": "bench", "scopes": ["read"]}
    request = urllib.request.Request(
        f"{server.base}/api/v1/tokens",
        data=json.dumps(asked).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.loads(answer.read())["token"])


# -- measurements ----------------------------------------------------------------------


def measure_upload(server: Server, size: int) -> Upload:
    worker = server.worker
    before = rss_mb(worker)
    reset_peak_rss(worker)
    started = time.perf_counter()
    status, _body = stream_put(server.port, "/big.bin", size, os.urandom(MiB))
    seconds = time.perf_counter() - started
    return Upload(status, seconds, size / seconds / 1e6, peak_rss_mb(worker) - before)


@contextlib.contextmanager
def idle_connections(port: int, count: int) -> Iterator[int]:
    """Connections that ask once, then stay silent with the connection open (keep-alive);
    how many were answered within a second.

    The requests go out at once and their answers are waited for a second at most: a
    server that serves one connection at a time must not hold the bench up.
    """
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(sock)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            sock.setblocking(False)
        yield _answered(held, time.monotonic() + 1.0)
    finally:
        for sock in held:
            sock.close()


def _answered(held: list[socket.socket], deadline: float) -> int:
    answered = 0
    with selectors.DefaultSelector() as waiting:
        for sock in held:
            waiting.register(sock, selectors.EVENT_READ)
        while waiting.get_map() and time.monotonic() < deadline:
            for key, _ in waiting.select(deadline - time.monotonic()):
                waiting.unregister(key.fileobj)
                with contextlib.suppress(OSError):
                    answered += bool(key.fileobj.recv(65536))  # type: ignore[union-attr]
    return answered


def _trickle(port: int, head: bytes, drip: bytes, stop: float) -> None:
    """Send ``head`` at once, then ``drip`` a byte at a time, until ``stop``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head)
            for byte in drip:
                if time.monotonic() >= stop:
                    return
                sock.sendall(bytes([byte]))
                time.sleep(DRIP_SECONDS)
    except OSError:
        return  # the server dropped us


@contextlib.contextmanager
def slow_clients(port: int, count: int, seconds: float) -> Iterator[None]:
    stop = time.monotonic() + seconds
    kinds = [
        (b"", b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"x" * 1000),
        (b"PUT /slow.txt HTTP/1.1\r\nHost: bench\r\nContent-Length: 10000000\r\n\r\n", b"0" * 1000),
    ]
    clients = [
        threading.Thread(target=_trickle, args=(port, *kinds[i % 2], stop), daemon=True)
        for i in range(count)
    ]
    for client in clients:
        client.start()
    time.sleep(1)  # every client connected and holding what it can
    yield
    for client in clients:
        client.join(timeout=seconds + 5)


def websocket_works(server: Server, token: str) -> str:
    """'yes' when the events socket opens and says hello within 10 s; else what happened."""
    from simple_websocket import Client

    outcome = ["no answer within 10 s"]

    def attempt() -> None:
        url = f"ws://127.0.0.1:{server.port}/api/v1/events?access_token={token}"
        try:
            ws = Client.connect(url, thread_class=functools.partial(threading.Thread, daemon=True))
            try:
                raw = ws.receive(timeout=5)
            finally:
                ws.close()
            hello = raw is not None and json.loads(raw).get("type") == "hello"
            outcome[0] = "yes" if hello else f"no: got {raw!r}"[:40]
        except Exception as exc:  # any failure is the answer
            outcome[0] = f"no: {exc!r}"[:40]

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(10)
    return outcome[0]


def run_candidate(candidate: Candidate, root: Path, seconds: int, upload_size: int) -> Row:
    print(f"-- {candidate.label}", flush=True)
    python = python_for(candidate)
    bare_server = start_bare(root, candidate.worker, candidate.threads, python)
    try:
        wrk("bare", bare_server.base + "/", 1, bare_server.worker)  # warm up
        bare = wrk("bare", bare_server.base + "/", seconds, bare_server.worker)
    finally:
        bare_server.stop()
    server = start_pastefile(candidate, root, upload_size)
    try:
        ident, _code = seed(server)
        token = token_for(server)
        url = f"{server.base}/i/{ident}"
        wrk("warm", url, 1, server.worker)
        small = wrk("small", url, seconds, server.worker)
        upload = measure_upload(server, upload_size)
        with idle_connections(server.port, IDLE_CONNECTIONS) as answered:
            idle = wrk("idle", url, seconds, server.worker)
        with slow_clients(server.port, SLOW_CLIENTS, seconds + 1.5):
            slow = wrk("slow", url, seconds, server.worker)
        websocket = websocket_works(server, token)
    finally:
        server.stop()
    return Row(candidate, bare, small, upload, idle, answered, slow, websocket)


# -- the report ------------------------------------------------------------------------


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def report(rows: list[Row], upload_size: int) -> None:
    print("\nsmall files (GET /i/<id>, 10 kB, wrk -t2 -c16) against a bare Flask hello")
    print(
        f"{'server':40}{'bare/s':>8}{'p99 ms':>8}{'/i/ r/s':>8}{'ratio':>7}"
        f"{'p50 ms':>8}{'p99 ms':>8}"
    )
    for row in rows:
        small = row.small
        print(
            f"{row.candidate.label:40}{row.bare.rps:8.0f}{row.bare.p99_ms:8.1f}{small.rps:8.0f}"
            f"{_ratio(small.rps, row.bare.rps):>7}{small.p50_ms:8.2f}{small.p99_ms:8.2f}"
        )
    print(f"\nupload (PUT, {upload_size / MiB:.0f} MiB, streamed)")
    print(f"{'server':40}{'status':>7}{'seconds':>9}{'MB/s':>7}{'RSS +MB':>9}")
    for row in rows:
        up = row.upload
        print(
            f"{row.candidate.label:40}{up.status:7}{up.seconds:9.1f}{up.mb_per_s:7.0f}"
            f"{up.rss_growth_mb:9.1f}"
        )
    print("\nunder load: small-file req/s, and its ratio to the same server unloaded")
    print(
        f"{'server':40}{f'{IDLE_CONNECTIONS} idle':>10}{'ratio':>7}{'answered':>10}"
        f"{f'{SLOW_CLIENTS} slow':>10}{'ratio':>7}  WebSocket"
    )
    for row in rows:
        base = row.small.rps
        print(
            f"{row.candidate.label:40}{row.idle.rps:10.0f}{_ratio(row.idle.rps, base):>7}"
            f"{row.idle_answered:10}{row.slow.rps:10.0f}{_ratio(row.slow.rps, base):>7}"
            f"  {row.websocket}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--upload-size", type=parse_size, default=parse_size("1GiB"))
    parser.add_argument("--only", help="comma-separated: " + ",".join(c.key for c in CANDIDATES))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk")
        return 2
    chosen = [c for c in CANDIDATES if not args.only or c.key in args.only.split(",")]
    print(f"load average before: {_load()}")
    rows = []
    for candidate in chosen:
        with tempfile.TemporaryDirectory(prefix=f"servers-{candidate.key}-") as tmp:
            rows.append(run_candidate(candidate, Path(tmp), args.seconds, args.upload_size))
    report(rows, args.upload_size)
    print(f"\nload average after: {_load()}")
    return 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


if __name__ == "__main__":
    sys.exit(main())
