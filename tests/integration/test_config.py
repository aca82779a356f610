"""Settings reach the app: the configured size limit is the one it enforces."""

from __future__ import annotations

from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.settings import make_settings


def test_the_configured_size_limit_is_what_the_app_enforces(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("PASTEFILE_MAX_UPLOAD_SIZE", "1KiB")
    settings = make_settings(tmp_path, sqlite_url)
    assert settings.max_upload_size == 1024
    services = build_services(settings)
    migrate.upgrade(services.db)
    client = create_app(services=services).test_client()
    ok = client.put("/ok.txt", data=b"x" * 1024, headers={"Accept": "*/*"})
    assert ok.status_code == 201
    over = client.put("/over.txt", data=b"x" * 1025, headers={"Accept": "application/json"})
    assert over.status_code == 413
    services.close()
