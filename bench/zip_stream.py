#!/usr/bin/env python3
"""A collection's zip through the production server, against one file of the same size.

    .venv/bin/python bench/zip_stream.py                 # 5 GiB in 5 files (the issue's target)
    .venv/bin/python bench/zip_stream.py --size 512MiB   # a quick check
    .venv/bin/python bench/zip_stream.py --files 50 --rounds 3

It starts ``pastefile serve --workers 1`` (APP_ENV=production, a throwaway data
directory), uploads ``--files`` files into one collection (``POST /api/v1/files`` with
``collection=``) and one file of the same total size, then in the same run downloads
each with ``curl -o /dev/null`` (best of ``--rounds``). Before each download every
stored blob is dropped from the page cache (``--warm`` keeps it), so neither side is
favoured by what was written last. While each download runs, the server's RSS (the sum
over its process tree) is sampled every 20 ms: the zip streams, its peak stays flat.
First, a resume near the end of the zip (``Range``) is timed: nothing before it is read;
the central directory is computed (CPU, once per member set), then cached.

Target: the zip at >= 70% of the single file's throughput. Exit 0 when met, 1 if not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

MiB = 1024 * 1024
PASTEFILE = Path(sys.executable).parent / "pastefile"
TARGET = 0.70


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 512MiB, 5GiB)")
    number, unit, binary = match.groups()
    base = 1024 if binary or not unit else 1000
    return int(float(number) * base ** " KMGT".index(unit.upper() or " "))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(path: Path, size: int, seed: int) -> None:
    """Incompressible-looking bytes, a fresh first block per file so none dedups."""
    block = bytearray(os.urandom(MiB))
    with open(path, "wb") as out:
        left, n = size, 0
        while left > 0:
            block[:16] = seed.to_bytes(8, "little") + n.to_bytes(8, "little")
            piece = block[: min(MiB, left)]
            out.write(piece)
            left -= len(piece)
            n += 1


class Server:
    def __init__(self, work: Path, max_size: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
        env.update(
            APP_ENV="production",
            PASTEFILE_SECRET_KEY=secrets.token_urlsafe(32),
            PASTEFILE_DATA_DIR=str(work / "data"),
            PASTEFILE_MAX_UPLOAD_SIZE=str(max_size),
            PASTEFILE_UPLOAD_RATE_LIMIT="100000/minute",
            PASTEFILE_API_RATE_LIMIT="100000/minute",
            PASTEFILE_LOG_LEVEL="WARNING",
        )
        self.log = open(work / "server.log", "wb")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [str(PASTEFILE), "serve", "--workers", "1", "--port", str(self.port)],
            env=env,
            cwd=work,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited; see server.log")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=2) as reply,
            ):
                if reply.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not answer within 60 s")

    def tree(self) -> list[int]:
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    todo.extend(int(c) for c in children)
        return found

    def rss(self) -> int:
        total = 0
        for pid in self.tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def peak_rss(server: Server) -> Iterator[dict[str, int]]:
    seen = {"start": server.rss(), "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            seen["peak"] = max(seen["peak"], server.rss())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def evict(root: Path) -> None:
    """Drop the stored blobs from the page cache (written back first), so the file and
    the zip both start cold: whichever was written last is not favoured."""
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def curl(*args: str) -> str:
    done = subprocess.run(
        ["curl", "-sS", "--fail-with-body", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"curl {' '.join(args)}: {done.stderr} {done.stdout}")
    return done.stdout


def download(url: str, headers: tuple[str, ...] = ()) -> tuple[int, float, float]:
    """(bytes, seconds, seconds to the first byte) of ``curl -o /dev/null``."""
    extra = [part for h in headers for part in ("-H", h)]
    out = curl(
        *extra, "-o", "/dev/null", "-w", "%{size_download} %{time_total} %{time_starttransfer}", url
    )
    size, total, first = out.split()
    return int(size), float(total), float(first)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", type=parse_size, default=parse_size("5GiB"), help="total bytes (5GiB)"
    )
    parser.add_argument("--files", type=int, default=5, help="files in the collection (5)")
    parser.add_argument("--rounds", type=int, default=2, help="downloads of each, best kept (2)")
    parser.add_argument(
        "--warm", action="store_true", help="keep the page cache (default: evict before each)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work directory (a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zipbench-", dir=args.dir))
    each = args.size // args.files
    server = Server(work, max(each, args.size) + 64 * MiB)
    try:
        return run(server, work, args.size, each, args.files, args.rounds, not args.warm)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(
    server: Server, work: Path, size: int, each: int, files: int, rounds: int, cold: bool
) -> int:
    made = json.loads(
        curl(
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"title":"bench"}',
            server.url + "/api/v1/collections",
        )
    )
    ident, token = made["id"], made["token"]
    source = work / "member.bin"
    started = time.monotonic()
    for n in range(files):
        generate(source, each if n < files - 1 else size - each * (files - 1), n)
        curl(
            "-X",
            "POST",
            "-T",
            str(source),
            "-H",
            f"X-Token: {token}",
            "-H",
            "Content-Type: application/octet-stream",
            f"{server.url}/api/v1/files?filename=member-{n}.bin&collection={ident}",
        )
    generate(source, size, 10_000)
    single = json.loads(
        curl(
            "-X",
            "POST",
            "-T",
            str(source),
            "-H",
            "Content-Type: application/octet-stream",
            f"{server.url}/api/v1/files?filename=single.bin",
        )
    )["id"]
    source.unlink()
    print(
        f"uploaded {files} member(s) and one file, {size / MiB:.0f} MiB each side, "
        f"in {time.monotonic() - started:.0f} s"
    )

    zip_length = int(
        curl(
            "-I", "-o", "/dev/null", "-w", "%header{content-length}", f"{server.url}/c/{ident}.zip"
        )
        or 0
    )
    near_end = max(zip_length - 1000, 0)
    got, seconds, first = download(f"{server.url}/c/{ident}.zip", (f"Range: bytes={near_end}-",))
    print(
        f"resume at byte {near_end} of {zip_length}: {got} bytes, first byte after "
        f"{first * 1000:.0f} ms, done after {seconds * 1000:.0f} ms (central directory computed)"
    )
    got, seconds, first = download(f"{server.url}/c/{ident}.zip", (f"Range: bytes={near_end}-",))
    print(f"again: done after {seconds * 1000:.0f} ms (central directory cached)")
    results: dict[str, tuple[float, int, int]] = {}
    for name, url in (
        ("single file", f"{server.url}/d/{single}"),
        ("collection zip", f"{server.url}/c/{ident}.zip"),
    ):
        best = 0.0
        peaks = []
        for _ in range(rounds):
            if cold:
                evict(work / "data")
            with peak_rss(server) as memory:
                got, seconds, _ = download(url)
            best = max(best, got / seconds)
            peaks.append(memory["peak"])
        results[name] = (best, memory["start"], max(peaks))
        print(
            f"{name:15s} {got / MiB:9.0f} MiB  best {best / MiB:8.1f} MiB/s  "
            f"server RSS {memory['start'] / MiB:.0f} MiB at start, peak {max(peaks) / MiB:.0f} MiB"
        )
    ratio = results["collection zip"][0] / results["single file"][0]
    print(f"zip / single file throughput: {ratio:.0%} (target >= {TARGET:.0%})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
