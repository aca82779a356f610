"""Servers for the benches that compare pastefile with a bare Flask app: bench/hot_path.py
and bench/servers.py start them, seed them and measure them with wrk the same way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from wrk_runs import Result, run_wrk  # noqa: E402

from tests.support.scaleout import descendants  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

WORKER = "pastefile.gunicorn_worker.GuardedThreadWorker"
TICK = os.sysconf("SC_CLK_TCK")
BARE_APP = """
from flask import Flask

app = Flask("bare")


@app.get("/")
def hello():
    return "hello"
"""


def wrk(name: str, url: str, seconds: int, worker_pid: int, accept: str = "*/*") -> Result:
    before = _cpu_seconds(worker_pid)
    run = run_wrk(url, seconds, 16, {"Accept": accept})
    cpu = _cpu_seconds(worker_pid) - before
    cpu_us = cpu / max(run.requests, 1) * 1e6
    return Result(name, run.rps, run.p50_ms, run.p99_ms, run.errors, cpu_us)


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM)."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mb(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def reset_peak_rss(pid: int) -> None:
    """Make VmHWM start again from the current RSS (Linux's clear_refs, mode 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Server:
    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.port = free_port()
        self.log = open(log, "ab")  # noqa: SIM115 - the child keeps it
        full = [part.replace("{port}", str(self.port)) for part in command]
        self.process = subprocess.Popen(full, env=env, cwd=cwd, stdout=self.log, stderr=self.log)
        wait_until(lambda: port_open(self.port) or self.process.poll() is not None, 60)
        if self.process.poll() is not None:
            raise SystemExit(f"{command[0]} did not start; see {log}")
        wait_until(lambda: len(descendants([self.process.pid])) > 1, 30)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker(self) -> int:
        return max(descendants([self.process.pid]) - {self.process.pid})

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def bench_env(root: Path, **extra: str) -> dict[str, str]:
    """pastefile in production on its embedded defaults (SQLite, the local disk) under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASTEFILE_", "APP_"))}
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY="hot-path-bench-secret-0123456789abcdef",
        PASTEFILE_DATA_DIR=str(root / "var"),
        PASTEFILE_LOG_DIR=str(root / "logs"),
        **extra,
    )
    return env


def start_bare(
    root: Path, worker: str = WORKER, threads: int = 8, python: str = sys.executable
) -> Server:
    """The bare Flask "hello" under gunicorn, one worker of the given class."""
    (root / "bare_app.py").write_text(BARE_APP)
    command = [python, "-m", "gunicorn", "-b", "127.0.0.1:{port}", "-w", "1"]
    command += ["--threads", str(threads), "-k", worker, "--chdir", str(root), "bare_app:app"]
    return Server(command, bench_env(root), root, root / "bare.out")


def seed(server: Server) -> tuple[str, str]:
    """A public 10 kB file; its id and short code."""
    data = (b"0123456789abcdef" * 640)[:10_000]
    put = urllib.request.Request(f"{server.base}/ten.txt", data=data, method="PUT")
    with urllib.request.urlopen(put, timeout=30) as answer:
        ident = answer.read().decode().strip().rsplit("/", 1)[1]
    card = urllib.request.Request(f"{server.base}/p/{ident}")
    card.add_header("Accept", "application/json")
    with urllib.request.urlopen(card, timeout=30) as answer:
        return ident, json.loads(answer.read())["url_s"].rsplit("/", 1)[1]
