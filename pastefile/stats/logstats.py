"""Access-log analysis: PV/UV per route and per file, as a multiprocessing map-reduce.

Reads our own access log (pastefile/web/middleware.py through logging_setup.FORMAT) and
nginx's ``combined`` format, plain or ``.gz``/``.bz2``. Plain files are split into small
byte ranges aligned to line boundaries; compressed ones are one streamed task each and
go first, largest first. ``imap_unordered`` hands the next task to whichever process is
free, so none idles while another straggles. Malformed lines are counted and skipped.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 8 * 1024 * 1024

# 2026-11-21 08:47:52,123 INFO …/middleware.py:41 pid=1 thread=T rid=R IP "GET /i/x" 200 5 1ms "UA"
OURS = re.compile(
    rb"^(\d{4}-\d\d-\d\d) [\d:,.]+ [A-Z]+ \S+ pid=\d+ thread=.*? rid=\S+ "
    rb'(\S+) "([A-Z]+) ([^ "]+)" (\d{3}) \S+ [\d.]+ms "(.*)"$'
)
# 1.2.3.4 - - [21/Nov/2026:08:47:52 +0000] "GET /i/x HTTP/1.1" 200 5 "ref" "UA"
NGINX = re.compile(
    rb"^(\S+) \S+ \S+ \[(\d\d)/([A-Z][a-z]{2})/(\d{4}):[^\]]+\] "
    rb'"([A-Z]+) ([^ "]+)[^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"'
)
MONTHS = {
    m.encode(): f"{i:02d}".encode()
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
FILE_ROUTES = (b"/i/", b"/d/", b"/p/")


@dataclass
class Partial:
    """One task's counts; ``merge`` is the reduce step."""

    lines: int = 0
    malformed: int = 0
    outside: int = 0
    pv: Counter[tuple[str, bytes]] = field(default_factory=Counter)
    uv: dict[tuple[str, bytes], set[bytes]] = field(default_factory=dict)

    def merge(self, other: Partial) -> None:
        self.lines += other.lines
        self.malformed += other.malformed
        self.outside += other.outside
        self.pv.update(other.pv)
        for key, visitors in other.uv.items():
            mine = self.uv.get(key)
            if mine is None:
                self.uv[key] = visitors
            else:
                mine |= visitors


@dataclass(frozen=True)
class Task:
    path: str
    start: int = 0
    end: int = -1  # -1: the whole (compressed) file, streamed


def parse(line: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes] | None:
    """(day YYYY-MM-DD, ip, path, status, user agent), or None when malformed."""
    m = OURS.match(line)
    if m is not None:
        return m.group(1), m.group(2), m.group(4), m.group(5), m.group(6)
    m = NGINX.match(line)
    if m is None or m.group(3) not in MONTHS:
        return None
    day = m.group(4) + b"-" + MONTHS[m.group(3)] + b"-" + m.group(2)
    return day, m.group(1), m.group(6), m.group(7), m.group(8)


def route_of(path: bytes) -> tuple[bytes, bytes | None]:
    """The route (``/i/``, ``/api/v1/files``, ``/``…) and, for file routes, the file id."""
    path = path.split(b"?", 1)[0]
    for prefix in FILE_ROUTES:
        if path.startswith(prefix):
            ident = path[3:].split(b"/", 1)[0].split(b".", 1)[0]
            return prefix, ident or None
    if path.startswith(b"/api/"):
        return b"/".join(path.split(b"/")[:4]), None
    head = path.split(b"/", 2)[1] if path.count(b"/") else b""
    return b"/" + head, None


def count_lines(lines: Iterable[bytes], since: bytes, until: bytes) -> Partial:
    out = Partial()
    pv, uv = out.pv, out.uv
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        out.lines += 1
        record = parse(line)
        if record is None:
            out.malformed += 1
            continue
        day, ip, path, status, agent = record
        if day < since or day > until:
            out.outside += 1
            continue
        if status[:1] not in (b"2", b"3"):
            continue
        visitor = ip + b"\x00" + agent
        route, ident = route_of(path)
        for key in (("route", route), ("file", ident)):
            if key[1] is None:
                continue
            pv[key] += 1  # type: ignore[index]
            uv.setdefault(key, set()).add(visitor)  # type: ignore[arg-type]
    return out


def read_range(handle: BinaryIO, start: int, end: int) -> bytes:
    """The lines that start in [start, end): a line crossing ``end`` belongs here."""
    handle.seek(start)
    data = handle.read(end - start)
    if data and not data.endswith(b"\n"):
        data += handle.readline()
    if start > 0:
        handle.seek(start - 1)
        if handle.read(1) != b"\n":
            newline = data.find(b"\n")
            data = data[newline + 1 :] if newline >= 0 else b""
    return data


def _open_compressed(path: str) -> BinaryIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return bz2.open(path, "rb")  # type: ignore[return-value]


def run_task(job: tuple[Task, bytes, bytes]) -> Partial:
    """The map step, in a worker process."""
    task, since, until = job
    if task.end < 0:
        with _open_compressed(task.path) as stream:
            return count_lines(stream, since, until)
    with open(task.path, "rb") as handle:
        return count_lines(read_range(handle, task.start, task.end).splitlines(), since, until)


def plan(paths: Iterable[str], chunk: int = CHUNK_BYTES) -> list[Task]:
    """Compressed files first (largest first: they cannot be split), then byte ranges."""
    compressed = sorted(
        (p for p in paths if p.endswith((".gz", ".bz2"))), key=lambda p: -os.path.getsize(p)
    )
    tasks = [Task(p) for p in compressed]
    for p in paths:
        if p in compressed:
            continue
        size = os.path.getsize(p)
        tasks += [Task(p, s, min(s + chunk, size)) for s in range(0, size, chunk)]
    return tasks


def analyse(
    paths: list[str],
    since: str = "0000-00-00",
    until: str = "9999-99-99",
    processes: int | None = None,
    chunk: int = CHUNK_BYTES,
) -> Partial:
    """Map over the planned tasks in ``processes`` workers (1: in this process), reduce."""
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(path)
    jobs = [(t, since.encode(), until.encode()) for t in plan(paths, chunk)]
    total = Partial()
    for part in _mapped(jobs, processes or os.cpu_count() or 1):
        total.merge(part)
    return total


def _mapped(jobs: list[tuple[Task, bytes, bytes]], processes: int) -> Iterator[Partial]:
    if processes <= 1 or len(jobs) <= 1:
        yield from map(run_task, jobs)
        return
    with get_context("fork").Pool(processes) as pool:
        yield from pool.imap_unordered(run_task, jobs, chunksize=1)


def table(result: Partial, kind: str, top: int) -> list[tuple[str, int, int]]:
    rows = [
        (key.decode("utf-8", "replace"), n, len(result.uv.get((k, key), ())))
        for (k, key), n in result.pv.items()
        if k == kind
    ]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows[:top]
