#!/usr/bin/env python3
"""Does one web worker's RSS keep climbing while it serves file cards?

    .venv/bin/python bench/memory_climb.py                      # 6 minutes, 4 clients
    .venv/bin/python bench/memory_climb.py --minutes 20         # does it level off?
    .venv/bin/python bench/memory_climb.py --route json --files 200 --threads 1
    .venv/bin/python bench/memory_climb.py --against ../main/.venv/bin/python   # vs main

It starts ``pastefile serve --workers 1`` in production on a fresh SQLite instance,
uploads ``--files`` files of each kind (a PNG, Python code, Markdown, a PDF, a zip),
then ``--clients`` keep-alive clients fetch ``GET /p/<id>`` of random files (the JSON, the
HTML card, or both in turn) for ``--minutes``. The worker's RSS (/proc) is printed every
``--sample`` seconds with the load average, then the growth after the warm-up quarter, in
MB and MB a minute: the soak's bound is 10 MB for a whole run. ``--against PYTHON`` runs
the same load at the same time on a second server from that interpreter's checkout (its
venv's editable install), the reference the growth is compared with.

``--threads`` and ``--env KEY=VALUE`` change the worker for a bisect; ``--probe`` makes the
worker write, at every sample, to ``probe-<pid>.txt`` in the run's folder (``--keep``): the
RSS of glibc's heap, of anonymous maps and of file maps before and after ``malloc_trim(0)``,
the number of live Python objects, SQLite's own allocations and the thread count. Live
objects that grow point at a cache; memory that ``malloc_trim`` gives back points at the
allocator; SQLite's figure at its statement and page caches.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from memory import base_env  # noqa: E402 - bench/memory.py, beside this script

from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

MB = 1_000_000

# Runs gunicorn as `pastefile serve` does, with the worker's thread count from the
# command line and, with a probe, a SIGUSR1 handler in each worker.
LAUNCH = """
import sys
from pastefile import gunicorn_app

host, port, threads, probe = sys.argv[1:5]
options = gunicorn_app.gunicorn_options(host, int(port), 1)
options["threads"] = int(threads)
if probe != "-":
    init = options["post_worker_init"]

    def post_worker_init(worker):
        init(worker)
        sys.path.insert(0, probe)
        import memory_climb_probe

        memory_climb_probe.install()

    options["post_worker_init"] = post_worker_init
gunicorn_app._PasteFileGunicorn(options).run()
"""

PROBE = """
import collections, ctypes, ctypes.util, gc, os, signal, threading

OUT = os.path.join(os.path.dirname(__file__), f"probe-{os.getpid()}.txt")
SQLITE = ctypes.CDLL(ctypes.util.find_library("sqlite3"))
SQLITE.sqlite3_memory_used.restype = ctypes.c_int64


def mappings():
    # RSS of glibc's heap (brk), of anonymous maps (pymalloc arenas, stacks), of the rest
    found = collections.Counter()
    name = None
    for line in open("/proc/self/smaps"):
        head = line.split()
        if "-" in head[0] and len(head) >= 5:
            name = "anon" if len(head) == 5 else "file"
            name = "heap" if line.rstrip().endswith("[heap]") else name
        elif head[0] == "Rss:":
            found[name] += int(head[1]) * 1024
    return " ".join(f"{k} {v / 1e6:.1f}" for k, v in sorted(found.items()))


def report():
    before = mappings()
    ctypes.CDLL(None).malloc_trim(0)
    after = mappings()
    objects = len(gc.get_objects())
    sqlite = SQLITE.sqlite3_memory_used() / 1e6
    line = f"{before} | trimmed: {after} | objects {objects} | sqlite {sqlite:.1f} MB"
    line += f" | threads {threading.active_count()}"
    with open(OUT, "a") as out:
        out.write(line + "\\n")


def install():
    signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(target=report).start())
