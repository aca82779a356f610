"""What each process of a soak holds over time: RSS, open fds, threads, and the
database connections the server sees.

Processes are named by their role (``node0 master``, ``node0 worker``, ``worker``,
``worker child``, ``beat``, ``nginx master``, ``nginx worker``), so a role keeps its
name when gunicorn recycles a worker; the pid is kept too, and a role whose pid
changed is reported as restarted instead of compared.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.scaleout import Cluster, rss_kib

# "Flat", after the warm-up quarter: at the end a process holds at most this many more
# open files, and the database at most this many more connections, than at the warm-up
# mark. RSS may grow by at most RSS_GROWTH_KIB.
RSS_GROWTH_KIB = 10 * 1024
FD_TOLERANCE = 8
CONNECTION_TOLERANCE = 3


@dataclass
class ProcessSample:
    pid: int
    rss_kib: int
    fds: int
    threads: int


@dataclass
class Sample:
    at: float  # seconds since the workload started
    processes: dict[str, ProcessSample]
    connections: int


def _threads(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return sorted(int(child) for child in found)


_ROOT_NAMES = {"nginx": "nginx master"}
_CHILD_NAMES = {"worker": "worker child"}


def _nginx_role(pid: int) -> str | None:
    """``nginx worker``, ``nginx cache manager``; None for the cache loader, which
    exits by design a minute after the start."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return None
    role = title.removeprefix("nginx: ").removesuffix(" process")
    return None if "loader" in role else f"nginx {role}"


def roles(cluster: Cluster) -> dict[str, int]:
    """Each role of the cluster and the pid that holds it now."""
    found: dict[str, int] = {}
    for name, proc in cluster.processes.items():
        if proc.poll() is not None:
            continue
        node = name.startswith("node")
        found[f"{name} master" if node else _ROOT_NAMES.get(name, name)] = proc.pid
        child_name = f"{name} worker" if node else _CHILD_NAMES.get(name, f"{name} child")
        for i, child in enumerate(_children(proc.pid)):
            role = _nginx_role(child) if name == "nginx" else child_name
            if role is not None:
                found[role if i == 0 or name == "nginx" else f"{role} {i + 1}"] = child
    return found


