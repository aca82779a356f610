#!/usr/bin/env python3
"""pf, the command-line client: encrypted against plain transfers, in the same run.

    .venv/bin/python bench/client_encrypt.py                # 256 MiB, three rounds
    .venv/bin/python bench/client_encrypt.py --size 64MiB --repeat 1

It starts ``pastefile serve --workers 2`` (APP_ENV=production, a throwaway data
directory), writes one file of random bytes, and times with the real ``pf`` process
(anonymous uploads, ``-q``, a fresh config and state directory):

- ``age`` in-process: pyrage's ``encrypt_io`` from file to file, no network: the ceiling
  of what ``pf push --encrypt`` can reach on this machine;
- ``curl -T`` (``PUT /<name>``, one request): the server's plain ingest, for reference;
- ``pf push`` (tus, 8 MiB chunks with a sha256 each) against ``pf push --encrypt`` (the
  same, after encrypting to a spool file);
- ``pf pull`` against ``pf pull`` of the encrypted link (download, sha256 check, decrypt).

Each round uploads new content (the first bytes change), so dedup cannot skip a write.
MB/s are 10^6 bytes of the plaintext a second, wall time of the whole command, median of
the rounds. The bytes pulled back are compared with the original.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyrage
from pyrage import x25519

MB = 1_000_000
BIN = Path(sys.executable).parent
SIZES = {"kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(text: str) -> int:
    found = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB)?", text.strip(), re.IGNORECASE)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r}: give bytes or e.g. 256MiB")
    return int(found.group(1)) * SIZES.get((found.group(2) or "").lower(), 1)


@contextmanager
def server(root: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY="bench-client-encrypt-secret-0123456789",
        PASTEFILE_DATA_DIR=str(root / "var"),
        PASTEFILE_DATABASE_URL=f"sqlite:///{root / 'pastefile.db'}",
        PASTEFILE_STORAGE_URL=f"file://{root / 'files'}",
        PASTEFILE_LOG_DIR=str(root / "logs"),
        PASTEFILE_MAX_UPLOAD_SIZE=str(4 * 1024**3),
    )
    log = open(root / "server.out", "wb")  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(
        [str(BIN / "pastefile"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=root,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def pf(home: Path, *args: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PF_", "XDG_"))}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"))
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "pf"), "-q", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"pf {' '.join(args)} failed: {done.stderr.strip()}")
    return took, done.stdout.strip()


def age_in_process(source: Path, target: Path) -> float:
    recipient = x25519.Identity.generate().to_public()
    started = time.perf_counter()
    with open(source, "rb") as raw, open(target, "wb") as out:
        pyrage.encrypt_io(raw, out, [recipient])
    return time.perf_counter() - started


def curl_put(base: str, source: Path) -> float:
    """The server's plain ingest in one request (``PUT /<name>``), no tus, no client Python."""
    started = time.perf_counter()
    subprocess.run(
        ["curl", "-sSf", "-o", "/dev/null", "-T", str(source), f"{base}/bench.bin"], check=True
    )
    return time.perf_counter() - started


def one_round(base: str, work: Path, source: Path, size: int) -> dict[str, float]:
    with open(source, "r+b") as data:  # new content each round: no dedup
        data.write(os.urandom(64))
    timings = {"age in-process": age_in_process(source, work / "spool.age")}
    (work / "spool.age").unlink()
    timings["curl -T (reference)"] = curl_put(base, source)
    with open(source, "r+b") as data:  # pf's plain push must not dedup against curl's
        data.write(os.urandom(64))
    timings["pf push"], plain = pf(work, "--server", base, "push", str(source))
    timings["pf push --encrypt"], sealed = pf(
        work, "--server", base, "push", "--encrypt", str(source)
    )
    for label, link in (("pf pull", plain), ("pf pull (decrypt)", sealed)):
        out = work / "pulled.bin"
        timings[label], _ = pf(work, "pull", link, "-o", str(out), "--force")
        if out.read_bytes() != source.read_bytes():
            raise SystemExit(f"{label}: the bytes differ")
        out.unlink()
    return {label: size / MB / took for label, took in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=256 * 1024**2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pf-bench-") as folder:
        root = Path(folder)
        source = root / "payload.bin"
        with open(source, "wb") as out:
            for _ in range(0, args.size, 1 << 20):
                out.write(os.urandom(min(1 << 20, args.size - out.tell())))
        with server(root) as base:
            rounds = [one_round(base, root, source, args.size) for _ in range(args.repeat)]
    print(
        f"pf transfers of {args.size / 1024**2:.0f} MiB, median of {args.repeat} "
        f"(MB/s of plaintext, whole command)"
    )
    for label in rounds[0]:
        values = [r[label] for r in rounds]
        print(
            f"  {label:<20} {statistics.median(values):8.1f} MB/s   "
            f"(rounds: {', '.join(f'{v:.1f}' for v in values)})"
        )
    push, sealed = (
        statistics.median(r[k] for r in rounds) for k in ("pf push", "pf push --encrypt")
    )
    print(f"  --encrypt uploads at {sealed / push:.0%} of the plain upload's speed")


if __name__ == "__main__":
    main()
