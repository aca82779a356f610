"""Operations basics: request ids through responses and logs, and the slow-query log."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from pastefile.db import database
from pastefile.logging_setup import FORMAT, RequestIdFilter
from tests.support.cli import PASTEFILE, cli_env
from tests.support.servers import free_port, http_get, port_open, wait_until
from tests.support.uploads import upload

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, with the request id stamped on records as the app's handlers do."""
    caplog.set_level(logging.INFO, logger="pastefile")
    stamp = RequestIdFilter()
    caplog.handler.addFilter(stamp)
    yield caplog
    caplog.handler.removeFilter(stamp)


def _formatted(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    formatter = logging.Formatter(FORMAT)
    return [formatter.format(r) for r in caplog.records if r.name == logger]


# --- X-Request-Id ---------------------------------------------------------------------------


@pytest.mark.parametrize("rid", ["abc123", "trace-7f3e.span:42_x", "x" * 64])
def test_a_valid_request_id_is_honoured_and_returned(client, rid):
    response = client.get("/", headers={"X-Request-Id": rid})
    assert response.headers["X-Request-Id"] == rid


def test_a_request_id_is_generated_when_none_is_sent(client):
    first = client.get("/").headers["X-Request-Id"]
    second = client.get("/").headers["X-Request-Id"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


INVALID_IDS = ["x" * 65, "has space", "line\nbreak", "trailing-newline\n", "", "ümlaut", "<b>"]


@pytest.mark.parametrize("rid", INVALID_IDS, ids=repr)
def test_an_invalid_request_id_is_replaced(client, rid):
    # environ_overrides: the test client refuses to build a header with a newline itself.
    response = client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": rid})
    assert response.status_code == 200
    assert GENERATED.fullmatch(response.headers["X-Request-Id"])


def test_request_id_is_returned_on_errors_too(client):
    response = client.get("/p/AAAAAAAAAAAA", headers={"X-Request-Id": "lost-file-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "lost-file-1"


def test_the_access_log_line_carries_the_request_id(client, logs):
    upload(client, b"logged upload", "log.txt")
    logs.clear()
    client.get("/p/AAAAAAAAAAAA?x=1", headers={"X-Request-Id": "follow-me-42"})
    lines = _formatted(logs, "pastefile.access")
    assert len(lines) == 1
    assert "rid=follow-me-42" in lines[0]
    assert '"GET /p/AAAAAAAAAAAA?x=1" 404' in lines[0]
    assert re.search(r" pid=\d+ thread=\S+ ", lines[0])


def test_an_invalid_request_id_never_reaches_the_log(client, logs):
    client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": "forged\nINFO fake line"})
    (line,) = _formatted(logs, "pastefile.access")
    assert "forged" not in line
    assert "\n" not in line


def test_the_error_log_line_carries_the_request_id(client, services, logs, monkeypatch):
    def crash() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.db, "read", crash)
    response = client.get("/p/AAAAAAAAAAAA", headers={"X-Request-Id": "boom-1"})
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal_error"
    assert "disk on fire" not in response.get_data(as_text=True)
    errors = [r for r in logs.records if r.name == "pastefile.error"]
    assert [r.request_id for r in errors] == ["boom-1"]  # type: ignore[attr-defined]
    assert errors[0].exc_info is not None


def test_access_and_error_logs_are_written_to_the_log_dir(sqlite_url, tmp_path):
    log_dir = tmp_path / "logs"
    port = free_port()
    env = cli_env(
        PASTEFILE_DATA_DIR=str(tmp_path / "data"),
        PASTEFILE_LOG_DIR=str(log_dir),
        APP_ENV="development",
    )
    server = subprocess.Popen(
        [PASTEFILE, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port) or server.poll() is not None, timeout=30)
        status, _ = http_get(f"http://127.0.0.1:{port}/s/zzzzzzz", {"X-Request-Id": "from-curl-7"})
        assert status == 404
        wait_until(lambda: "from-curl-7" in _read(log_dir / "access.log"), timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    (line,) = [ln for ln in _read(log_dir / "access.log").splitlines() if "from-curl-7" in ln]
    assert '"GET /s/zzzzzzz" 404' in line
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO \S+:\d+ pid=\d+ thread=", line)
    assert (log_dir / "error.log").exists()
    assert "from-curl-7" not in _read(log_dir / "error.log")


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


# --- the slow-query log ----------------------------------------------------------------------


def _sleepy_query(services, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Run one query that takes at least ``seconds`` on the server itself."""
    with services.db.read() as session:
        conn = session.connection()
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
                "pf_sleep", 1, lambda s: time.sleep(s) or 0
            )
            session.execute(text("SELECT pf_sleep(:s)"), {"s": seconds})
        elif dialect == "postgresql":
            session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        else:
            session.execute(text("SELECT SLEEP(:s)"), {"s": seconds})


def _slow_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pastefile.slowquery"]


@pytest.mark.parametrize("settings_overrides", [{"slow_query_ms": 5}])
def test_a_query_over_the_threshold_is_logged(services, logs):
    _sleepy_query(services, 0.05)
    # Only the sleeping query is certain to be slow; BEGIN and friends may be on a busy box.
    lines = [line for line in _slow_lines(logs) if "sleep" in line.lower()]
    assert len(lines) == 1
    elapsed = float(re.match(r"slow query ([\d.]+) ms: ", lines[0]).group(1))  # type: ignore[union-attr]
    assert elapsed >= 50
    assert "SELECT" in lines[0]
    warnings = [r for r in logs.records if r.name == "pastefile.slowquery"]
    assert warnings[0].levelno == logging.WARNING


@pytest.mark.parametrize("settings_overrides", [{"slow_query_ms": 0}])
def test_a_zero_threshold_turns_the_slow_query_log_off(services, logs):
    _sleepy_query(services, 0.05)
    assert _slow_lines(logs) == []


@pytest.mark.parametrize("settings_overrides", [{"slow_query_ms": 10_000}])
def test_fast_queries_are_not_logged(client, logs):
    upload(client, b"quick", "q.txt")
    client.get("/p/AAAAAAAAAAAA")
    assert _slow_lines(logs) == []


class _FakeClock:
    """Every reading is a second after the last: every query looks slow."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("settings_overrides", [{"slow_query_ms": 500}])
def test_a_slow_query_during_a_request_carries_its_request_id(client, logs, monkeypatch):
    monkeypatch.setattr(database, "time", SimpleNamespace(perf_counter=_FakeClock().perf_counter))
    client.get("/p/AAAAAAAAAAAA", headers={"X-Request-Id": "slow-page-9"})
    slow = [r for r in logs.records if r.name == "pastefile.slowquery"]
    assert slow
    assert {r.request_id for r in slow} == {"slow-page-9"}  # type: ignore[attr-defined]
    assert any("FROM files WHERE files.public_id" in r.getMessage() for r in slow)
