#!/usr/bin/env python3
"""Upload and download a large file through the production server, against the raw disk.

    .venv/bin/python bench/upload_download.py              # 1 GiB, the issue's targets
    .venv/bin/python bench/upload_download.py --size 64MiB # a quick check
    .venv/bin/python bench/upload_download.py --repeat 3   # medians of three rounds

It starts ``pastefile serve --workers 1`` (gunicorn, gthread) with APP_ENV=production
and a throwaway data directory, and measures in the same run, on the same filesystem:

- raw disk write: ``os.write`` in 1 MiB blocks and ``fsync``, once before and once
  after the uploads; the uploads are compared with the mean of the two;
- ``curl -F file=@…`` (multipart ``POST /``) and ``curl -T …`` (``PUT /<name>``): curl
  streams from the file and never holds it; each upload has new content (its first
  bytes change), so dedup cannot skip the write; the reply's sha256 is checked against
  ``sha256sum`` of the file, which is timed as the hashing reference;
- raw read (1 MiB ``readinto``) and ``GET /i/<id>`` (``curl -o /dev/null``), first with
  the page cache cold for both files (evicted with ``posix_fadvise(DONTNEED)``, checked
  with ``fincore``), then warm (just read); each download is compared with the raw
  read in the same cache state. The targets are judged cold, against the disk: warm,
  the raw read is a memory copy that no TCP transfer approaches. A bare ``sendfile``
  server on the same loopback, with the same client, shows the transport's ceiling;
- the stored bytes, downloaded again through ``curl | sha256sum``;
- under concurrency: ``--concurrent`` (8) clients each ``PUT`` a ``--concurrent-size``
  (100 MB) file at once; their aggregate throughput (all bytes over the wall time
  from the first start to the last reply) against the raw write of the same total
  (the median of two samples before and two after), and every server process's RSS.

The server's memory: every process's high-water mark (VmHWM, reset at the start of
each phase through /proc/<pid>/clear_refs), its RSS when the phase started, and the
whole tree's RSS sampled every 10 ms. MB are 10^6 bytes (100 MB = 95.4 MiB).
The exit status is 0 when every target passes, 1 when one fails, 2 on an error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mmap
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

MB = 1_000_000
MiB = 1024 * 1024
BLOCK = MiB
PASTEFILE = Path(sys.executable).parent / "pastefile"

TARGET_RSS = 100 * MB
TARGET_UPLOAD = 0.50  # of the raw disk write
TARGET_DOWNLOAD = 0.70  # of the raw read, same cache state
TARGET_CONCURRENT = 0.50  # aggregate, of the raw write of the same total
TARGET_FLAT = 10 * MB  # the most a process may grow over idle during uploads


# --------------------------------------------------------------------------- helpers


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 64MiB, 1GiB)")
    number, unit, binary = match.groups()
    base = 1024 if binary or not unit else 1000
    return int(float(number) * base ** " KMGT".index(unit.upper() or " "))


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def mbps(size: int, seconds: float) -> float:
    return size / seconds / MB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def evict(path: Path) -> None:
    """Drop one file's pages from the page cache (never the global drop_caches)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_fraction(path: Path) -> float | None:
    """How much of the file is in the page cache, from util-linux ``fincore``."""
    if shutil.which("fincore") is None:
        return None
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        res, size = (int(x) for x in out.stdout.split())
    except ValueError:
        return None
    return res / size if size else 1.0


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, check=True, **kwargs)


def check(ok: bool, message: str) -> None:
    if not ok:
        raise RuntimeError(message)


# --------------------------------------------------------------------------- the raw disk


def pretouch(nbytes: int) -> None:
    """Write to ``nbytes`` of fresh anonymous memory once, then free it.

    Some VMs (this one among them) back guest memory lazily: the first write
    to a page costs a fault on the host, several times the cost of the copy.
    Whichever measurement first spills the page cache into such pages was
    slowed by it, at random; afterwards the kernel reuses the touched pages.
    """
    with mmap.mmap(-1, nbytes) as memory:
        for offset in range(0, nbytes, mmap.PAGESIZE):
            memory[offset] = 1


