#!/usr/bin/env python3
"""Serving through nginx + gunicorn against nginx sending the same file from disk, with wrk.

    .venv/bin/python bench/serve.py               # 5 s per measurement
    .venv/bin/python bench/serve.py --seconds 10

It starts, in one run on this machine: deploy/nginx.conf (rendered with throwaway
paths, as tests/support/deploy.py does) in front of a gunicorn node with X-Accel-Redirect
(PASTEFILE_ACCEL_REDIRECT_PREFIX), a second node that streams the bytes itself, and in
the same nginx a plain server that sends the stored objects straight from disk. The
nodes use SQLite and the machine's Redis (a key prefix of their own) for the cache.

Measured with wrk (Debian's ``wrk``; the bench says so and stops if it is missing):
- GET /i/ of a 10 kB file: nginx direct; through the micro-cache (public files, 1 s);
  the app path (the cache bypassed: Python decides, nginx sends); the app streaming it;
- /s/ redirects and /p/ cache-hit lookups (req/s);
- a 100 MB file: nginx direct, X-Accel-Redirect, the app streaming (MB/s);
- a delete through the micro-cache: how long until nginx answers 404.
Targets: micro-cached >= 50% of nginx direct req/s; X-Accel >= 90% of direct MB/s.
Exit status: 0 when both pass, 1 when one fails, 2 when wrk or nginx is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wrk_runs import MB, Result, run_wrk  # noqa: E402

from tests.support.deploy import (  # noqa: E402
    CELERY_PASTEFILE,
    NginxPaths,
    nginx_binary,
    start_gunicorn,
    start_nginx,
    stop,
)
from tests.support.scaleout import REDIS_URL, request  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402
from tests.support.uploads import multipart_body  # noqa: E402


def wrk(
    name: str, url: str, seconds: int, conns: int, headers: dict[str, str] | None = None
) -> Result:
    run = run_wrk(url, seconds, conns, headers)
    return Result(name, run.rps, run.p50_ms, run.p99_ms, run.errors)


class Stack:
    """nginx (deploy config + a direct server) and two gunicorn nodes on throwaway paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.direct, self.streaming = free_port(), free_port(), free_port()
        self.nodes = {"accel": free_port(), "stream": free_port()}
        self.objects = root / "files" / "objects"
        self.processes: list[subprocess.Popen[bytes]] = []

    def env(self, accel: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PASTEFILE_", "APP_"))}
        env.update(
            APP_ENV="production",
            PASTEFILE_SECRET_KEY="bench-serve-secret-0123456789",
            PASTEFILE_DATA_DIR=str(self.root / "var"),
            PASTEFILE_STORAGE_URL=f"file://{self.root / 'files'}",
            PASTEFILE_REDIS_URL=REDIS_URL,
            PASTEFILE_CACHE_PREFIX=f"bench{uuid.uuid4().hex[:6]}",
            PASTEFILE_TRUSTED_PROXIES="1",
            PASTEFILE_ACCEL_REDIRECT_PREFIX="/_protected" if accel else "",
            PASTEFILE_LOG_LEVEL="WARNING",
            PASTEFILE_UPLOAD_JOBS="",
            PASTEFILE_API_RATE_LIMIT="1000000/minute",
        )
        return env

    def start(self) -> None:
        subprocess.run([CELERY_PASTEFILE, "db", "upgrade"], env=self.env(True), check=True)
        workers = os.cpu_count() or 2
        for name, port in self.nodes.items():
            env = self.env(name == "accel")
            log = self.root / f"{name}.out"
            self.processes.append(start_gunicorn(env, f"127.0.0.1:{port}", workers, log=log))
        extra = (
            f"    server {{ listen 127.0.0.1:{self.direct}; access_log off;\n"
            f"        location /direct/ {{ alias {self.objects}/; }} }}\n"
            f"    server {{ listen 127.0.0.1:{self.streaming}; access_log off;\n"
            f"        location / {{ proxy_pass http://127.0.0.1:{self.nodes['stream']}; }} }}\n"
        )
        paths = NginxPaths(
            self.root / "nginx",
            self.port,
            [f"127.0.0.1:{self.nodes['accel']}"],
            self.objects,
            extra_http=extra,
        )
        self.processes.append(start_nginx(paths))
        for port in [self.port, self.direct, self.streaming, *self.nodes.values()]:
            wait_until(lambda port=port: port_open(port), timeout=60)  # type: ignore[misc]

    def upload(self, data: bytes, name: str) -> dict[str, str]:
        import http.client

        body, ctype = multipart_body(data, name)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.request("POST", "/", body=body, headers={"Content-Type": ctype})
        response = conn.getresponse()
        file: dict[str, str] = json.loads(response.read())
        conn.close()
        return file

    def stop(self) -> None:
        stop(self.processes)


def _object(sha: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def small_file(stack: Stack, seconds: int) -> list[Result]:
    file = stack.upload(os.urandom(10_000), "small.bin")
    i = f"/i/{file['id']}"
    bypass = {"Cookie": "session=bench"}  # proxy_cache_bypass: the app decides every time
    base = f"http://127.0.0.1:{stack.port}"
    return [
        wrk(
            "nginx direct from disk",
            f"http://127.0.0.1:{stack.direct}/direct/{_object(file['sha256'])}",
            seconds,
            16,
        ),
        wrk("/i/ micro-cached (nginx, 1 s)", base + i, seconds, 16),
        wrk("/i/ app path (Python decides, X-Accel)", base + i, seconds, 16, bypass),
        wrk(
            "/i/ app streams the bytes itself",
            f"http://127.0.0.1:{stack.streaming}{i}",
            seconds,
            16,
        ),
        wrk("/s/ redirect", f"{base}/s/{file['url_s'].rsplit('/', 1)[1]}", seconds, 16),
        wrk(
            "/p/ cache-hit lookup (JSON)",
            f"{base}/p/{file['id']}",
            seconds,
            16,
            {"Accept": "application/json"},
        ),
    ]


def big_file(stack: Stack, seconds: int) -> tuple[int, list[Result]]:
    size = 100 * MB
    path = stack.root / "big.bin"
    with open(path, "wb") as out:
        for _ in range(100):
            out.write(os.urandom(MB))
    file = stack.upload(path.read_bytes(), "big.bin")
    i = f"/i/{file['id']}"
    return size, [
        wrk(
            "100 MB nginx direct from disk",
            f"http://127.0.0.1:{stack.direct}/direct/{_object(file['sha256'])}",
            seconds,
            2,
        ),
        wrk("100 MB X-Accel-Redirect", f"http://127.0.0.1:{stack.port}{i}", seconds, 2),
        wrk("100 MB app streams it", f"http://127.0.0.1:{stack.streaming}{i}", seconds, 2),
    ]


def delete_through_cache(stack: Stack) -> float:
    file = stack.upload(os.urandom(10_000), "gone.bin")
    path = f"/i/{file['id']}"
    for _ in range(3):
        request(stack.port, "GET", path)
    cached = request(stack.port, "GET", path)[1].get("X-Micro-Cache", "?")
    started = time.monotonic()
    status = request(
        stack.port, "DELETE", f"/api/v1/files/{file['id']}", {"X-Token": file["token"]}
    )[0]
    assert status == 204, status
    while request(stack.port, "GET", path)[0] == 200:
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    print(f"  delete through the micro-cache (was {cached}): 404 after {elapsed:.2f} s")
    return elapsed


def report(small: list[Result], size: int, big: list[Result]) -> bool:
    print("GET of a 10 kB file and lookups (wrk -t2 -c16):")
    for result in small:
        print(result.line())
    direct, micro, app, streamed = (r.rps for r in small[:4])
    print(
        f"  ratios to nginx direct: micro-cached {micro / direct:.0%}, app path {app / direct:.0%},"
        f" app streaming {streamed / direct:.0%}"
    )
    print("A 100 MB file (wrk -t2 -c2):")
    for result in big:
        print(result.line(size))
    d_big, accel, stream_big = (r.rps for r in big)
    print(
        f"  ratios to nginx direct: X-Accel {accel / d_big:.0%},"
        f" app streaming {stream_big / d_big:.0%}"
    )
    checks = [
        ("micro-cached /i/ >= 50% of nginx direct req/s", micro >= 0.5 * direct),
        ("X-Accel 100 MB >= 90% of nginx direct MB/s", accel >= 0.9 * d_big),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    missing = [
        name for name, ok in (("wrk", shutil.which("wrk")), ("nginx", nginx_binary())) if not ok
    ]
    if missing:
        print(f"bench/serve.py needs {' and '.join(missing)}: apt-get install {' '.join(missing)}")
        return 2
    with tempfile.TemporaryDirectory(prefix="pastefile-serve-") as tmp:
        stack = Stack(Path(tmp))
        try:
            stack.start()
            small = small_file(stack, args.seconds)
            size, big = big_file(stack, args.seconds)
            ok = report(small, size, big)
            delete_through_cache(stack)
        finally:
            stack.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
