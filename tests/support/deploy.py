"""Real nginx and gunicorn processes for the deployment tests and bench/serve.py.

``render_nginx`` turns deploy/nginx.conf into a config that runs unprivileged from
a temporary directory: its own pid file, logs, temp and cache paths, a port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STATIC = ROOT / "pastefile" / "web" / "static"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CELERY_PASTEFILE = str(Path(sys.executable).with_name("pastefile"))


@dataclass
class NginxPaths:
    """Where a rendered nginx keeps everything; all under ``root``."""

    root: Path
    port: int
    upstreams: list[str]
    objects: Path
    static: Path = STATIC
    extra_http: str = ""
    conf: Path = field(init=False)

    def __post_init__(self) -> None:
        self.conf = self.root / "nginx.conf"


def render_nginx(paths: NginxPaths) -> str:
    """deploy/nginx.conf with the production paths swapped for ``paths``."""
    text = (DEPLOY / "nginx.conf").read_text()
    servers = "\n        ".join(f"server {u} fail_timeout=0;" for u in paths.upstreams)
    user = "user root;" if os.geteuid() == 0 else ""
    swaps = {
        "user www-data;": user,
        "pid /run/nginx.pid;": f"pid {paths.root}/nginx.pid;",
        "/var/log/nginx/": f"{paths.root}/logs/",
        "/var/lib/nginx/": f"{paths.root}/temp/",
        "/var/cache/nginx/pastefile": f"{paths.root}/cache",
        "server unix:/run/pastefile/web.sock fail_timeout=0;": servers,
        "/run/pastefile/nginx-files.sock": f"{paths.root}/files.sock",
        "/var/lib/pastefile/files/objects/": f"{paths.objects}/",
        "/opt/pastefile/pastefile/web/static/": f"{paths.static}/",
        "listen 80;": f"listen 127.0.0.1:{paths.port};",
        "worker_processes auto;": "worker_processes 1;",
        "http {\n": "http {\n" + paths.extra_http,
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


def write_nginx(paths: NginxPaths) -> list[str]:
    """Write the rendered config; the nginx command line to use it."""
    for sub in ("logs", "temp", "cache"):
        (paths.root / sub).mkdir(parents=True, exist_ok=True)
    paths.conf.write_text(render_nginx(paths))
    binary = nginx_binary()
    assert binary is not None
    return [binary, "-e", str(paths.root / "logs" / "error.log"), "-c", str(paths.conf)]


def nginx_test(paths: NginxPaths) -> subprocess.CompletedProcess[str]:
    command = write_nginx(paths)
    return subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)


def start_nginx(paths: NginxPaths) -> subprocess.Popen[bytes]:
    command = write_nginx(paths)
    return subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)


def start_gunicorn(
    env: Mapping[str, str], bind: str, workers: int = 1, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """gunicorn with deploy/gunicorn.conf.py, as systemd would start it."""
    full = {**env, "PASTEFILE_BIND": bind, "PASTEFILE_WEB_WORKERS": str(workers)}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [GUNICORN, "-c", str(DEPLOY / "gunicorn.conf.py")],
        env=full,
        cwd=ROOT,
        stdout=out,
        stderr=out,
    )


def stop(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each, then SIGKILL what is still there after 10 s."""
    procs = [p for p in processes if p.poll() is None]
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def require(condition: bool, what: str) -> None:
    """Skip without ``what``, or fail when PASTEFILE_REQUIRE_SERVICES=1."""
    if condition:
        return
    if os.environ.get("PASTEFILE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{what}; install or start it to run these tests")
