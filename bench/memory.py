#!/usr/bin/env python3
"""How much memory each pastefile process holds, against a bare reference in the same run.

    .venv/bin/python bench/memory.py                       # idle processes and 1 GiB uploads
    .venv/bin/python bench/memory.py --upload-size 64MiB   # a quick check
    .venv/bin/python bench/memory.py --no-uploads          # idle processes only

In one run, on this machine, it measures (RSS from /proc/<pid>/status, MB = 10^6 bytes):

- a bare Python that imports Flask only, the floor of any Flask process;
- an idle web worker: a bare Flask "hello" on gunicorn (one worker, pastefile's worker
  class) against ``pastefile serve --workers 1`` in production (SQLite, local disk),
  each after 200 requests (``/healthz`` for pastefile), then 3 s of rest;
- an idle Celery worker: a bare Celery app (one task, the same options: one child,
  RabbitMQ) against ``pastefile worker --concurrency 1`` on the same broker; the main
  process and its pool child each;
- with ``--upload-size`` (1 GiB by default): the web worker's peak RSS (VmHWM, reset
  through /proc/<pid>/clear_refs) during a ``PUT /<name>``, a multipart ``POST /`` and a
  tus upload (one ``PATCH`` with the whole body), against its RSS before each.

Targets (issue 15): idle web worker <= 70 MB, idle Celery worker <= 80 MB (every
process), an upload's peak within 10 MB of the idle worker. Exit status 0 when every
target passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

MB = 1_000_000
MiB = 1024 * 1024
BROKER = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
WORKER_CLASS = "pastefile.gunicorn_worker.GuardedThreadWorker"
TARGET_WEB = 70 * MB
TARGET_CELERY = 80 * MB
TARGET_UPLOAD_GROWTH = 10 * MB
BARE_FLASK = """
from flask import Flask

app = Flask("bare")


@app.get("/")
def hello():
    return "hello"
"""
BARE_CELERY = """
from celery import Celery

app = Celery("bare", broker={broker!r}, set_as_current=False)
app.conf.update(task_serializer="json", accept_content=["json"], task_acks_late=True,
                worker_prefetch_multiplier=1, worker_hijack_root_logger=False)


@app.task(name="bare.add")
def add(a, b):
    return a + b
"""


def status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            found.update(
                int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            )
    return sorted(found)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (proc(5))


@contextlib.contextmanager
def process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def base_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY=secrets.token_urlsafe(32),
        PASTEFILE_DATA_DIR=str(work / "data"),
        PASTEFILE_LOG_LEVEL="WARNING",
        PASTEFILE_MAX_UPLOAD_SIZE=str(4 * 1024 * MiB),
        # The bare apps' modules; an outer PYTHONPATH (another checkout to compare) stays.
        PYTHONPATH=os.pathsep.join(filter(None, [str(work), os.environ.get("PYTHONPATH")])),
    )
    return env


# --------------------------------------------------------------------------- references


def flask_import() -> int:
    code = (
        "import flask, os;"
        "print(int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


def hit(url: str, times: int) -> None:
    for _ in range(times):
        with urllib.request.urlopen(url, timeout=10) as reply:
            reply.read()


def idle_web(cmd: list[str], env: dict[str, str], log: Path, port: int, path: str) -> int:
    """The one worker's RSS after 200 requests and 3 s of rest."""
    with process(cmd, env, log) as proc:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 60)
        wait_until(lambda: bool(children(proc.pid)), 30)
        hit(f"http://127.0.0.1:{port}{path}", 200)
        time.sleep(3)
        return status(children(proc.pid)[0], "VmRSS")


def bare_web(work: Path) -> int:
    (work / "bare_flask.py").write_text(BARE_FLASK)
    port = free_port()
    cmd = [str(BIN / "gunicorn"), "-w", "1", "-k", WORKER_CLASS, "--threads", "8"]
    cmd += ["-b", f"127.0.0.1:{port}", "bare_flask:app"]
    return idle_web(cmd, base_env(work), work / "bare_flask.log", port, "/")


def pastefile_web(work: Path) -> int:
    port = free_port()
    cmd = [str(BIN / "pastefile"), "serve", "--workers", "1", "--port", str(port)]
    return idle_web(cmd, base_env(work), work / "serve.log", port, "/healthz")


@dataclass
class Worker:
    main: int
    child: int