def memory_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def generate(path: Path, size: int) -> None:
    """os.urandom in 1 MiB blocks: incompressible, no two blocks alike."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        left = size
        while left:
            n = min(BLOCK, left)
            os.write(fd, os.urandom(n))
            left -= n
    finally:
        os.close(fd)


def mutate(path: Path) -> None:
    """New content for the next upload, so dedup cannot make it a no-op.

    The fixed start keeps libmagic's verdict on random bytes from landing on a
    denied type (an executable) by chance.
    """
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, b"pastefile bench " + os.urandom(48), 0)
    finally:
        os.close(fd)


def raw_write(path: Path, size: int) -> float:
    pool = memoryview(os.urandom(16 * MiB))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        started = time.perf_counter()
        done = 0
        while done < size:
            start = done % len(pool)
            n = min(BLOCK, size - done, len(pool) - start)
            done += os.write(fd, pool[start : start + n])
        os.fsync(fd)
        return time.perf_counter() - started
    finally:
        os.close(fd)


def raw_read(path: Path) -> float:
    buf = bytearray(BLOCK)
    with open(path, "rb", buffering=0) as f:
        started = time.perf_counter()
        while f.readinto(buf):
            pass
        return time.perf_counter() - started


def sha256sum(path: Path) -> tuple[str, float]:
    started = time.perf_counter()
    out = run(["sha256sum", str(path)])
    return out.stdout.split()[0], time.perf_counter() - started


# --------------------------------------------------------------------------- the server


class Server:
    def __init__(self, work: Path, size: int, workers: int = 1) -> None:
        # ``size`` is the largest upload the bench sends.
        self.workers_count = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = work / "data"
        self.log_path = work / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
        env.update(
            APP_ENV="production",
            PASTEFILE_SECRET_KEY=secrets.token_urlsafe(32),
            PASTEFILE_DATA_DIR=str(self.data),
            PASTEFILE_MAX_UPLOAD_SIZE=str(size + 64 * MiB),
            PASTEFILE_LOG_LEVEL="WARNING",
        )
        self.env = env
        self.cwd = work  # so no .env of the checkout is read
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [str(PASTEFILE), "serve", "--workers", str(self.workers_count)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*cmd, "--port", str(self.port)],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: we stop it ourselves
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited")
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(self.url + "/", timeout=2) as reply,
            ):
                if reply.status == 200 and self.workers():
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not answer within 60 s")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # the session leader: its group is the one we created
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def arbiter(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def workers(self) -> list[int]:
        return _children(self.arbiter())

    def tree(self) -> list[int]:
        return [self.arbiter(), *self.workers()]

    def blob_path(self, sha256: str) -> Path:
        return self.data / "files" / "objects" / sha256[:2] / sha256[2:4] / sha256

    def delete(self, public_id: str) -> None:
        run([str(PASTEFILE), "delete", public_id], env=self.env, cwd=self.cwd)


def _children(pid: int) -> list[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                found.update(
                    int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                )
    return sorted(found)


def _status_bytes(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


class BareSendfileServer:
    """The transport's ceiling: HTTP/1.1 headers, then one ``socket.sendfile``."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.path: Path | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                assert self.path is not None
                with open(self.path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size
                    )
                    conn.sendfile(f)

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------- memory


@dataclass
class PhaseMemory:
    start: dict[int, int] = field(default_factory=dict)  # pid -> VmRSS when the phase began
    hwm: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM when it ended
    tree: int = 0  # the largest sampled sum of VmRSS over the tree
    hwm_reset: bool = True


class MemorySampler:
    def __init__(self, server: Server, interval: float = 0.01) -> None:
        self.server = server
        self.interval = interval
        self.phase: PhaseMemory | None = None
        self.roles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            phase = self.phase
            if phase is not None:
                rss = (_status_bytes(pid, "VmRSS") for pid in self.server.tree())
                phase.tree = max(phase.tree, sum(x for x in rss if x is not None))

    @contextlib.contextmanager
    def measure(self) -> Iterator[PhaseMemory]:
        phase = PhaseMemory()
        for pid in self.server.tree():
            self.roles.setdefault(pid, "arbiter" if pid == self.server.arbiter() else "worker")
            phase.start[pid] = _status_bytes(pid, "VmRSS") or 0
            try:  # "5" resets the peak RSS to the current RSS (proc(5))
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                phase.hwm_reset = False
        self.phase = phase
        try:
            yield phase
        finally:
            time.sleep(2 * self.interval)
            self.phase = None
            for pid in self.server.tree():
                self.roles.setdefault(pid, "worker")
                phase.hwm[pid] = _status_bytes(pid, "VmHWM") or 0