class ConnectionCounter:
    """Connections to one database as the server lists them (MariaDB's processlist)."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.engine = create_engine(admin_url, pool_size=1, max_overflow=0)
        self.database = database

    def __call__(self) -> int:
        query = text("SELECT COUNT(*) FROM information_schema.processlist WHERE DB = :db")
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"db": self.database}).scalar_one())

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Sampler:
    """Samples every ``every`` seconds on a thread, plus when asked (``take``)."""

    cluster: Cluster
    connections: Callable[[], int]
    every: float
    marks: tuple[float, ...] = ()  # extra moments to sample at (the end of the warm-up)
    samples: list[Sample] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self.started = time.monotonic()
        self.take()
        self._thread = threading.Thread(target=self._run, daemon=True, name="soak-sampler")
        self._thread.start()
        return self

    def _run(self) -> None:
        ticks = sorted({*self.marks, *(self.every * n for n in range(1, 100_000))})
        for tick in ticks:
            if self._stop.wait(max(0.0, tick - (time.monotonic() - self.started))):
                return
            self.take()

    def take(self) -> Sample:
        processes = {
            role: ProcessSample(pid, rss_kib(pid), _fds(pid), _threads(pid))
            for role, pid in roles(self.cluster).items()
        }
        sample = Sample(time.monotonic() - self.started, processes, self.connections())
        with self._lock:
            self.samples.append(sample)
        return sample

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class Growth:
    """The figures of one role at the start, the end of the warm-up and the end."""

    role: str
    start: ProcessSample | None
    warm: ProcessSample | None
    end: ProcessSample | None

    @property
    def restarted(self) -> bool:
        return self.warm is not None and self.end is not None and self.warm.pid != self.end.pid

    def problems(self) -> list[str]:
        if self.warm is None or self.end is None:
            return [f"{self.role}: not running from the warm-up to the end"]
        if self.restarted:
            return []  # a recycled worker (max_requests) starts afresh: nothing to compare
        found = []
        grown = self.end.rss_kib - self.warm.rss_kib
        if grown > RSS_GROWTH_KIB:
            found.append(f"{self.role}: RSS grew by {grown / 1024:.1f} MB after the warm-up")
        if self.end.fds > self.warm.fds + FD_TOLERANCE:
            found.append(f"{self.role}: open fds {self.warm.fds} -> {self.end.fds}")
        return found


def warm_index(samples: list[Sample], warm_up: float) -> int:
    """The first sample taken at or after the end of the warm-up."""
    return next((i for i, s in enumerate(samples) if s.at >= warm_up), len(samples) - 1)


def growth(samples: list[Sample], warm_up: float) -> list[Growth]:
    first, warm, last = samples[0], samples[warm_index(samples, warm_up)], samples[-1]
    names = sorted({role for s in samples for role in s.processes})
    return [
        Growth(r, first.processes.get(r), warm.processes.get(r), last.processes.get(r))
        for r in names
    ]


def before_recycle(samples: list[Sample], warm_up: float, role: str) -> str:
    """How much a recycled process grew from the warm-up mark until it was replaced,
    and how fast: a recycle (gunicorn's max_requests) hides growth, this shows it."""
    later = samples[warm_index(samples, warm_up) :]
    start = later[0].processes.get(role)
    if start is None:
        return f"{role}: not running at the warm-up mark"
    same = [s for s in later if (p := s.processes.get(role)) is not None and p.pid == start.pid]
    end = same[-1].processes[role]
    minutes = max(1e-9, (same[-1].at - same[0].at) / 60)
    grown = (end.rss_kib - start.rss_kib) / 1024
    return (
        f"{role}: +{grown:.1f} MB in {minutes:.1f} min after the warm-up before it was "
        f"recycled ({grown / minutes:+.2f} MB/min)"
    )


def connection_problems(samples: list[Sample], warm_up: float) -> list[str]:
    warm = samples[warm_index(samples, warm_up)].connections
    end = samples[-1].connections
    if end > warm + CONNECTION_TOLERANCE:
        return [f"database connections {warm} -> {end} after the warm-up"]
    return []


def _mb(sample: ProcessSample | None) -> str:
    return f"{sample.rss_kib / 1024:6.1f}" if sample else "     -"


def _n(sample: ProcessSample | None, attr: str) -> str:
    return str(getattr(sample, attr)) if sample else "-"


def table(samples: list[Sample], warm_up: float) -> str:
    """RSS (MB), fds and threads per process at the start, the warm-up mark and the end."""
    warm = samples[warm_index(samples, warm_up)]
    lines = [
        f"{'process':16} {'RSS MB: start':>13} {'warm':>6} {'end':>6} {'growth':>7}"
        f"   {'fds: start':>10} {'warm':>4} {'end':>4}   {'threads':>7}",
    ]
    for g in growth(samples, warm_up):
        grown = (
            "restart"
            if g.restarted
            else f"{(g.end.rss_kib - g.warm.rss_kib) / 1024:+7.1f}"
            if g.end and g.warm
            else "      -"
        )
        lines.append(
            f"{g.role:16} {_mb(g.start):>13} {_mb(g.warm):>6} {_mb(g.end):>6} {grown:>7}"
            f"   {_n(g.start, 'fds'):>10} {_n(g.warm, 'fds'):>4} {_n(g.end, 'fds'):>4}"
            f"   {_n(g.end, 'threads'):>7}"
        )
    lines.append(
        f"database connections: start {samples[0].connections}, warm-up mark "
        f"{warm.connections} (at {warm.at:.0f} s), end {samples[-1].connections}; "
        f"max {max(s.connections for s in samples)}"
    )
    return "\n".join(lines)


def series(samples: list[Sample], roles: tuple[str, ...]) -> str:
    """RSS (MB) of some processes at every sample: still rising at the end, or flat."""
    lines = []
    for role in roles:
        points = [f"{s.processes[role].rss_kib / 1024:.0f}" for s in samples if role in s.processes]
        lines.append(f"{role} RSS MB at each sample: {' '.join(points)}")
    return "\n".join(lines)