RUN_GC = """
import time
from pastefile.composition import build_services
from pastefile.config import load_settings

jobs = build_services(load_settings()).jobs
job = jobs.submit("gc")
for _ in range(600):
    if jobs.get(job.id).status in ("succeeded", "failed", "cancelled"):
        break
    time.sleep(0.1)
print(jobs.get(job.id).status)
"""


def idle_celery(
    cmd: list[str], env: dict[str, str], log: Path, one_job: bool = False
) -> tuple[Worker, Worker | None]:
    """The main process and its pool child, 5 s after the worker said it is ready; with
    ``one_job``, again 3 s after the child ran a ``gc`` job."""
    with process(cmd, env, log) as proc:
        ready = re.compile(rb"ready\.")
        wait_until(lambda: bool(ready.search(log.read_bytes())) or proc.poll() is not None, 90)
        if proc.poll() is not None:
            raise SystemExit(f"{cmd} exited: {log.read_text()[-2000:]}")
        time.sleep(5)
        idle = _worker_rss(proc.pid)
        if not one_job:
            return idle, None
        run = [sys.executable, "-c", RUN_GC]
        done = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
        if done.stdout.strip() != "succeeded":
            raise SystemExit(f"the gc job did not succeed: {done.stdout} {done.stderr}")
        time.sleep(3)
        return idle, _worker_rss(proc.pid)


def _worker_rss(pid: int) -> Worker:
    return Worker(status(pid, "VmRSS"), max(status(k, "VmRSS") for k in children(pid)))


def celery_names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"bench-memory-{tag}@%h", f"bench-memory-{tag}-"


def bare_celery(work: Path) -> Worker:
    (work / "bare_celery.py").write_text(BARE_CELERY.format(broker=BROKER))
    host, prefix = celery_names()
    cmd = [str(BIN / "celery"), "-A", "bare_celery", "worker", "--concurrency", "1"]
    cmd += ["--loglevel", "INFO", "--hostname", host, "--queues", prefix + "short"]
    return idle_celery(cmd, base_env(work), work / "bare_celery.log")[0]


def pastefile_celery(work: Path) -> tuple[Worker, Worker | None]:
    host, prefix = celery_names()
    env = base_env(work) | {"PASTEFILE_BROKER_URL": BROKER, "PASTEFILE_JOB_QUEUE_PREFIX": prefix}
    subprocess.run(
        [str(BIN / "pastefile"), "db", "upgrade"], env=env, check=True, capture_output=True
    )
    cmd = [str(BIN / "pastefile"), "worker", "--concurrency", "1", "--loglevel", "INFO"]
    cmd += ["--hostname", host]
    return idle_celery(cmd, env, work / "worker.log", one_job=True)


# --------------------------------------------------------------------------- uploads

CURL = ["curl", "--silent", "--show-error", "--fail-with-body", "-H", "Expect:", "-o", "/dev/null"]


def generate(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            f.write(os.urandom(min(MiB, left)))
            left -= min(MiB, left)


def mutate(path: Path) -> None:
    """New content each time, so dedup cannot skip the write."""
    with open(path, "r+b") as f:
        f.write(b"pastefile bench " + os.urandom(48))


def send_put(url: str, src: Path) -> None:
    subprocess.run([*CURL, "-T", str(src), f"{url}/bench-put.bin"], check=True)


def send_multipart(url: str, src: Path) -> None:
    form = f"file=@{src};filename=bench.bin;type=application/octet-stream"
    subprocess.run([*CURL, "-F", form, f"{url}/"], check=True)


def send_tus(url: str, src: Path) -> None:
    tus = ["-H", "Tus-Resumable: 1.0.0"]
    size = src.stat().st_size
    create = ["curl", "-s", "-D", "-", "-o", "/dev/null", "-X", "POST", *tus]
    create += ["-H", f"Upload-Length: {size}", f"{url}/api/v1/uploads"]
    created = subprocess.run(
        create,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    location = re.search(r"(?im)^location:\s*(\S+)", created)
    if location is None:
        raise SystemExit(f"tus creation failed: {created}")
    patch = ["-X", "PATCH", *tus, "-H", "Upload-Offset: 0"]
    patch += ["-H", "Content-Type: application/offset+octet-stream"]
    subprocess.run([*CURL, *patch, "-T", str(src), location.group(1)], check=True)  # streams


@dataclass
class Upload:
    name: str
    idle: int
    peak: int


SENDERS = (("PUT", send_put), ("multipart", send_multipart), ("tus", send_tus))


def warm_up(url: str, work: Path) -> None:
    """One small upload of each kind: what a worker sets up at its first upload
    (libmagic's database, the upload path's modules) is not what an upload costs."""
    small = work / "warm-up.bin"
    generate(small, MiB)
    for _name, send in SENDERS:
        mutate(small)
        send(url, small)
    small.unlink()


def uploads(work: Path, size: int) -> tuple[int, int, list[Upload]]:
    """The web worker's RSS idle (cold, then after a small upload of each kind), and
    before each large upload and its peak during it."""
    src = work / "upload.bin"
    generate(src, size)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "pastefile"), "serve", "--workers", "1", "--port", str(port)]
    results = []
    with process(cmd, base_env(work), work / "serve-uploads.log") as proc:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 60)
        wait_until(lambda: bool(children(proc.pid)), 30)
        worker = children(proc.pid)[0]
        hit(f"{url}/healthz", 200)
        time.sleep(3)
        cold = status(worker, "VmRSS")
        warm_up(url, work)
        time.sleep(3)
        idle = status(worker, "VmRSS")
        for name, send in SENDERS:
            mutate(src)
            before = status(worker, "VmRSS")
            reset_peak(worker)
            send(url, src)
            results.append(Upload(name, before, status(worker, "VmHWM")))
    src.unlink()
    return cold, idle, results


