"""The app's own pages carry a Content-Security-Policy that allows no inline script
and nothing from elsewhere; uploaded bytes keep their stricter sandbox."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

BROWSER = {"Accept": "text/html"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.mark.parametrize("path", ["/", "/help", "/login", "/register", "/jobs"])
def test_pages_allow_scripts_from_this_site_only(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert script.split() == ["script-src", "'self'"], "no inline or remote script"
    assert "object-src 'self'" in policy and "frame-ancestors 'self'" in policy


def test_an_uploaded_page_keeps_its_sandbox(client: FlaskClient) -> None:
    made = client.put("/page.html", data=b"<html><script>alert(1)</script></html>")
    ident = made.headers["Location"].rsplit("/", 1)[-1]
    served = client.get(f"/i/{ident}")
    assert served.headers["Content-Security-Policy"].startswith("sandbox;")
    assert served.headers["Content-Disposition"].startswith("attachment")


def test_pages_frame_only_this_site_and_blobs_and_run_workers_from_it(client: FlaskClient) -> None:
    """An encrypted file's card previews the decrypted file in a frame from a blob: URL
    and saves through a service worker from /static/e2e/ (docs/encryption.md)."""
    policy = client.get("/", headers=BROWSER).headers["Content-Security-Policy"]
    parts = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert parts["frame-src"] == ["'self'", "blob:"]
    assert parts["worker-src"] == ["'self'"]
