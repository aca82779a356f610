"""Behind nginx: X-Accel-Redirect answers and which X-Forwarded-* headers the app believes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask, request

from pastefile.composition import build_services
from pastefile.web import create_app
from tests.support.settings import make_settings
from tests.support.uploads import upload

DATA = bytes(range(256)) * 40


def _app(tmp_path: Path, **overrides: object) -> Flask:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", **overrides)
    services = build_services(settings)
    from pastefile.db import Base

    Base.metadata.create_all(services.db.engine)
    app = create_app(services=services)

    @app.get("/_test/remote")
    def remote() -> str:
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app


@pytest.fixture
def accel(tmp_path: Path) -> Flask:
    return _app(tmp_path, accel_redirect_prefix="/_protected")


def _uploaded(app: Flask, **fields: object) -> dict[str, str]:
    response = upload(app.test_client(), DATA, "blob é.bin", **fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("route", ["i", "d"])
def test_accel_redirect_names_the_object_and_sends_no_bytes(accel, route):
    body = _uploaded(accel)
    sha = body["sha256"]
    response = accel.test_client().get(f"/{route}/{body['id']}")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_protected/{sha[:2]}/{sha[2:4]}/{sha}"
    expires = response.headers["X-Accel-Expires"]  # this second: cached for at most 1 s
    assert expires.startswith("@") and abs(int(expires[1:]) - time.time()) < 5
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment" if route == "d" else "inline")
    assert "filename*=UTF-8''blob%20%C3%A9.bin" in disposition


def test_accel_redirect_answers_if_none_match_itself(accel):
    body = _uploaded(accel)
    response = accel.test_client().get(
        f"/i/{body['id']}", headers={"If-None-Match": f'"{body["sha256"]}"'}
    )
    assert response.status_code == 304
    assert "X-Accel-Redirect" not in response.headers


def test_password_protected_files_are_never_micro_cached(accel):
    body = _uploaded(accel, password="open sesame")
    response = accel.test_client().get(
        f"/i/{body['id']}", headers={"X-File-Password": "open sesame"}
    )
    assert response.status_code == 200
    assert response.headers["X-Accel-Expires"] == "0"


def test_without_the_setting_the_app_streams_the_bytes(tmp_path):
    app = _app(tmp_path)
    body = _uploaded(app)
    response = app.test_client().get(f"/i/{body['id']}")
    assert response.data == DATA
    assert "X-Accel-Redirect" not in response.headers


def test_x_forwarded_for_is_ignored_without_trusted_proxies(tmp_path):
    client = _app(tmp_path).test_client()
    response = client.get("/_test/remote", headers={"X-Forwarded-For": "6.6.6.6"})
    assert response.get_data(as_text=True).split()[0] == "127.0.0.1"


def test_one_trusted_proxy_believes_only_the_last_hop(tmp_path):
    client = _app(tmp_path, trusted_proxies=1).test_client()
    headers = {
        "X-Forwarded-For": "6.6.6.6, 203.0.113.7",  # a client's lie, then what nginx saw
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "files.example",
    }
    response = client.get("/_test/remote", headers=headers)
    assert response.get_data(as_text=True) == "203.0.113.7 https files.example"


def test_a_bad_accel_prefix_is_refused(tmp_path):
    with pytest.raises(ValueError, match="accel_redirect_prefix"):
        make_settings(tmp_path, "sqlite://", accel_redirect_prefix="_protected/../x")