# --------------------------------------------------------------------------- HTTP, with curl


CURL = [
    "curl",
    "--silent",
    "--show-error",
    "--fail-with-body",
    "--max-time",
    "3600",
    "-H",
    "Expect:",
]


def curl_timed(args: list[str]) -> tuple[str, float]:
    started = time.perf_counter()
    out = run([*CURL, *args])
    return out.stdout, time.perf_counter() - started


def upload_multipart(server: Server, src: Path) -> tuple[dict[str, Any], float]:
    form = f"file=@{src};filename=bench-multipart.bin;type=application/octet-stream"
    body, seconds = curl_timed(["-H", "Accept: application/json", "-F", form, server.url + "/"])
    return json.loads(body), seconds


def upload_put(server: Server, src: Path) -> tuple[dict[str, Any], float]:
    body, seconds = curl_timed(["-T", str(src), server.url + "/bench-put.bin"])
    public_id = body.strip().rsplit("/", 1)[-1]
    request = urllib.request.Request(
        f"{server.url}/p/{public_id}", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read()), seconds


def download(url: str, size: int) -> float:
    out, seconds = curl_timed(["-o", "/dev/null", "-w", "%{size_download}", url])
    check(int(out) == size, f"GET {url}: {out} bytes, not {size}")
    return seconds


def download_sha256(url: str) -> tuple[str, float]:
    """curl | sha256sum: checks what came back, without holding it."""
    started = time.perf_counter()
    fetch = subprocess.Popen([*CURL, url], stdout=subprocess.PIPE)
    assert fetch.stdout is not None
    try:
        digest = run(["sha256sum"], stdin=fetch.stdout).stdout.split()[0]
    finally:
        fetch.stdout.close()
        check(fetch.wait() == 0, f"GET {url} failed")
    return digest, time.perf_counter() - started


# --------------------------------------------------------------------------- one round


@dataclass
class Round:
    seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, float | None] = field(default_factory=dict)
    memory: dict[str, PhaseMemory] = field(default_factory=dict)


@dataclass
class Concurrent:
    clients: int
    size: int
    seconds: float
    raw_write: float  # the median of the samples, for the same total
    memory: PhaseMemory
    raw_samples: list[float] = field(default_factory=list)

    def ratio(self) -> float:
        return self.raw_write / self.seconds


