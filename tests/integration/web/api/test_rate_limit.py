"""429 with X-RateLimit-* headers: per token or IP, in memory and on the real Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.support.api import make_token, problem
from tests.support.settings import make_settings


@pytest.fixture
def settings_overrides():
    return {"api_rate_limit": "3/minute"}


def _exhaust(client, headers):
    for expected in (2, 1, 0):
        response = client.get("/api/v1/files", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(expected)
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    limited = client.get("/api/v1/files", headers=headers)
    problem(limited, 429, "too_many_requests")
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"]


def test_rate_limit_429_with_headers_per_token(client, services):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    _exhaust(client, alice)
    problem(client.get("/api/v1/me", headers=alice), 429, "too_many_requests")  # one budget
    assert client.get("/api/v1/files", headers=bob).status_code == 200  # per token


def test_rate_limit_on_redis_is_shared_between_apps(tmp_path, sqlite_url):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        from tests.support.settings import service_unavailable

        service_unavailable("Redis", exc)
    from pastefile.composition import build_services
    from pastefile.db import migrate
    from pastefile.web import create_app

    settings = make_settings(tmp_path, sqlite_url, redis_url=url, api_rate_limit="3/minute")
    services = build_services(settings)
    migrate.upgrade(services.db)
    # Two apps are two workers: the count lives in Redis, not in either process.
    first, second = create_app(services=services), create_app(services=services)
    headers = {"Authorization": f"Bearer pf_{uuid.uuid4().hex}"}  # a fresh key in Redis
    for client in (first.test_client(), first.test_client(), second.test_client()):
        problem(client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    limited = second.test_client().get("/api/v1/me", headers=headers)
    problem(limited, 429, "too_many_requests")
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    services.close()
