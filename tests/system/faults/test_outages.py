"""The parts a server leans on go away under load, and come back.

S3 is a moto server of our own, stopped and started again on its port (its
buckets live in this process, so they survive). The machine's MariaDB and
PostgreSQL are shared, so they are never restarted: a TCP proxy in front of
each is cut (every connection, and every new one refused) and restored.
While a part is away, every request that needs it answers 503 with a problem
body; once it is back everything works again and no acknowledged upload is lost.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.support.crashes import CrashableServer, Load
from tests.support.servers import TcpProxy, free_port, wait_until
from tests.support.settings import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL, server_database

FAST = {"PASTEFILE_UPLOAD_RATE_LIMIT": "100000/minute"}
PROBLEM = "application/problem+json"


def _outage_answers(load: Load) -> list[tuple[str, int, str]]:
    return [(m, s, t) for p, m, s, t in load.answers if p in ("cut", "kill")]


def _assert_503_problems(load: Load) -> None:
    during = _outage_answers(load)
    assert during, "requests were made during the outage"
    wrong = [a for a in during if a[1] >= 400 and (a[1] != 503 or a[2] != PROBLEM)]
    assert wrong == [], wrong[:5]
    assert not [e for e in load.errors if e.startswith("cut")], load.errors[:5]
    assert len([e for e in load.errors if e.startswith("kill")]) <= 1, load.errors[:5]


def _refusals(crashable: CrashableServer) -> int:
    """How often a worker of this server found a part it needs away as it started."""
    return (crashable.root / "server.out").read_text(errors="replace").count("starts without")


def _run_outage(crashable: CrashableServer, cut: object, restore: object) -> Load:
    server = crashable.running()
    crashable.wait_all_serving()  # so the worker killed below is never the only one
    load = Load(server)
    try:
        wait_until(lambda: load.done >= 5, timeout=30)
        cut()  # type: ignore[operator]
        load.phase = "cut"
        started = load.done
        wait_until(lambda: load.done >= started + 3, timeout=60)
        # A worker that dies now is replaced by one that starts while the part is away;
        # the one request it was serving, if any, is the only one allowed to fail.
        load.phase = "kill"
        refusals = _refusals(crashable)
        os.kill(min(crashable.workers()), signal.SIGKILL)
        # Its replacement found the part away (the restore waits for that).
        wait_until(lambda: _refusals(crashable) > refusals, timeout=30)
        killed_at = load.done
        wait_until(lambda: load.done >= killed_at + 1, timeout=30)
        load.phase = "cut"
        wait_until(lambda: load.done >= killed_at + 4, timeout=60)
        load.phase = "restoring"
        restore()  # type: ignore[operator]
        time.sleep(1)  # the pools notice; answers from here on must all succeed
        load.phase = "after"
        restored = load.done
        wait_until(lambda: load.done >= restored + 10, timeout=60)
    finally:
        load.finish()
    return load


def _assert_recovered(load: Load, crashable: CrashableServer) -> None:
    after = [a for p, *a in load.answers if p == "after"]
    assert after and all(status < 400 for _, status, _ in after), (after[:5], load.errors[-5:])
    assert not [e for e in load.errors if e.startswith("after")], load.errors[:5]
    assert load.lost() == [], "every acknowledged upload reads back byte for byte"
    assert crashable.process is not None and crashable.process.poll() is None, "still serving"
    wait_until(lambda: len(crashable.workers()) == 2, timeout=30)


# --- S3 stopped --------------------------------------------------------------------------


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[tuple[object, int]]:
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    state = {"server": server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port)}
    state["server"].start()
    try:
        yield state, port
    finally:
        state["server"].stop()


def test_s3_stopped_is_503_and_back_is_back(tmp_path: Path, own_s3: tuple[object, int]) -> None:
    from tests.support.s3 import new_bucket

    state, port = own_s3
    endpoint = f"http://127.0.0.1:{port}"
    crashable = CrashableServer(
        tmp_path,
        PASTEFILE_STORAGE_URL=f"s3://{new_bucket(endpoint)}/blobs",
        PASTEFILE_S3_ENDPOINT_URL=endpoint,
        PASTEFILE_S3_ACCESS_KEY="testing",
        PASTEFILE_S3_SECRET_KEY="testing",
        **FAST,
    )
    server_module = pytest.importorskip("moto.server")

    def stop() -> None:
        state["server"].stop()  # type: ignore[index]

    def start() -> None:
        state["server"] = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port)  # type: ignore[index]
        state["server"].start()  # type: ignore[index]

    try:
        load = _run_outage(crashable, stop, start)
        _assert_503_problems(load)
        _assert_recovered(load, crashable)
    finally:
        crashable.stop()


# --- the database cut behind a proxy ----------------------------------------------------


@pytest.fixture(params=["mariadb", "postgresql"])
def shared_database(request: pytest.FixtureRequest) -> Iterator[str]:
    admin = MARIADB_ADMIN_URL if request.param == "mariadb" else POSTGRES_ADMIN_URL
    yield from server_database(admin, request.param)


def test_the_database_cut_under_load_is_503_then_recovers(
    tmp_path: Path, shared_database: str
) -> None:
    url = make_url(shared_database)
    proxy = TcpProxy((url.host or "127.0.0.1", int(url.port or 0))).start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    crashable = CrashableServer(tmp_path, PASTEFILE_DATABASE_URL=proxied, **FAST)
    try:
        load = _run_outage(crashable, proxy.stop, proxy.start)
        _assert_503_problems(load)
        _assert_recovered(load, crashable)
        assert requests.get(crashable.running().url("/readyz"), timeout=10).status_code == 200
    finally:
        crashable.stop()
        proxy.stop()
