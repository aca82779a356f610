"""deploy/ read as files: compose.yaml's services and settings, nginx's body limit."""

from __future__ import annotations

import re

import pytest
import yaml

from pastefile.config import Settings
from tests.support.deploy import DEPLOY

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
