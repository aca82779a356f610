"""Where counts land: portable upserts into the stats tables, and the book's
chapter 6 Redis patterns (HyperLogLog, sorted set, list, bitmaps) with a
table-backed twin for embedded mode, so every pattern works without Redis."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, delete, desc, func, insert, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, FileDailyVisitor, StatsSalt, UserDailyActivity

log = logging.getLogger(__name__)
COUNTERS = ("views", "hits", "downloads")
LATEST_KEEP = 100
SALT_KEEP_DAYS = 2
KEY_TTL_SECONDS = 400 * 86400


def _dialect_insert(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name in ("mysql", "mariadb"):
        return mysql.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    return insert(table)  # pragma: no cover - only the three are supported


def add_counts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``views``/``hits``/``downloads`` to (file_id, day) rows, creating them."""
    if not rows:
        return
    table: Table = FileDailyStats.__table__  # type: ignore[assignment]
    stmt = _dialect_insert(session, table).values(list(rows))
    if isinstance(stmt, mysql.Insert):
        stmt = stmt.on_duplicate_key_update({c: table.c[c] + stmt.inserted[c] for c in COUNTERS})
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["file_id", "day"],
            set_={c: table.c[c] + stmt.excluded[c] for c in COUNTERS},
        )
    session.execute(stmt)


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = _dialect_insert(session, table).values(list(rows))
    if isinstance(stmt, mysql.Insert):
        stmt = stmt.prefix_with("IGNORE")
    else:
        stmt = stmt.on_conflict_do_nothing()
    session.execute(stmt)


class PatternStore(Protocol):
    """Unique visitors, active users, latest uploads and top downloads."""

    def add_visitors(self, rows: Sequence[tuple[int, date, str]]) -> None: ...
    def add_active(self, rows: Sequence[tuple[date, int]]) -> None: ...
    def push_uploads(self, public_ids: Sequence[str]) -> None: ...
    def add_downloads(self, counts: dict[int, int]) -> None: ...
    def unique_visitors(self, file_id: int | None, days: Sequence[date]) -> dict[date, int]: ...
    def active_users(self, days: Sequence[date]) -> dict[date, int]: ...
    def latest_uploads(self, limit: int) -> list[str]: ...
    def top_downloads(self, limit: int) -> list[tuple[int, int]]: ...
    def salt(self, day: date) -> str: ...
    def prune_salts(self, day: date) -> None: ...


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


class RedisStore(TableStore):
    """Scaled mode: HyperLogLog per file and day, LPUSH+LTRIM, ZINCRBY, SETBIT."""

    def __init__(self, db: Database, url: str, prefix: str) -> None:
        import redis

        super().__init__(db)
        self.redis = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        self.prefix = prefix

    def key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def add_visitors(self, rows: Sequence[tuple[int, date, str]]) -> None:
        grouped: dict[str, list[str]] = {}
        for file_id, day, visitor in rows:
            grouped.setdefault(self.key("uv", file_id, day.isoformat()), []).append(visitor)
            grouped.setdefault(self.key("uv", "site", day.isoformat()), []).append(visitor)
        pipe = self.redis.pipeline(transaction=False)
        for key, visitors in grouped.items():
            pipe.pfadd(key, *visitors)
            pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def add_active(self, rows: Sequence[tuple[date, int]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for day, user_id in rows:
            key = self.key("active", day.isoformat())
            pipe.setbit(key, user_id, 1)
            pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def push_uploads(self, public_ids: Sequence[str]) -> None:
        if not public_ids:
            return
        key = self.key("latest")
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(key, *public_ids)
        pipe.ltrim(key, 0, LATEST_KEEP - 1)
        pipe.execute()

    def add_downloads(self, counts: dict[int, int]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for file_id, n in counts.items():
            pipe.zincrby(self.key("top", "downloads"), n, str(file_id))
        pipe.execute()

    def unique_visitors(self, file_id: int | None, days: Sequence[date]) -> dict[date, int]:
        who = "site" if file_id is None else file_id
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.pfcount(self.key("uv", who, day.isoformat()))
        return {day: int(n) for day, n in zip(days, pipe.execute(), strict=True) if n}

    def active_users(self, days: Sequence[date]) -> dict[date, int]:
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.bitcount(self.key("active", day.isoformat()))
        return {day: int(n) for day, n in zip(days, pipe.execute(), strict=True) if n}

    def latest_uploads(self, limit: int) -> list[str]:
        return [str(x) for x in self.redis.lrange(self.key("latest"), 0, limit - 1)]

    def top_downloads(self, limit: int) -> list[tuple[int, int]]:
        pairs: Any = self.redis.zrevrange(
            self.key("top", "downloads"), 0, limit - 1, withscores=True
        )
        return [(int(member), int(score)) for member, score in pairs]

    def prune_salts(self, day: date) -> None:
        return None  # the salt keys expire by themselves

    def salt(self, day: date) -> str:
        key = self.key("salt", day.isoformat())
        self.redis.set(key, secrets.token_hex(32), nx=True, ex=SALT_KEEP_DAYS * 86400)
        return str(self.redis.get(key))


def make_store(db: Database, redis_url: str, prefix: str) -> PatternStore:
    return RedisStore(db, redis_url, prefix) if redis_url else TableStore(db)


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
