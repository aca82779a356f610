"""Portable "insert or add": MariaDB, PostgreSQL and SQLite each spell it differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name in ("mysql", "mariadb"):
        return mysql.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    return insert(table)  # pragma: no cover - only the three are supported


def add_to(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    counters: Sequence[str],
) -> None:
    """Insert ``rows``; where one with the same ``keys`` exists, add its ``counters``.

    One statement executed for each row (``executemany``), not one multi-row VALUES: that
    would be a new SQL text for every batch size, and SQLite keeps each one compiled in
    every pooled connection's statement cache (a web worker's RSS climbed with them)."""
    if not rows:
        return
    stmt = dialect_insert(session, table)
    if isinstance(stmt, mysql.Insert):
        stmt = stmt.on_duplicate_key_update({c: table.c[c] + stmt.inserted[c] for c in counters})
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters}
        )
    session.execute(stmt, list(rows))
