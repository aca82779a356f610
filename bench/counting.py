#!/usr/bin/env python3
"""What counting PV/UV costs on the hot path: GET /i/<id> req/s with stats on and off.

    .venv/bin/python bench/counting.py                    # 12 rounds of 2 s each way
    .venv/bin/python bench/counting.py --seconds 5 --rounds 20

In one run, it starts the production server (``pastefile serve``: gunicorn, APP_ENV=
production) twice on throwaway SQLite data directories, one with
PASTEFILE_STATS_ENABLED=0 and one with 1, and loads ``/i/<id>`` of a 4 KiB file with
wrk (``-t2 -c16``) or, without wrk, a threaded Python client with keep-alive
connections: short runs, alternating off/on (and which goes first), so a busy
machine's background load falls on both sides alike. It prints each round's pair,
the medians, the median of the per-round ratios on/off and PASS when counting costs at
most 5 %. Then it checks that the hits were counted: the database's
``file_daily_stats.hits`` (written by the flusher and at the workers' exit) against
the requests the load generator reported. Exit status: 0 PASS, 1 FAIL, 2 error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

PASTEFILE = Path(sys.executable).parent / "pastefile"
TARGET_COST = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, work: Path, stats: bool, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = work / ("on" if stats else "off")
        self.workers = workers
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
        env.update(
            APP_ENV="production",
            PASTEFILE_SECRET_KEY=secrets.token_urlsafe(32),
            PASTEFILE_DATA_DIR=str(self.data),
            PASTEFILE_LOG_LEVEL="WARNING",
            PASTEFILE_STATS_ENABLED="1" if stats else "0",
            PASTEFILE_API_RATE_LIMIT="10000000/minute",
            PASTEFILE_UPLOAD_JOBS="",
        )
        self.env = env
        self.cwd = work
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        log = open(self.data / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [str(PASTEFILE), "serve", "--workers", str(self.workers), "--port", str(self.port)],
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.data / 'server.log'}")
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(self.url + "/", timeout=2) as reply,
            ):
                if reply.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not answer within 60 s")

    def upload(self, data: bytes) -> str:
        request = urllib.request.Request(self.url + "/bench.txt", data=data, method="PUT")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return str(reply.read().decode().strip().rsplit("/", 1)[-1])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # graceful: workers flush at exit
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def counted_hits(self) -> int:
        with contextlib.closing(sqlite3.connect(self.data / "pastefile.db")) as db:
            row = db.execute("SELECT COALESCE(SUM(hits), 0) FROM file_daily_stats").fetchone()
        return int(row[0])


def wrk_load(url: str, seconds: float, threads: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rate is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses")
    return float(rate.group(1)), int(total.group(1))


def python_load(url: str, seconds: float, threads: int, connections: int) -> tuple[float, int]:
    """Keep-alive GETs from ``connections`` threads (the fallback without wrk)."""
    del threads
    host, _, rest = url.removeprefix("http://").partition("/")
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, timeout=10)
        while time.monotonic() < stop:
            conn.request("GET", "/" + rest)
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise RuntimeError(f"status {reply.status}")
            counts[i] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - started), sum(counts)


def cpu_seconds(server: Server) -> float:
    """User + system CPU of the server's arbiter and workers so far."""
    assert server.proc is not None
    root = psutil.Process(server.proc.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def measure(
    server: Server, url: str, args: argparse.Namespace, seconds: float
) -> tuple[float, int, float]:
    """req/s, requests, and the server's CPU microseconds per request."""
    load = wrk_load if shutil.which("wrk") and not args.python_client else python_load
    before = cpu_seconds(server)
    rate, total = load(url, seconds, args.threads, args.connections)
    return rate, total, (cpu_seconds(server) - before) * 1e6 / max(total, 1)


def paired_rounds(servers: dict[bool, Server], urls: dict[bool, str], args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Short alternating runs, so both sides see the same background load."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    ratios: list[float] = []
    total = 0
    for r in range(args.rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        got: dict[bool, float] = {}
        for stats in order:
            got[stats], n, per_request = measure(servers[stats], urls[stats], args, args.seconds)
            total += n if stats else 0
            rates[stats].append(got[stats])
            cpu[stats].append(per_request)
        ratios.append(got[True] / got[False])
        print(
            f"  round {r + 1:2}: off {got[False]:8.1f} req/s {cpu[False][-1]:6.0f} us CPU/req"
            f"   on {got[True]:8.1f} req/s {cpu[True][-1]:6.0f} us CPU/req"
            f"   ratio {ratios[-1]:.3f}"
        )
    return rates, ratios, total, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--python-client", action="store_true", help="even if wrk exists")
    args = parser.parse_args()
    client = "wrk" if shutil.which("wrk") and not args.python_client else "python threads"
    print(
        f"GET /i/<id> (4 KiB), gunicorn --workers {args.workers}, load: {client}, "
        f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s each way"
    )
    with tempfile.TemporaryDirectory(prefix="pastefile-bench-counting-") as tmp:
        servers = {stats: Server(Path(tmp), stats, args.workers) for stats in (False, True)}
        try:
            urls = {}
            for stats, server in servers.items():
                server.start()
                urls[stats] = f"{server.url}/i/{server.upload(secrets.token_hex(2048).encode())}"
                measure(server, urls[stats], args, 2)  # warm-up, not measured
            rates, ratios, measured, cpu = paired_rounds(servers, urls, args)
        finally:
            for server in servers.values():
                server.stop()
        counted = servers[True].counted_hits()
    print(f"counted {counted} hits in the database for {measured} measured requests (+ warm-up)")
    if counted < measured:
        raise RuntimeError("hits were lost: counting is broken")
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    ratio = statistics.median(ratios)
    verdict = "PASS" if 1 - ratio <= TARGET_COST else "FAIL"
    cpu_off, cpu_on = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(json.dumps({"off_req_s": round(off, 1), "on_req_s": round(on, 1)}))
    print(
        f"server CPU per request (median): off {cpu_off:.0f} us, on {cpu_on:.0f} us "
        f"(counting's share {100 * (cpu_on / cpu_off - 1):+.1f} %; steadier than req/s "
        "on a busy machine)"
    )
    print(
        f"median ratio on/off = {ratio:.3f} (cost {100 * (1 - ratio):+.1f} %, "
        f"target <= {100 * TARGET_COST:.0f} %): {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