# --------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def row(name: str, value: int, reference: int | None = None, target: str = "") -> None:
    ratio = f"{value / reference:5.2f}x" if reference else ""
    print(f"  {name:<46} {value / MB:7.1f} MB  {ratio:>6}  {target}")


def report_idle(
    flask: int, web: tuple[int, int], celery: tuple[Worker, tuple[Worker, Worker | None]]
) -> bool:
    bare_web_rss, ours_web = web
    bare_worker, (ours_worker, after_job) = celery
    print("idle processes (RSS; ratio to the bare reference of the same kind)")
    row("python + import flask", flask)
    row("bare Flask hello on gunicorn, worker", bare_web_rss)
    web_ok = ours_web <= TARGET_WEB
    row("pastefile serve, worker", ours_web, bare_web_rss, f"<= 70 MB: {verdict(web_ok)}")
    row("bare Celery worker, main process", bare_worker.main)
    row("bare Celery worker, pool child", bare_worker.child)
    ok_main, ok_child = ours_worker.main <= TARGET_CELERY, ours_worker.child <= TARGET_CELERY
    row(
        "pastefile worker, main process",
        ours_worker.main,
        bare_worker.main,
        f"<= 80 MB: {verdict(ok_main)}",
    )
    row(
        "pastefile worker, pool child",
        ours_worker.child,
        bare_worker.child,
        f"<= 80 MB: {verdict(ok_child)}",
    )
    if after_job is not None:
        row("pastefile worker, main, after one gc job", after_job.main, bare_worker.main)
        row("pastefile worker, pool child, after one gc job", after_job.child, bare_worker.child)
    return web_ok and ok_main and ok_child


def report_uploads(size: int, cold: int, idle: int, results: list[Upload]) -> bool:
    print(
        f"\npastefile serve worker during a {size / MiB:.0f} MiB upload; idle {idle / MB:.1f} MB"
        f" (after 200 /healthz: {cold / MB:.1f} MB, then one 1 MiB upload of each kind)"
    )
    ok = True
    for up in results:
        growth = up.peak - idle
        good = growth <= TARGET_UPLOAD_GROWTH
        ok &= good
        print(
            f"  {up.name:<10} RSS before {up.idle / MB:6.1f} MB, peak {up.peak / MB:6.1f} MB, "
            f"{growth / MB:+5.1f} MB over idle (<= 10 MB: {verdict(good)})"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--upload-size", default="1GiB", help="e.g. 64MiB, 1GiB (default)")
    parser.add_argument("--no-uploads", dest="uploads", action="store_false")
    args = parser.parse_args()
    size = (
        int(args.upload_size.removesuffix("iB").removesuffix("B")[:-1])
        * {"K": 1024, "M": MiB, "G": 1024 * MiB}[
            args.upload_size.removesuffix("iB").removesuffix("B")[-1].upper()
        ]
    )
    work = Path(tempfile.mkdtemp(prefix="pastefile-bench-memory-"))
    try:
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
        flask = flask_import()
        web = (bare_web(work), pastefile_web(work))
        celery = (bare_celery(work), pastefile_celery(work))
        ok = report_idle(flask, web, celery)
        if args.uploads:
            cold, idle, results = uploads(work, size)
            ok &= report_uploads(size, cold, idle, results)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        print("ALL PASS" if ok else "SOME TARGETS MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
