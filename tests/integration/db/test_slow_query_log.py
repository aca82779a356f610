"""The slow-query log: over the threshold is logged with the request id, zero turns it off."""

from __future__ import annotations

import logging
import re
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from pastefile.db import database
from tests.support.uploads import upload

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
