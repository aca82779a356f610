"""The embedded stats store: every pattern is a table or a query."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Table, delete, desc, func, select

from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, FileDailyVisitor, StatsSalt, UserDailyActivity
from pastefile.stats.sql import as_date, insert_ignore
from pastefile.stats.stores.base import SALT_KEEP_DAYS


class TableStore:
    """Embedded mode: every pattern is a table or a query."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_visitors(self, rows: Sequence[tuple[int, date, str]]) -> None:
        table: Table = FileDailyVisitor.__table__  # type: ignore[assignment]
        values = [{"file_id": f, "day": d, "visitor": v} for f, d, v in sorted(rows)]
        with self.db.write() as session:
            insert_ignore(session, table, values)

    def add_active(self, rows: Sequence[tuple[date, int]]) -> None:
        table: Table = UserDailyActivity.__table__  # type: ignore[assignment]
        values = [{"day": d, "user_id": u} for d, u in sorted(rows)]
        with self.db.write() as session:
            insert_ignore(session, table, values)

    def push_uploads(self, public_ids: Sequence[str]) -> None:
        return None  # the files table is the list: newest created_at first

    def add_downloads(self, counts: dict[int, int]) -> None:
        return None  # file_daily_stats.downloads is the sorted set

    def unique_visitors(self, file_id: int | None, days: Sequence[date]) -> dict[date, int]:
        if not days:
            return {}
        t = FileDailyVisitor
        stmt = select(t.day, func.count(func.distinct(t.visitor))).where(
            t.day >= min(days), t.day <= max(days)
        )
        if file_id is not None:
            stmt = stmt.where(t.file_id == file_id)
        with self.db.read() as session:
            rows = session.execute(stmt.group_by(t.day)).all()
        return {as_date(day): int(n) for day, n in rows}

    def active_users(self, days: Sequence[date]) -> dict[date, int]:
        if not days:
            return {}
        t = UserDailyActivity
        stmt = (
            select(t.day, func.count())
            .where(t.day >= min(days), t.day <= max(days))
            .group_by(t.day)
        )
        with self.db.read() as session:
            return {as_date(day): int(n) for day, n in session.execute(stmt).all()}

    def latest_uploads(self, limit: int) -> list[str]:
        stmt = select(File.public_id).order_by(desc(File.created_at), desc(File.id)).limit(limit)
        with self.db.read() as session:
            return list(session.scalars(stmt))

    def top_downloads(self, limit: int) -> list[tuple[int, int]]:
        total = func.sum(FileDailyStats.downloads)
        stmt = (
            select(FileDailyStats.file_id, total)
            .group_by(FileDailyStats.file_id)
            .having(total > 0)
            .order_by(desc(total), FileDailyStats.file_id)
            .limit(limit)
        )
        with self.db.read() as session:
            return [(int(f), int(n)) for f, n in session.execute(stmt).all()]

    def salt(self, day: date) -> str:
        """The day's salt: read it, else insert one (a racing process's insert wins)."""
        stmt = select(StatsSalt.salt).where(StatsSalt.day == day)
        with self.db.read() as session:
            found = session.scalar(stmt)
        if found:
            return str(found)
        table: Table = StatsSalt.__table__  # type: ignore[assignment]
        with self.db.write() as session:
            insert_ignore(session, table, [{"day": day, "salt": secrets.token_hex(32)}])
        with self.db.read() as session:
            return str(session.scalar(stmt))

    def prune_salts(self, day: date) -> None:
        """Forget old salts, so old visitor ids can no longer be linked to anyone."""
        cutoff = day - timedelta(days=SALT_KEEP_DAYS)
        with self.db.write() as session:
            session.execute(delete(StatsSalt).where(StatsSalt.day < cutoff))
