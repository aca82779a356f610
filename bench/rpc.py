#!/usr/bin/env python3
"""get() over Thrift RPC next to the same lookup over HTTP, same data, same run.

    .venv/bin/python bench/rpc.py                         # 200 files, 5 s per phase
    .venv/bin/python bench/rpc.py --seconds 2 --clients 1,4

It starts, on a throwaway data directory (SQLite) with APP_ENV=production,
``pastefile serve`` (gunicorn, gthread, production's worker count unless
``--workers``) and ``pastefile rpc``, both on the same database and files.
The files are uploaded once through RPC. Then, for each client count N, N
client processes call for ``--seconds`` each:

- RPC: ``get(row id)`` on pooled connections (``pastefile.rpc.client``);
- HTTP: ``GET /p/<public id>`` with ``Accept: application/json`` (the file card
  as JSON; there is no ``/api/v1`` yet) on keep-alive HTTP/1.1 connections.

Both answers describe the same file. Each phase has a one-second warm-up
first, so RPC's ``filemd5`` is in its cache as it is in steady use. Both
servers log at WARNING, so neither pays for an access line per call. Client
processes rather than threads, so the client's GIL limits neither side.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pastefile.rpc.client import PasteFileClient  # noqa: E402

PASTEFILE = Path(sys.executable).parent / "pastefile"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(PASTEFILE), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def server_env(data_dir: Path, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
    env.update(
        APP_ENV="production",
        PASTEFILE_DATA_DIR=str(data_dir),
        PASTEFILE_SECRET_KEY=secrets.token_hex(24),
        PASTEFILE_BASE_URL=f"http://127.0.0.1:{http_port}",
        PASTEFILE_LOG_LEVEL="WARNING",
    )
    return env


def seed(rpc_port: int, count: int) -> list[tuple[int, str]]:
    """Upload ``count`` distinct files; return (row id, public id) pairs."""
    client = PasteFileClient("127.0.0.1", rpc_port)
    rng = random.Random(7)
    pairs = []
    for index in range(count):
        body = f"file {index}\n".encode() * rng.randint(10, 400)
        created = client.upload(body, f"file-{index}.txt", "text/plain")
        pairs.append((created.id, created.url_p.rsplit("/", 1)[1]))
    client.close()
    return pairs


def rpc_worker(port: int, ids: list[int], seconds: float) -> int:
    client = PasteFileClient("127.0.0.1", port)
    _loop(client.get, ids, 1.0)  # warm-up
    calls = _loop(client.get, ids, seconds)
    client.close()
    return calls


def http_worker(port: int, public_ids: list[str], seconds: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept": "application/json"}

    def fetch(public_id: str) -> None:
        conn.request("GET", f"/p/{public_id}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or not body.startswith(b"{"):
            raise RuntimeError(f"GET /p/{public_id}: {response.status}")

    _loop(fetch, public_ids, 1.0)  # warm-up
    calls = _loop(fetch, public_ids, seconds)
    conn.close()
    return calls


def _loop(call: Callable[..., object], keys: Sequence[object], seconds: float) -> int:
    order = list(keys)
    random.shuffle(order)
    calls, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        call(order[calls % len(order)])
        calls += 1
    return calls


def measure(
    worker: Callable[..., int], port: int, keys: Sequence[object], clients: int, seconds: float
) -> float:
    with ProcessPoolExecutor(clients) as pool:
        futures = [pool.submit(worker, port, keys, seconds) for _ in range(clients)]
        return sum(f.result() for f in futures) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4", help="comma list of client counts")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="pastefile-bench-rpc-"))
    http_port, rpc_port = free_port(), free_port()
    env = server_env(data_dir, http_port)
    log = data_dir / "servers.log"
    serve_args = ["serve", "--port", str(http_port)]
    if args.workers:
        serve_args += ["--workers", str(args.workers)]
    procs = [start(serve_args, env, log)]
    try:
        wait_for_port(http_port)  # it migrates the database first
        procs.append(start(["rpc", "--port", str(rpc_port)], env, log))
        wait_for_port(rpc_port)
        pairs = seed(rpc_port, args.files)
        report(args, pairs, http_port, rpc_port)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def report(
    args: argparse.Namespace, pairs: list[tuple[int, str]], http_port: int, rpc_port: int
) -> None:
    workers = args.workers or (os.cpu_count() or 1) * 2 + 1
    print(f"{len(pairs)} files, SQLite, {args.seconds:g} s per phase, {os.cpu_count()} CPUs")
    print("RPC : pastefile rpc (1 process, a thread per connection), get(row id)")
    print(f"HTTP: pastefile serve (gunicorn gthread, {workers} workers), GET /p/<id> JSON")
    print(f"{'clients':>8} {'RPC calls/s':>12} {'HTTP req/s':>12} {'RPC/HTTP':>9}")
    for clients in (int(n) for n in args.clients.split(",")):
        rpc = measure(rpc_worker, rpc_port, [pid for pid, _ in pairs], clients, args.seconds)
        web = measure(http_worker, http_port, [pub for _, pub in pairs], clients, args.seconds)
        print(f"{clients:>8} {rpc:>12.0f} {web:>12.0f} {rpc / web:>8.2f}x")


if __name__ == "__main__":
    main()