@dataclass
class Bench:
    server: Server
    sampler: MemorySampler
    bare: BareSendfileServer
    work: Path
    src: Path
    size: int

    def warm_up(self) -> None:
        """One small upload of each kind first, so the rounds measure a worker past its
        first-use set-up (lazy imports, libmagic's database), as in a running service."""
        small = self.work / "warm-up.bin"
        small.write_bytes(b"pastefile bench warm-up " + os.urandom(256 * 1024))
        for send in (upload_multipart, upload_put):
            mutate(small)
            reply, _seconds = send(self.server, small)
            self.server.delete(reply["id"])
        small.unlink()

    def round(self) -> Round:
        r = Round()
        ref = self.work / "raw.bin"
        r.seconds["raw write, before"] = raw_write(ref, self.size)
        uploaded = self.uploads(r)
        after = self.work / "raw-after.bin"
        r.seconds["raw write, after"] = raw_write(after, self.size)
        after.unlink()
        r.seconds["raw write"] = (
            r.seconds["raw write, before"] + r.seconds["raw write, after"]
        ) / 2
        self.downloads(r, ref, uploaded)
        ref.unlink()
        for public_id, _sha in uploaded.values():
            self.server.delete(public_id)
        return r

    def uploads(self, r: Round) -> dict[str, tuple[str, str]]:
        uploaded: dict[str, tuple[str, str]] = {}  # label -> (public id, sha256)
        for label, send in (("upload multipart", upload_multipart), ("upload PUT", upload_put)):
            mutate(self.src)
            expected, r.seconds[f"sha256sum, {label}"] = sha256sum(self.src)
            with self.sampler.measure() as r.memory[label]:
                reply, r.seconds[label] = send(self.server, self.src)
            check(reply.get("sha256") == expected, f"{label}: sha256 {reply.get('sha256')}")
            check(reply.get("bytes") == self.size, f"{label}: {reply.get('bytes')} bytes stored")
            uploaded[label] = (reply["id"], expected)
        return uploaded

    def concurrent(self, clients: int, size: int) -> Concurrent:
        """``clients`` PUTs of ``size`` bytes at once, against the raw write of the total."""
        sources = [self.work / f"concurrent-{n}.bin" for n in range(clients)]
        for src in sources:
            generate(src, size)
            mutate(src)
        expected = [sha256sum(src)[0] for src in sources]
        ref = self.work / "raw-concurrent.bin"
        # This VM's fsync'd writes swing several-fold from one second to the next:
        # two samples before the uploads and two after, and their median.
        raw = [raw_write(ref, clients * size) for _ in range(2)]
        with (
            self.sampler.measure() as memory,
            ThreadPoolExecutor(clients) as pool,
        ):
            started = time.perf_counter()
            replies = list(pool.map(lambda src: upload_put(self.server, src)[0], sources))
            seconds = time.perf_counter() - started
        raw += [raw_write(ref, clients * size) for _ in range(2)]
        ref.unlink()
        for reply, sha, src in zip(replies, expected, sources, strict=True):
            check(reply.get("sha256") == sha, f"a concurrent upload stored {reply.get('sha256')}")
            self.server.delete(reply["id"])
            src.unlink()
        return Concurrent(clients, size, seconds, statistics.median(raw), memory, raw)

    def downloads(self, r: Round, ref: Path, uploaded: dict[str, tuple[str, str]]) -> None:
        public_id, sha = uploaded["upload multipart"]
        blob = self.server.blob_path(sha)
        check(blob.exists(), f"no stored blob at {blob}")
        url = f"{self.server.url}/i/{public_id}"
        self.bare.path = blob
        with self.sampler.measure() as r.memory["download"]:
            for state in ("cold", "warm"):
                for key, path, fn in (
                    (f"raw read, {state}", ref, partial(raw_read, ref)),
                    (f"download, {state}", blob, partial(download, url, self.size)),
                    (f"bare sendfile, {state}", blob, partial(download, self.bare.url, self.size)),
                ):
                    if state == "cold":
                        evict(path)
                    r.cached[key] = cached_fraction(path)
                    r.seconds[key] = fn()
            for label, (pid, expected) in uploaded.items():
                got, r.seconds[f"download | sha256sum, {label}"] = download_sha256(
                    f"{self.server.url}/i/{pid}"
                )
                check(got == expected, f"the {label} came back as {got}, not {expected}")


