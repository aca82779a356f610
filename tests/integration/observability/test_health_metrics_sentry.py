"""/healthz, /readyz, Prometheus /metrics (also under two gunicorn workers), Sentry, JSON logs."""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.metrics import metric
from tests.support.servers import free_port
from tests.support.settings import make_settings
from tests.support.uploads import upload


def test_healthz_is_liveness(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_everything_is_up(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {
        "database": "ok", "schema": "ok", "storage": "ok", "cache": "ok",
    }  # fmt: skip


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
    counted = metric(text, "pastefile_http_requests_total", **route)
    assert counted - metric(before, "pastefile_http_requests_total", **route) == 3
    sent = metric(text, "pastefile_http_bytes_out_total", route="/i/<ident>")
    assert sent - metric(before, "pastefile_http_bytes_out_total", route="/i/<ident>") == 3 * 4321
    got = metric(text, "pastefile_http_bytes_in_total", route="/")
    assert got - metric(before, "pastefile_http_bytes_in_total", route="/") > 4321
    assert metric(text, "pastefile_cache_total", result="hit") > 0
    assert metric(text, "pastefile_http_request_duration_seconds_count", route="/i/<ident>") >= 3
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