"""


# --------------------------------------------------------------------------- the files


def png(seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (rng.randrange(256), 90, 160))
    for _ in range(200):
        x, y = rng.randrange(320), rng.randrange(240)
        image.putpixel((x, y), (rng.randrange(256), rng.randrange(256), 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def code(seed: int) -> bytes:
    body = "".join(
        f"def f{seed}_{i}(x: int) -> int:\n    return x * {i} + {seed}  # line {i}\n\n"
        for i in range(150)
    )
    return f'"""Module {seed}."""\n\nimport os\n\n{body}'.encode()


def markdown(seed: int) -> bytes:
    parts = [f"# Notes {seed}\n"]
    for i in range(60):
        parts.append(f"## Part {i}\n\nSome *text* with `code` and a [link](https://e.x/{i}).\n")
        parts.append(f"| a | b |\n|---|---|\n| {i} | {seed} |\n\n```python\nprint({i})\n```\n")
    return "\n".join(parts).encode()


def pdf(seed: int) -> bytes:
    text = f"BT /F1 24 Tf 72 720 Td (pastefile {seed}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (6, xref))
    return out.getvalue()


def archive(seed: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(40):
            z.writestr(f"dir{seed}/file{i}.txt", f"{seed} {i}\n" * 20)
    return out.getvalue()


KINDS = {"png": png, "py": code, "md": markdown, "pdf": pdf, "zip": archive}


# --------------------------------------------------------------------------- the server


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def worker_pid(master: int) -> int | None:
    kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(kids[0]) if kids else None


def environment(work: Path, extra: list[str]) -> dict[str, str]:
    env = base_env(work)  # production, SQLite and local files under work/data
    env.update(PASTEFILE_UPLOAD_RATE_LIMIT="100000/minute", MALLOC_ARENA_MAX="1")
    env.update(item.split("=", 1) for item in extra)  # type: ignore[misc]
    return env


def start(
    args: argparse.Namespace, work: Path, env: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    subprocess.run(
        [str(BIN / "pastefile"), "db", "upgrade"], env=env, check=True, capture_output=True
    )
    probe = "-"
    if args.probe:
        (work / "memory_climb_probe.py").write_text(PROBE)
        probe = str(work)
    cmd = [sys.executable, "-P", "-c", LAUNCH, "127.0.0.1", str(port), str(args.threads), probe]
    log = open(work / "serve.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    wait_until(lambda: port_open(port) or proc.poll() is not None, 60)
    if proc.poll() is not None:
        raise SystemExit((work / "serve.log").read_text()[-3000:])
    return proc


def upload(port: int, files: int) -> list[str]:
    ids = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n in range(files):
        for ext, make in KINDS.items():
            conn.request("PUT", f"/climb-{n}.{ext}", body=make(n))
            answer = conn.getresponse()
            answer.read()
            if answer.status != 201:
                raise SystemExit(f"upload climb-{n}.{ext}: {answer.status}")
            ids.append(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    conn.close()
    return ids


# --------------------------------------------------------------------------- the load


ACCEPT = {
    "json": ["application/json"],
    "html": ["text/html"],
    "both": ["application/json", "text/html"],
}


def client(
    port: int, ids: list[str], accepts: list[str], until: float, seed: int, tally: dict[str, int]
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.monotonic() < until:
        accept = accepts[n % len(accepts)]
        n += 1
        try:
            conn.request("GET", f"/p/{rng.choice(ids)}", headers={"Accept": accept})
            answer = conn.getresponse()
            answer.read()
            key = str(answer.status)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            key = "error"
        tally[key] = tally.get(key, 0) + 1
    conn.close()


def sample_loop(
    master: int, args: argparse.Namespace, until: float, started: float
) -> list[tuple[float, int]]:
    samples: list[tuple[float, int]] = []
    while True:
        pid = worker_pid(master)
        if pid is None:
            raise SystemExit("the worker is gone")
        if args.probe:
            os.kill(pid, signal.SIGUSR1)
        at = time.monotonic() - started
        samples.append((at, rss(pid)))
        load = os.getloadavg()[0]
        print(
            f"{at:6.0f} s  worker {pid}  RSS {samples[-1][1] / MB:7.1f} MB  load {load:.2f}",
            flush=True,
        )
        if time.monotonic() + args.sample > until + 0.5:
            return samples
        time.sleep(args.sample)


def growth(samples: list[tuple[float, int]]) -> tuple[float, float]:
    """MB after the warm-up quarter, and MB a minute over the rest of the run."""
    end_at, end = samples[-1]
    warm = min(samples, key=lambda s: abs(s[0] - end_at / 4))
    minutes = max((end_at - warm[0]) / 60, 1e-9)
    return (end - warm[1]) / MB, (end - warm[1]) / MB / minutes


def run(args: argparse.Namespace, stack: ExitStack) -> tuple[float, float]:
    """One server under load; prints its samples and returns its growth after the warm-up
    quarter, in MB and in MB a minute."""
    if args.keep:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pastefile-climb-")))
    port = free_port()
    proc = start(args, work, environment(work, args.env), port)
    stack.callback(proc.wait, 30)
    stack.callback(proc.terminate)
    ids = upload(port, args.files)
    print(f"{len(ids)} files, {args.clients} clients, route {args.route}, {args.threads} threads")
    started = time.monotonic()
    until = started + args.minutes * 60
    tally: dict[str, int] = {}
    clients = [
        threading.Thread(target=client, args=(port, ids, ACCEPT[args.route], until, n, tally))
        for n in range(args.clients)
    ]
    for t in clients:
        t.start()
    samples = sample_loop(proc.pid, args, until, started)
    for t in clients:
        t.join()
    mb, per_minute = growth(samples)
    print(f"requests {json.dumps(tally)}")
    print(f"after the warm-up quarter: {mb:+.1f} MB, {per_minute:+.2f} MB/min (bound: 10 MB)")
    return mb, per_minute


def reference(args: argparse.Namespace, stack: ExitStack) -> subprocess.Popen[str]:
    """The same run with ``--against``'s interpreter (another checkout's venv), at once."""
    argv = [args.against, __file__, "--minutes", str(args.minutes), "--clients", str(args.clients)]
    argv += ["--files", str(args.files), "--route", args.route, "--threads", str(args.threads)]
    argv += ["--sample", str(args.sample), *(f"--env={e}" for e in args.env)]
    argv += ["--probe"] if args.probe else []
    argv += ["--keep", str(args.keep / "reference")] if args.keep else []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    stack.callback(proc.terminate)
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--files", type=int, default=20, help="files of each kind")
    parser.add_argument("--route", choices=sorted(ACCEPT), default="both")
    parser.add_argument("--threads", type=int, default=8, help="the worker's threads")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--probe", action="store_true", help="trim, objects, SQLite, threads")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--against", help="a reference run with this Python, at the same time")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server too
    with ExitStack() as stack:
        other = reference(args, stack) if args.against else None
        mb, per_minute = run(args, stack)
        if other is not None:
            out, _ = other.communicate()
            print("reference (" + args.against + "):\n" + out.rstrip())
            theirs = float(re.findall(r"([-+0-9.]+) MB/min", out)[-1])
            print(f"growth vs the reference: {per_minute:+.2f} / {theirs:+.2f} MB/min")
        return 0 if mb <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