# --------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Report:
    rounds: list[Round]
    size: int
    roles: dict[int, str]
    ok: bool = True

    def speed(self, key: str) -> float:
        return statistics.median(mbps(self.size, r.seconds[key]) for r in self.rounds)

    def ratio(self, key: str, ref: str) -> float:
        # Each round's ratio uses the reference measured in that round.
        return statistics.median(r.seconds[ref] / r.seconds[key] for r in self.rounds)

    def cache(self, key: str) -> str:
        values = [r.cached.get(key) for r in self.rounds]
        if not values or any(v is None for v in values):
            return ""
        return f"{100 * max(v for v in values if v is not None):.0f}% cached"

    def row(self, key: str, ratio: str = "", target: str = "", result: str = "") -> None:
        cells = f"{self.speed(key):>8.0f} {ratio:>17} {target:>7}  {result:<6}"
        print(f"{key:<38} {cells} {self.cache(key)}")

    def judged(self, key: str, ref: str, target: float, what: str, judge: bool = True) -> None:
        value = self.ratio(key, ref)
        good = value >= target
        self.ok &= good or not judge
        result = verdict(good) if judge else "(info)"
        self.row(key, f"{value:.0%} of {what}", f">={target:.0%}", result)

    def speeds(self) -> None:
        print(f"{'measure':<38} {'MB/s':>8} {'ratio':>17} {'target':>7}  result page cache")
        print("-" * 96)
        for key in ("raw write, before", "raw write, after", "raw write"):
            self.row(key)
        sha = [
            mbps(self.size, s)
            for r in self.rounds
            for k, s in r.seconds.items()
            if k.startswith("sha256sum")
        ]
        print(f"{'sha256sum (hashing reference)':<38} {statistics.median(sha):>8.0f}")
        self.judged("upload multipart", "raw write", TARGET_UPLOAD, "write")
        self.judged("upload PUT", "raw write", TARGET_UPLOAD, "write")
        for state in ("cold", "warm"):
            self.row(f"raw read, {state}")
            self.judged(
                f"download, {state}", f"raw read, {state}", TARGET_DOWNLOAD, "read", state == "cold"
            )
            self.judged(
                f"bare sendfile, {state}", f"raw read, {state}", TARGET_DOWNLOAD, "read", False
            )
        for key in self.rounds[0].seconds:
            if key.startswith("download | sha256sum"):
                self.row(key, "(bytes checked)")

    def memory(self) -> None:
        print("server memory per round: peak RSS in the phase (VmHWM, reset when it began)")
        print("and, in brackets, the RSS when it began")
        phases = list(self.rounds[0].memory)
        print(f"{'process':<24}" + "".join(f"{p:>26}" for p in phases))
        worst = growth = 0
        for n, r in enumerate(self.rounds, 1):
            for pid in sorted({pid for m in r.memory.values() for pid in m.hwm}):
                cells = []
                for phase in phases:
                    peak, start = r.memory[phase].hwm.get(pid, 0), r.memory[phase].start.get(pid, 0)
                    if phase.startswith("upload"):
                        worst = max(worst, peak)
                        growth = max(growth, peak - start)
                    cells.append(f"{peak / MB:>12.1f} MB [{start / MB:5.1f} MB]")
                name = f"{self.roles.get(pid, '?')} {pid} r{n}"
                print(f"{name:<24}" + "".join(cells))
            tree = "".join(f"{r.memory[p].tree / MB:>12.1f} MB {'':>9}" for p in phases)
            print(f"{f'whole tree r{n} (sampled)':<24}{tree}")
        if not all(m.hwm_reset for r in self.rounds for m in r.memory.values()):
            print("  (VmHWM could not be reset: peaks count from each process's start)")
        good = worst < TARGET_RSS
        self.ok &= good
        print(f"largest peak of one process in an upload: {worst / MB:.1f} MB, target < 100 MB:")
        print(f"  {verdict(good)}; the most an upload added to its process: {growth / MB:.1f} MB")


def report_concurrent(run: Concurrent, roles: dict[int, str]) -> bool:
    total = run.clients * run.size
    ratio = run.ratio()
    fast = ratio >= TARGET_CONCURRENT
    print(
        f"{run.clients} concurrent PUTs of {human(run.size)}: {mbps(total, run.seconds):.0f} MB/s "
        f"aggregate, raw write of the same {human(total)}: {mbps(total, run.raw_write):.0f} MB/s"
    )
    samples = ", ".join(f"{mbps(total, s):.0f}" for s in run.raw_samples)
    print(
        f"  raw write samples (MB/s; two before, two after; the median is the reference): {samples}"
    )
    print(f"  ratio {ratio:.0%} (target >= {TARGET_CONCURRENT:.0%}): {verdict(fast)}")
    flat = True
    for pid, peak in sorted(run.memory.hwm.items()):
        start = run.memory.start.get(pid, 0)
        good = peak - start <= TARGET_FLAT
        flat &= good
        print(
            f"  {roles.get(pid, '?')} {pid}: RSS {start / MB:.1f} MB before, "
            f"peak {peak / MB:.1f} MB"
            f" ({(peak - start) / MB:+.1f} MB, flat within 10 MB: {verdict(good)})"
        )
    return fast and flat


