"""One wrk measurement, parsed: what bench/serve.py and bench/hot_path.py both read off wrk."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
MB = 1_000_000


@dataclass
class WrkRun:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors


@dataclass
class Result:
    """A named measurement, as the benches report it."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = 0.0  # the server's CPU per request, where the bench reads it

    def line(self, size: int = 0) -> str:
        rate = f"{self.rps * size / MB:9.1f} MB/s" if size else f"{self.rps:9.0f} req/s"
        errors = f"  ({self.errors} errors)" if self.errors else ""
        return (
            f"  {self.name:44} {rate}  p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms{errors}"
        )


def run_wrk(url: str, seconds: int, conns: int, headers: dict[str, str] | None = None) -> WrkRun:
    """Debian's wrk with 2 threads, ``conns`` connections and latency percentiles."""
    command = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in", out)
    return WrkRun(
        int(done.group(1)) if done else 0,
        _number(r"Requests/sec:\s+([\d.]+)", out),
        _percentile(out, "50"),
        _percentile(out, "99"),
        _errors(out),
    )


def _number(pattern: str, out: str) -> float:
    match = re.search(pattern, out)
    return float(match.group(1)) if match else 0.0


def _percentile(out: str, which: str) -> float:
    match = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
    return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")


def _errors(out: str) -> int:
    answers = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    total = int(answers.group(1)) if answers else 0
    return total + (sum(int(g) for g in sockets.groups()) if sockets else 0)
