"""``pastefile serve`` as a process writes its access and error logs to the log dir."""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.cli import PASTEFILE, cli_env
from tests.support.servers import free_port, http_get, port_open, wait_until


def test_access_and_error_logs_are_written_to_the_log_dir(sqlite_url, tmp_path):
    log_dir = tmp_path / "logs"
    port = free_port()
    env = cli_env(
        PASTEFILE_DATA_DIR=str(tmp_path / "data"),
        PASTEFILE_LOG_DIR=str(log_dir),
        APP_ENV="development",
    )
    server = subprocess.Popen(
        [PASTEFILE, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port) or server.poll() is not None, timeout=30)
        status, _ = http_get(f"http://127.0.0.1:{port}/s/zzzzzzz", {"X-Request-Id": "from-curl-7"})
        assert status == 404
        wait_until(lambda: "from-curl-7" in _read(log_dir / "access.log"), timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    (line,) = [ln for ln in _read(log_dir / "access.log").splitlines() if "from-curl-7" in ln]
    assert '"GET /s/zzzzzzz" 404' in line
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO \S+:\d+ pid=\d+ thread=", line)
    assert (log_dir / "error.log").exists()
    assert "from-curl-7" not in _read(log_dir / "error.log")


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_the_development_server_names_no_software_and_logs_no_secret(sqlite_url, tmp_path):
    log_dir = tmp_path / "logs"
    port = free_port()
    env = cli_env(
        PASTEFILE_DATA_DIR=str(tmp_path / "data"),
        PASTEFILE_LOG_DIR=str(log_dir),
        APP_ENV="development",
    )
    output = tmp_path / "server.out"
    with output.open("wb") as out:
        server = subprocess.Popen(
            [PASTEFILE, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: port_open(port) or server.poll() is not None, timeout=30)
        url = f"http://127.0.0.1:{port}/s/zzzzzzz?access_token=SECRET-TOKEN&password=SECRET-PW"
        request = urllib.request.Request(url, headers={"X-Request-Id": "secret-probe"})
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as answer:
            headers = answer.headers
        wait_until(lambda: "secret-probe" in _read(log_dir / "access.log"), timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    assert "Werkzeug" not in headers.get("Server", "") and "Python" not in headers.get("Server", "")
    everything = _read(output) + _read(log_dir / "access.log") + _read(log_dir / "error.log")
    assert "SECRET-TOKEN" not in everything and "SECRET-PW" not in everything
    assert "access_token=%5Bredacted%5D" in _read(log_dir / "access.log")
