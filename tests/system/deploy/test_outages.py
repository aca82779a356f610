"""Faults with real parts: Redis stopped, the database cut off and back, a full disk.

Redis is a server of our own on a spare port (the machine's Redis is shared);
the database outage is a TCP proxy in front of MariaDB that we cut and restore;
the full disk is a 20 MB tmpfs (root only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.deploy import require, start_gunicorn, stop
from tests.support.servers import TcpProxy, free_port, port_open, wait_until
from tests.support.settings import MARIADB_ADMIN_URL, server_database
from tests.support.uploads import multipart_body

REQUEST_BUDGET = 15.0  # no request may take longer than this, outage or not


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    yield from server_database(MARIADB_ADMIN_URL, "MariaDB")


def _env(root: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASTEFILE_", "APP_ENV"))}
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY="faults-test-secret-0123456789",
        PASTEFILE_DATA_DIR=str(root / "var"),
        PASTEFILE_DATABASE_URL=database_url,
        PASTEFILE_STORAGE_URL=f"file://{root / 'files'}",
        PASTEFILE_LOG_DIR=str(root),
    )
    env.update(extra)
    return env


def _node(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = start_gunicorn(env, f"127.0.0.1:{port}", log=root / "node.out")
    wait_until(lambda: port_open(port), timeout=60)
    return proc, port


def _timed(port: int, method: str, path: str, body: bytes = b"", ctype: str = "") -> int:
    import http.client

    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_BUDGET + 5)
    try:
        headers = {"Content-Type": ctype, "Accept": "application/json"} if ctype else {}
        conn.request(method, path, body=body or None, headers=headers)
        status = conn.getresponse().status
    finally:
        conn.close()
    assert time.monotonic() - started < REQUEST_BUDGET, f"{method} {path} hung"
    return status


def _post(port: int) -> tuple[int, str]:
    import http.client
    import json

    body, ctype = multipart_body(os.urandom(2048), "f.bin")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_BUDGET + 5)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": ctype})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    ident = json.loads(payload).get("id", "") if response.status in (200, 201) else ""
    return response.status, ident


# --- Redis stopped mid-run -------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed")
    assert binary is not None
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: port_open(port))
    try:
        yield proc, port
    finally:
        stop([proc])


def test_requests_succeed_after_redis_stops(tmp_path, database, own_redis):
    redis_proc, redis_port = own_redis
    env = _env(tmp_path, database, PASTEFILE_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    node, port = _node(tmp_path, env)
    try:
        status, first = _post(port)
        assert status == 201
        assert _timed(port, "GET", f"/i/{first}") == 200
        stop([redis_proc])  # Redis is gone from here on
        status, second = _post(port)
        assert status == 201
        for ident in (first, second):
            assert _timed(port, "GET", f"/i/{ident}") == 200
            assert _timed(port, "GET", f"/p/{ident}", ctype="") == 200
    finally:
        stop([node])


# --- the database cut off and restored ---------------------------------------------------


def test_the_pool_recovers_after_the_database_comes_back(tmp_path, database):
    url = make_url(database)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306)).start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    node, port = _node(tmp_path, _env(tmp_path, proxied, PASTEFILE_WEB_THREADS="4"))
    try:
        status, ident = _post(port)
        assert status == 201
        proxy.stop()  # every pooled connection is now dead, and new ones are refused
        assert _post(port)[0] >= 500
        assert _timed(port, "GET", f"/p/{ident}", ctype="json") in (200, 500, 503)
        proxy.start()
        deadline = time.monotonic() + 10
        while _post(port)[0] != 201:
            assert time.monotonic() < deadline, "the pool did not recover"
            time.sleep(0.2)
        assert _timed(port, "GET", f"/p/{ident}", ctype="json") == 200
    finally:
        stop([node])
        proxy.stop()


def _worker_of(node: subprocess.Popen[bytes]) -> int:
    children = Path(f"/proc/{node.pid}/task/{node.pid}/children").read_text().split()
    return int(children[0])


def test_a_worker_started_while_the_database_is_away_keeps_the_node_up(tmp_path, database):
    url = make_url(database)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306)).start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    node, port = _node(tmp_path, _env(tmp_path, proxied))
    try:
        assert _post(port)[0] == 201
        proxy.stop()
        os.kill(_worker_of(node), 9)  # its replacement starts while the database is away
        log = tmp_path / "node.out"
        wait_until(lambda: "starts without" in log.read_text(errors="replace"), timeout=30)
        assert node.poll() is None, "gunicorn stopped the node when a worker could not start"
        wait_until(lambda: port_open(port), timeout=10)
        assert _timed(port, "GET", "/readyz", ctype="json") == 503
        assert _post(port)[0] == 503
        proxy.start()
        wait_until(lambda: _post(port)[0] == 201, timeout=30)
    finally:
        stop([node])
        proxy.stop()