def describe(work: Path, size: int, repeat: int, pretouched: int) -> list[str]:
    df = subprocess.run(
        ["df", "--output=source,fstype,target", str(work)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"pastefile upload/download benchmark: {human(size)}, {repeat} round(s)"
        + (", medians" if repeat > 1 else ""),
        f"  filesystem {' '.join(df[-1].split()) if df else '?'}, work dir {work}",
        f"  {os.cpu_count()} CPUs, load average {load} at the end",
        "  server: pastefile serve --workers N (gunicorn gthread, 8 threads), APP_ENV=production",
        "  clients: curl -F / curl -T streaming from the file; curl -o /dev/null to download",
        "  raw write: os.write 1 MiB + fsync, before and after the uploads; reference: the mean",
        f"  memory pre-touched first: {human(pretouched)} (written once, see pretouch())",
        "  raw read: 1 MiB readinto. cold = evicted with posix_fadvise(DONTNEED) just before,",
        "  warm = read just before; each download is compared with the raw read in the same state.",
        "  Download targets are judged cold (against the disk); warm rows are information: the",
        "  raw read is then a memory copy; 'bare sendfile' is the most a server gets on loopback.",
    ]


# --------------------------------------------------------------------------- main


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="default 1GiB")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; figures are medians")
    parser.add_argument(
        "--tmpdir", type=Path, default=None, help="work dir parent (default: TMPDIR)"
    )
    parser.add_argument(
        "--no-pretouch",
        dest="pretouch",
        action="store_false",
        help="skip writing to 6x --size of memory first (see pretouch())",
    )
    parser.add_argument("--concurrent", type=int, default=8, help="clients at once; 0: skip")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument(
        "--concurrent-size", type=parse_size, default=parse_size("100MB"), help="default 100MB"
    )
    args = parser.parse_args(argv)
    if args.size < BLOCK or args.repeat < 1:
        parser.error("--size must be at least 1 MiB and --repeat at least 1")
    for tool in ("curl", "sha256sum"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="pastefile-bench-", dir=args.tmpdir))
    server: Server | None = None
    sampler: MemorySampler | None = None
    bare: BareSendfileServer | None = None
    signal.signal(signal.SIGTERM, _interrupt)  # clean up as on Ctrl-C
    try:
        free = shutil.disk_usage(work).free
        check(free > 6 * args.size, f"{human(free)} free in {work}; need {human(6 * args.size)}")
        src = work / "source.bin"
        touch = min(6 * args.size, memory_available() // 2) // MiB * MiB if args.pretouch else 0
        if touch:
            step(f"pre-touching {human(touch)} of memory", pretouch, touch)
        step(f"generating {human(args.size)} of random data", generate, src, args.size)
        server = Server(work, max(args.size, args.concurrent_size), args.workers)
        step(f"starting the server on {server.url}", server.start)
        check(os.stat(server.data).st_dev == os.stat(work).st_dev, "the data dir is on another fs")
        sampler = MemorySampler(server)
        bare = BareSendfileServer()
        bench = Bench(server, sampler, bare, work, src, args.size)
        step("warming the server up with two small uploads", bench.warm_up)
        rounds = [step(f"round {n + 1}/{args.repeat}", bench.round) for n in range(args.repeat)]
        together = None
        if args.concurrent:
            together = step(
                f"{args.concurrent} concurrent uploads",
                bench.concurrent,
                args.concurrent,
                args.concurrent_size,
            )
        report = Report(rounds, args.size, sampler.roles)
        print("\n" + "\n".join(describe(work, args.size, args.repeat, touch)) + "\n")
        report.speeds()
        print()
        report.memory()
        if together is not None:
            print()
            report.ok &= report_concurrent(together, sampler.roles)
        print(f"\noverall: {verdict(report.ok)}")
        return 0 if report.ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = ""
        if isinstance(exc, subprocess.CalledProcessError):
            detail = f"{exc.stdout or ''}\n{exc.stderr or ''}".strip()
        print(f"\nbenchmark failed: {exc}\n{detail}", file=sys.stderr)
        if server is not None:
            print(f"server log (tail):\n{server.log_tail()}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for closing in (sampler and sampler.stop, bare and bare.close, server and server.stop):
            if closing:
                closing()
        shutil.rmtree(work, ignore_errors=True)


def step(message: str, fn: Callable[..., Any], *args: Any) -> Any:
    print(f"  {message} …", end="", flush=True, file=sys.stderr)
    started = time.perf_counter()
    result = fn(*args)
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return result


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
