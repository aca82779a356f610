"""Observability across real processes: JSON log lines, metrics summed over gunicorn workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector

from pastefile.composition import build_services
from pastefile.db import migrate
from tests.support.metrics import metric
from tests.support.servers import free_port, http_get, port_open, wait_until
from tests.support.settings import make_settings


def test_json_logs_keep_every_field() -> None:
    code = (
        "import logging; from pastefile.logging_setup import configure_logging;"
        "configure_logging('INFO'); logging.getLogger('x').warning('hello %s', 'json')"
    )
    env = {**os.environ, "PASTEFILE_LOG_JSON": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello json" and entry["level"] == "WARNING"
    for field in ("time", "path", "line", "pid", "thread", "request_id"):
        assert field in entry


def test_metrics_add_up_across_two_gunicorn_workers(tmp_path: Path, sqlite_url: str) -> None:
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    settings = make_settings(tmp_path, sqlite_url)
    migrate.upgrade(build_services(settings).db)
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "APP_ENV": "testing",
        "PASTEFILE_DATABASE_URL": sqlite_url,
        "PASTEFILE_DATA_DIR": str(tmp_path / "var"),
        "PASTEFILE_STORAGE_URL": settings.storage_url,
    }
    conf = tmp_path / "gunicorn_conf.py"
    conf.write_text("from pastefile.observability.gunicorn_hooks import child_exit  # noqa: F401\n")
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "-c", str(conf), "pastefile.web:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    try:
        wait_until(lambda: port_open(port), timeout=30)
        sent = 0
        deadline = time.monotonic() + 60
        while len([n for n in _served_by_each(multiproc) if n]) < 2:  # until both took some
            assert time.monotonic() < deadline, "the second worker never served"
            _hit(port, 20)
            sent += 20
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        labels = {"method": "GET", "route": "/healthz", "status": "200"}
        assert metric(body.decode(), "pastefile_http_requests_total", **labels) == sent
        assert sum(_served_by_each(multiproc)) == sent
    finally:
        server.terminate()
        server.wait(15)


def _hit(port: int, count: int) -> None:
    """Concurrent requests on fresh connections, so both workers take some."""
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda _: http_get(f"http://127.0.0.1:{port}/healthz")[0], range(count))
        )
    assert statuses == [200] * count


def _served_by_each(multiproc: Path) -> list[float]:
    """The /healthz count in each worker's own file."""
    counts = []
    for path in sorted(multiproc.glob("counter_*.db")):
        merged = MultiProcessCollector.merge([str(path)], accumulate=True)
        text = "".join(
            f"{s.name} {s.value}\n"
            for m in merged
            for s in m.samples
            if s.name == "pastefile_http_requests_total" and s.labels.get("route") == "/healthz"
        )
        counts.append(sum(float(line.split()[-1]) for line in text.splitlines()))
    return counts
