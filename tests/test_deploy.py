"""deploy/: the X-Accel-Redirect hand-off, trusted proxies, compose.yaml, nginx -t, gunicorn."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from flask import Flask, request

from pastefile.composition import build_services
from pastefile.config import Settings
from pastefile.web import create_app
from tests.support.deploy import DEPLOY, ROOT, NginxPaths, nginx_binary, nginx_test, require
from tests.support.servers import free_port
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


# --- compose.yaml -----------------------------------------------------------------------

SERVICES = {"mariadb", "redis", "rabbitmq", "web", "worker", "beat", "nginx"}
# What every app container needs to run scaled out, behind deploy/nginx.conf.
NEEDED = {
    "APP_ENV",
    "PASTEFILE_SECRET_KEY",
    "PASTEFILE_DATABASE_URL",
    "PASTEFILE_STORAGE_URL",
    "PASTEFILE_REDIS_URL",
    "PASTEFILE_BROKER_URL",
    "PASTEFILE_TRUSTED_PROXIES",
    "PASTEFILE_ACCEL_REDIRECT_PREFIX",
    "PASTEFILE_MAX_UPLOAD_SIZE",
}


def _compose() -> dict[str, dict[str, dict[str, object]]]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_names_every_service():
    assert set(_compose()["services"]) >= SERVICES


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate"])
def test_compose_gives_each_app_service_every_setting(service):
    spec = _compose()["services"][service]
    env = spec["environment"]
    assert isinstance(env, dict)
    assert set(env) >= NEEDED
    unknown = {
        k
        for k in env
        if k.startswith("PASTEFILE_")
        and k.removeprefix("PASTEFILE_").lower() not in Settings.model_fields
        and k not in {"PASTEFILE_BIND", "PASTEFILE_SOCKET_UMASK"}
    }
    assert not unknown, f"compose.yaml sets settings the app does not have: {unknown}"


def test_compose_points_the_app_at_its_services():
    env = _compose()["services"]["web"]["environment"]
    assert isinstance(env, dict)
    assert "@mariadb/" in str(env["PASTEFILE_DATABASE_URL"])
    assert str(env["PASTEFILE_REDIS_URL"]).startswith("redis://redis:")
    assert str(env["PASTEFILE_BROKER_URL"]).startswith("amqp://")
    assert "@rabbitmq:" in str(env["PASTEFILE_BROKER_URL"])


def test_nginx_body_limit_matches_the_app():
    conf = (DEPLOY / "nginx.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    assert limit is not None
    env = _compose()["services"]["web"]["environment"]
    assert isinstance(env, dict)
    app_limit = Settings(_env_file=None, max_upload_size=env["PASTEFILE_MAX_UPLOAD_SIZE"])  # type: ignore[call-arg]
    assert int(limit.group(1)) * 1024 * 1024 == int(app_limit.max_upload_size) + 1024 * 1024


# --- nginx -t and gunicorn's config ------------------------------------------------------


def test_nginx_accepts_the_rendered_config(tmp_path):
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    paths = NginxPaths(
        root=tmp_path / "nginx",
        port=free_port(),
        upstreams=[f"unix:{tmp_path}/a.sock", f"unix:{tmp_path}/b.sock"],
        objects=tmp_path / "files" / "objects",
    )
    (tmp_path / "files" / "objects").mkdir(parents=True)
    result = nginx_test(paths)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_gunicorn_config_loads_with_gthread_preload_and_a_child_exit_hook():
    code = (
        "import json; ns = {'__file__': 'deploy/gunicorn.conf.py'};"
        "exec(open('deploy/gunicorn.conf.py').read(), ns);"
        "print(json.dumps([ns['worker_class'], ns['preload_app'], ns['workers'] > 0,"
        " callable(ns['child_exit']), ns['bind'], ns['wsgi_app']]))"
    )
    env = {"PASTEFILE_BIND": "unix:/tmp/x.sock", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == (
        '["gthread", true, true, true, ["unix:/tmp/x.sock"], "pastefile.wsgi:application"]'
    )
