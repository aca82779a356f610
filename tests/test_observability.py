"""/healthz, /readyz, Prometheus /metrics (also under two gunicorn workers), Sentry, JSON logs."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.servers import free_port, http_get, port_open, wait_until
from tests.support.settings import make_settings
from tests.support.uploads import upload


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_healthz_is_liveness(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_everything_is_up(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "storage": "ok", "cache": "ok"}


def test_readyz_names_what_is_down(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}//",
    )
    services = build_services(settings)
    migrate.upgrade(services.db)
    try:
        response = create_app(services=services).test_client().get("/readyz")
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        body = response.json
        assert set(body["down"]) == {"cache", "broker"}
        assert body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
        assert "cache" in body["detail"] and "broker" in body["detail"]
    finally:
        services.close()


def test_metrics_by_route_bytes_cache_and_jobs(client: FlaskClient) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    data = os.urandom(4321)
    public_id = upload(client, data, "m.bin").json["id"]
    for _ in range(3):
        assert client.get(f"/i/{public_id}").status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    route = {"method": "GET", "route": "/i/<ident>", "status": "200"}
    counted = _sample(text, "pastefile_http_requests_total", **route)
    assert counted - _sample(before, "pastefile_http_requests_total", **route) == 3
    sent = _sample(text, "pastefile_http_bytes_out_total", route="/i/<ident>")
    assert sent - _sample(before, "pastefile_http_bytes_out_total", route="/i/<ident>") == 3 * 4321
    got = _sample(text, "pastefile_http_bytes_in_total", route="/")
    assert got - _sample(before, "pastefile_http_bytes_in_total", route="/") > 4321
    assert _sample(text, "pastefile_cache_total", result="hit") > 0
    assert _sample(text, "pastefile_http_request_duration_seconds_count", route="/i/<ident>") >= 3
    assert "pastefile_jobs{" in text and 'status="queued"' in text
    assert public_id not in text  # routes, never raw paths


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = pytest.importorskip("brotli").decompress(body)
        type(self).received.append(self.path.encode() + b" " + body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def fake_sentry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public@127.0.0.1:{server.server_address[1]}/42"
    server.shutdown()


def test_sentry_reports_crashes_only_when_configured(
    tmp_path: Path, sqlite_url: str, fake_sentry: str
) -> None:
    import sentry_sdk

    services = build_services(make_settings(tmp_path, sqlite_url, sentry_dsn=fake_sentry))
    migrate.upgrade(services.db)
    try:
        app = create_app(services=services)
        _crashing_route(app)
        assert app.test_client().get("/boom").status_code == 500
        sentry_sdk.flush(5)
        assert any(b"/api/42/envelope/" in item for item in _Collector.received)
        assert any(b"sentry test crash" in item for item in _Collector.received)
    finally:
        sentry_sdk.init(dsn=None)  # back to disabled for the rest of the run
        services.close()


def _crashing_route(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError("sentry test crash")

    app.add_url_rule("/boom", "boom", boom)


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
        assert _sample(body.decode(), "pastefile_http_requests_total", **labels) == sent
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
