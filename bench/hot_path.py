#!/usr/bin/env python3
"""The hot path against a bare Flask "hello", on the same server, worker class and count.

    .venv/bin/python bench/hot_path.py               # 5 s per measurement
    .venv/bin/python bench/hot_path.py --seconds 10

It starts, in one run on this machine, two gunicorn servers with one worker each and the
same worker class (pastefile's production worker, 8 threads): a bare Flask app that
answers "hello", and ``pastefile serve`` in production mode on its embedded defaults
(SQLite, the local disk). wrk (Debian's ``wrk``) measures each route with 2 threads and
16 connections; the server's CPU per request is read from /proc for its worker, the
steadier figure on a shared machine. It prints req/s, p50/p99 and CPU per request, each
as a ratio to the bare app, with the targets:

- ``GET /i/<id>`` of a public 10 kB file, sent by the app: >= 75% of the bare app;
- ``/s/<code>`` redirect and ``/p/<id>`` JSON (cached): >= 75%;
- ``/healthz``: >= 90%;
- stats counting on: CPU per request within 5% of counting off.

Exit status: 0 when every target passes, 1 when one is missed, 2 when wrk is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _servers import (
    BIN,
    Result,
    Server,
    bench_env,
    peak_rss_mb,
    seed,
    start_bare,
    wrk,
)


def start_pastefile(root: Path, stats: bool) -> Server:
    command = [str(BIN / "pastefile"), "serve", "--port", "{port}", "--workers", "1"]
    env = bench_env(root, PASTEFILE_STATS_ENABLED="1" if stats else "0")
    return Server(command, env, root, root / f"pastefile-{stats}.out")


def measure(server: Server, seconds: int, prefix: str = "") -> dict[str, Result]:
    ident, code = seed(server)
    routes = {
        "/healthz": ("/healthz", "*/*"),
        "/i/<id>": (f"/i/{ident}", "*/*"),
        "/s/<code>": (f"/s/{code}", "*/*"),
        "/p/<id> JSON": (f"/p/{ident}", "application/json"),
    }
    results = {}
    for name, (path, accept) in routes.items():
        wrk(name, server.base + path, 1, server.worker, accept)  # warm the caches
        results[name] = wrk(prefix + name, server.base + path, seconds, server.worker, accept)
    return results


TARGETS = {"/healthz": 0.90, "/i/<id>": 0.75, "/s/<code>": 0.75, "/p/<id> JSON": 0.75}


def report(bare: Result, on: dict[str, Result], off: dict[str, Result]) -> bool:
    print(f"{'':28}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'CPU us/req':>11}{'ratio':>8}")
    print(
        f"{'bare Flask hello':28}{bare.rps:9.0f}{bare.p50_ms:8.2f}{bare.p99_ms:8.2f}"
        f"{bare.cpu_us:11.0f}"
    )
    ok = True
    for name, target in TARGETS.items():
        result = on[name]
        ratio = result.rps / bare.rps if bare.rps else 0.0
        verdict = "PASS" if ratio >= target else "MISSED"
        ok &= verdict == "PASS"
        print(
            f"{name:28}{result.rps:9.0f}{result.p50_ms:8.2f}{result.p99_ms:8.2f}"
            f"{result.cpu_us:11.0f}{ratio:8.0%}  >= {target:.0%} {verdict}"
            + (f"  ({result.errors} errors)" if result.errors else "")
        )
    for name in TARGETS:
        delta = on[name].cpu_us / off[name].cpu_us - 1 if off[name].cpu_us else 0.0
        verdict = "PASS" if delta <= 0.05 else "MISSED"
        ok &= verdict == "PASS"
        print(
            f"stats on vs off, {name:14} CPU/req {off[name].cpu_us:5.0f} -> "
            f"{on[name].cpu_us:5.0f} us ({delta:+.0%})  <= +5% {verdict}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk")
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with tempfile.TemporaryDirectory(prefix="hot-path-") as tmp:
        root = Path(tmp)
        servers = []
        try:
            bare_server = start_bare(root)
            servers.append(bare_server)
            bare = wrk("bare", bare_server.base + "/", args.seconds, bare_server.worker)
            peaks = {"bare Flask hello": peak_rss_mb(bare_server.worker)}
            results = {}
            for stats in (True, False):
                (root / f"s{stats}").mkdir()
                server = start_pastefile(root / f"s{stats}", stats)
                servers.append(server)
                time.sleep(1)
                results[stats] = measure(server, args.seconds)
                peaks[f"pastefile, stats {'on' if stats else 'off'}"] = peak_rss_mb(server.worker)
                server.stop()
                servers.remove(server)
        finally:
            for server in servers:
                server.stop()
    ok = report(bare, results[True], results[False])
    for name, peak in peaks.items():
        print(f"peak RSS of the worker, {name}: {peak:.0f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
