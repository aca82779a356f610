"""Live job events: the WebSocket on a real server, and Redis pub/sub across buses."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from simple_websocket import Client, ConnectionClosed
from werkzeug.serving import BaseWSGIServer, make_server

from pastefile.composition import Services
from pastefile.events.redis import RedisBus
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.services.accounts import Permission, Principal
from pastefile.web import create_app
from tests.support.settings import service_unavailable
from tests.support.sockets import websocket

REDIS_URL = os.environ.get("PASTEFILE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def server(services: Services) -> Iterator[BaseWSGIServer]:
    runner = ThreadRunner(services, workers=1, poll=0.05, schedule=False)
    services.jobs.use_runner(runner)
    runner.start()
    httpd = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()


def _token(services: Services, roles: int = Permission.LOGIN) -> tuple[int, str]:
    name = f"u{uuid.uuid4().hex[:8]}"
    user = services.accounts.create_user(name, "a long enough password", roles)
    principal = Principal(user.id, name, roles, frozenset({"read", "upload"}))
    return user.id, services.accounts.create_token(principal, "ws", ["read"])[1]


def _connect(server: BaseWSGIServer, token: str) -> Client:
    return Client.connect(f"ws://127.0.0.1:{server.server_port}/api/v1/events?access_token={token}")


def _events(ws: Client, until: str, limit: int = 20) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        raw = ws.receive(timeout=10)
        assert raw is not None, f"no event; saw {seen}"
        event = json.loads(raw)
        seen.append(event)
        if event.get("type") == "job" and event["job"]["status"] == until:
            return seen
    raise AssertionError(f"never saw a job {until}: {seen}")


@SQLITE_ONLY
def test_job_events_reach_their_owner_and_operators_only(
    services: Services, server: BaseWSGIServer
) -> None:
    owner, owner_token = _token(services)
    _, stranger_token = _token(services)
    _, operator_token = _token(services, Permission.LOGIN | Permission.OPERATOR)
    clients = [_connect(server, t) for t in (owner_token, stranger_token, operator_token)]
    try:
        for ws in clients:
            assert json.loads(ws.receive(timeout=30))["type"] == "hello"
        job = services.jobs.submit("expire_sweep", owner_id=owner)
        mine = _events(clients[0], until="succeeded")
        statuses = [e["job"]["status"] for e in mine if e["type"] == "job"]
        assert statuses[0] == "queued" and "running" in statuses
        assert all(e["job"]["id"] == job.id for e in mine if e["type"] == "job")
        assert _events(clients[2], until="succeeded")  # the operator sees it too
        assert clients[1].receive(timeout=1) is None  # the stranger does not
    finally:
        for ws in clients:
            ws.close()


@SQLITE_ONLY
def test_the_websocket_refuses_anonymous_clients(server: BaseWSGIServer) -> None:
    url = f"ws://127.0.0.1:{server.server_port}/api/v1/events"
    with websocket(url) as ws, pytest.raises(ConnectionClosed):
        ws.receive(timeout=10)


def test_redis_carries_events_between_processes() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", exc)
    channel = f"test-{uuid.uuid4().hex[:8]}"  # other runs on this Redis publish too
    publisher, listener = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)
    try:
        subscription = listener.subscribe(user_id=7)
        event = {"type": "job", "owner_id": 7, "job": {"id": 1, "status": "running"}}
        for _ in range(50):  # the listener thread subscribes asynchronously
            publisher.publish(event)
            got = subscription.get(timeout=0.2)
            if got is not None:
                break
        assert got == event
        publisher.publish({"type": "job", "owner_id": 8, "job": {"id": 2}})
        assert subscription.get(timeout=0.5) in (None, event)
    finally:
        publisher.close()
        listener.close()
