#!/usr/bin/env python3
"""Access-log map-reduce throughput: lines/s with 1 process and with N, and the speed-up.

    .venv/bin/python bench/logstats.py                 # a 2 GB log, N = CPU count
    .venv/bin/python bench/logstats.py --size 256MB -j 4

It writes a log of ``--size`` bytes into a temporary directory: one ~1 MB block of
varied lines (our own access-log format and nginx's combined, some malformed, over
a week of days, many files and visitors) written again and again, which keeps
generation at disk speed. Then it runs ``pastefile.stats.logstats.analyse`` over it
with 1 process and with N, checks both give the same counts, and prints lines/s for
each and the ratio. A warm-up pass first puts the file in the page cache, so both
runs read from memory and the comparison is of CPU work, not of the disk.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pastefile.stats.logstats import analyse

UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_size(text: str) -> int:
    upper = text.upper()
    for unit, factor in UNITS.items():
        if upper.endswith(unit):
            return int(float(upper[: -len(unit)]) * factor)
    return int(text)


def block(rng: random.Random, target: int = 1_000_000) -> bytes:
    ids = ["".join(rng.choices("abcdefghijkLMNOPQ0123456789", k=12)) for _ in range(500)]
    agents = [f"Mozilla/5.0 (agent {i}) Gecko/2010 Firefox/{i}" for i in range(40)]
    lines: list[str] = []
    size = 0
    while size < target:
        day = rng.randint(15, 21)
        ip = f"10.{rng.randint(0, 9)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        path = f"/{rng.choice('iidp')}/{rng.choice(ids)}" if rng.random() < 0.9 else "/api/v1/files"
        status = rng.choice((200, 200, 200, 206, 304, 404))
        agent = rng.choice(agents)
        if rng.random() < 0.5:
            line = (
                f'{ip} - - [{day}/Nov/2026:10:{rng.randint(10, 59)}:00 +0000] "GET {path} '
                f'HTTP/1.1" {status} 1234 "-" "{agent}"'
            )
        else:
            line = (
                f"2026-11-{day} 10:00:00,123 INFO /srv/pastefile/web/middleware.py:41 "
                f"pid=12 thread=Thread-3 (process_request) rid={rng.getrandbits(64):016x} "
                f'{ip} "GET {path}" {status} 1234 0.8ms "{agent}"'
            )
        if rng.random() < 0.001:
            line = line[: len(line) // 2]  # a torn line: counted as malformed
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def generate(path: Path, size: int) -> None:
    chunk = block(random.Random(8))
    with path.open("wb") as out:
        written = 0
        while written < size:
            out.write(chunk)
            written += len(chunk)


def timed(path: Path, processes: int) -> tuple[float, object]:
    started = time.perf_counter()
    result = analyse([str(path)], processes=processes)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2GB")
    parser.add_argument("-j", "--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="pastefile-bench-logs-") as tmp:
        path = Path(tmp) / "access.log"
        started = time.perf_counter()
        generate(path, size)
        print(
            f"generated {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - started:.1f} s"
        )
        with path.open("rb") as warm:
            while warm.read(16 * 2**20):
                pass
        one_s, one = timed(path, 1)
        many_s, many = timed(path, args.processes)
    lines = one.lines  # type: ignore[attr-defined]
    if (many.lines, many.pv, many.malformed) != (lines, one.pv, one.malformed):  # type: ignore[attr-defined]
        print("error: 1 and N processes disagree", file=sys.stderr)
        return 2
    print(f"{lines:,} lines, {one.malformed:,} malformed (skipped)")  # type: ignore[attr-defined]
    print(f"1 process : {lines / one_s:12,.0f} lines/s ({one_s:.1f} s)")
    print(f"{args.processes} processes: {lines / many_s:12,.0f} lines/s ({many_s:.1f} s)")
    print(
        f"speed-up {one_s / many_s:.2f}x with {args.processes} processes on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
