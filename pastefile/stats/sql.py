"""Portable SQL for the stats tables: upserts on every backend, and date helpers.

MariaDB, PostgreSQL and SQLite each spell "insert or add" differently; the
counters and the reports use these so no caller has to know which it is on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Session

from pastefile.db.stats import FileDailyStats
from pastefile.db.upsert import add_to, dialect_insert

COUNTERS = ("views", "hits", "downloads")


def add_counts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``views``/``hits``/``downloads`` to (file_id, day) rows, creating them."""
    table: Table = FileDailyStats.__table__  # type: ignore[assignment]
    add_to(session, table, rows, ("file_id", "day"), COUNTERS)


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = dialect_insert(session, table)  # executemany: one SQL text (see add_to)
    if isinstance(stmt, mysql.Insert):
        stmt = stmt.prefix_with("IGNORE")
    else:
        stmt = stmt.on_conflict_do_nothing()
    session.execute(stmt, list(rows))


def as_date(value: object) -> date:
    """Dates as drivers return them (SQLite's func.date gives a string)."""
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    return date.fromisoformat(str(value)[:10])


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
