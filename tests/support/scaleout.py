"""A scaled-out pastefile on this machine: nginx, app nodes, a Celery worker, shared servers.

Used by the system tests under tests/system/deploy/ and by bench/serve.py.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.deploy import (
    CELERY_PASTEFILE,
    ROOT,
    NginxPaths,
    start_gunicorn,
    start_nginx,
    stop,
)
from tests.support.servers import free_port, port_open, wait_until

REDIS_URL = os.environ.get("PASTEFILE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_URL = os.environ.get("PASTEFILE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def node_env(root: Path, database_url: str, **extra: str) -> dict[str, str]:
    """A production node's environment: no inherited PASTEFILE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASTEFILE_", "APP_ENV"))}
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY="scale-out-test-secret-0123456789",
        PASTEFILE_DATA_DIR=str(root / "var"),
        PASTEFILE_DATABASE_URL=database_url,
        PASTEFILE_STORAGE_URL=f"file://{root / 'files'}",
        PASTEFILE_REDIS_URL=REDIS_URL,
        PASTEFILE_CACHE_PREFIX=f"t{uuid.uuid4().hex[:8]}",
        PASTEFILE_BROKER_URL=BROKER_URL,
        PASTEFILE_JOB_QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}.",
        PASTEFILE_ACCEL_REDIRECT_PREFIX="/_protected",
        PASTEFILE_TRUSTED_PROXIES="1",
        PASTEFILE_LOG_LEVEL="INFO",
        PASTEFILE_UPLOAD_JOBS="probe,thumbnail",
    )
    env.update(extra)
    return env


@dataclass
class Cluster:
    """nginx on ``port`` in front of app nodes on ``node_ports``, one Celery worker and,
    when asked, Celery beat."""

    root: Path
    env: dict[str, str]
    nodes: int = 2
    port: int = field(default_factory=free_port)
    node_ports: list[int] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, worker: bool = True, workers_per_node: int = 1, beat: bool = False) -> Cluster:
        self.node_ports = [free_port() for _ in range(self.nodes)]
        for i, port in enumerate(self.node_ports):
            env = {**self.env, "PASTEFILE_LOG_DIR": str(self.log_dir(i))}
            self.log_dir(i).mkdir(parents=True, exist_ok=True)
            self.processes[f"node{i}"] = start_gunicorn(
                env, f"127.0.0.1:{port}", workers_per_node, log=self.root / f"node{i}.out"
            )
        if worker:
            self.processes["worker"] = _start_worker(self.env, self.root / "worker.out")
        if beat:
            self.processes["beat"] = _start_pastefile(
                ["beat", "--loglevel", "WARNING"], self.env, self.root / "beat.out"
            )
        paths = NginxPaths(
            root=self.root / "nginx",
            port=self.port,
            upstreams=[f"127.0.0.1:{p}" for p in self.node_ports],
            objects=Path(self.env["PASTEFILE_STORAGE_URL"].removeprefix("file://")) / "objects",
        )
        self.processes["nginx"] = start_nginx(paths)
        for port in [*self.node_ports, self.port]:
            wait_until(lambda port=port: port_open(port), timeout=60)  # type: ignore[misc]
        return self

    def log_dir(self, node: int) -> Path:
        return self.root / f"logs{node}"

    def access_log(self, node: int) -> str:
        path = self.log_dir(node) / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        stop(self.processes.values())

    def pids(self) -> list[int]:
        """Every process of the cluster: the ones started and all their children."""
        return list(descendants(p.pid for p in self.processes.values() if p.poll() is None))


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start_pastefile(["worker", "--concurrency", "1", "--loglevel", "WARNING"], env, log)


def _start_pastefile(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [CELERY_PASTEFILE, *args],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=out,
    )


def descendants(roots: Iterable[int]) -> set[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(parents.get(pid, []))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """The highest RSS each process reached while it ran (sampled every 50 ms)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.peak: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for pid in self.cluster.pids():
                rss = rss_kib(pid)
                if rss > self.peak.get(pid, 0):
                    self.peak[pid] = rss
                    self.names.setdefault(pid, _cmdline(pid))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    except OSError:
        return "?"


def stream_put(port: int, path: str, size: int, block: bytes) -> tuple[int, bytes]:
    """PUT ``size`` bytes (``block`` repeated) without holding them in memory."""

    def body() -> Iterator[bytes]:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            yield piece

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("PUT", path, body=body(), headers={"Content-Length": str(size)})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def stale_for(fresh: Callable[[], bool], timeout: float) -> float:
    """How long after now a check could still begin and see the old state: the start of the
    last check that failed (0 when the first passed). A check's own latency is the client's,
    not the system's delay, so it is not counted. Raises after ``timeout``."""
    started = time.monotonic()
    last_stale = 0.0
    while True:
        asked = time.monotonic() - started
        if fresh():
            return last_stale
        last_stale = asked
        if asked > timeout:
            raise AssertionError(f"still stale after {timeout}s")
        time.sleep(0.01)


def until(check: object, timeout: float) -> float:
    """Seconds until ``check()`` is true; raises after ``timeout``."""
    started = time.monotonic()
    wait_until(check, timeout=timeout)  # type: ignore[arg-type]
    return time.monotonic() - started
