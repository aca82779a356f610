"""Reading the numbers back: per file, site-wide, and the dashboards' series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import desc, func, select

from pastefile.db.database import Database
from pastefile.db.jobs import Job
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, StatsReport
from pastefile.errors import InvalidInput
from pastefile.services.rowids import is_row_id
from pastefile.stats.sql import COUNTERS, as_date, days_between
from pastefile.stats.stores import StatsStore

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return days_between(self.start, self.end)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, end+1 00:00) in UTC, for timestamp columns."""
        low = datetime.combine(self.start, time(), UTC)
        return low, datetime.combine(self.end + timedelta(days=1), time(), UTC)


def parse_range(start: str | None, end: str | None, max_days: int, today: date) -> DayRange:
    """``from``/``to`` as YYYY-MM-DD (inclusive); by default the last 30 days."""
    last = _day(end, "to") if end else today
    first = _day(start, "from") if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("'from' must not be after 'to'")
    if (last - first).days + 1 > max_days:
        raise InvalidInput(f"the range may span at most {max_days} days")
    return DayRange(first, last)


def _day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date as YYYY-MM-DD") from None


class StatsService:
    def __init__(self, db: Database, store: StatsStore) -> None:
        self.db = db
        self.store = store

    def file_days(self, file_id: int | None, span: DayRange) -> list[dict[str, Any]]:
        """One row per day: views, hits, downloads and unique visitors."""
        t = FileDailyStats
        stmt = select(t.day, *(func.sum(getattr(t, c)) for c in COUNTERS)).where(
            t.day >= span.start, t.day <= span.end
        )
        if file_id is not None:
            stmt = stmt.where(t.file_id == file_id)
        with self.db.read() as session:
            found = {as_date(r[0]): r[1:] for r in session.execute(stmt.group_by(t.day)).all()}
        uv = self.store.unique_visitors(file_id, span.days)
        rows = []
        for day in span.days:
            values = found.get(day, (0, 0, 0))
            row: dict[str, Any] = {"day": day.isoformat(), "uv": uv.get(day, 0)}
            row.update({c: int(v or 0) for c, v in zip(COUNTERS, values, strict=True)})
            rows.append(row)
        return rows

    def uploads_per_day(self, span: DayRange) -> list[dict[str, Any]]:
        low, high = span.bounds()
        stmt = select(File.created_at, File.size).where(
            File.created_at >= low, File.created_at < high
        )
        files, size = Counter[date](), Counter[date]()
        with self.db.read() as session:
            for created, nbytes in session.execute(stmt):
                files[created.date()] += 1
                size[created.date()] += int(nbytes)
        return [{"day": d.isoformat(), "uploads": files[d], "bytes": size[d]} for d in span.days]

    def bytes_stored(self, span: DayRange) -> list[dict[str, Any]]:
        """Bytes of the files that exist now, by the day they were uploaded, cumulated."""
        low, _ = span.bounds()
        with self.db.read() as session:
            before = session.scalar(
                select(func.coalesce(func.sum(File.size), 0)).where(File.created_at < low)
            )
        total = int(before or 0)
        out = []
        for row in self.uploads_per_day(span):
            total += row["bytes"]
            out.append({"day": row["day"], "bytes": total})
        return out

    def top_files(self, span: DayRange, limit: int = 10) -> list[dict[str, Any]]:
        t = FileDailyStats
        total = func.sum(t.views + t.hits + t.downloads)
        stmt = (
            select(File.public_id, File.filename, total)
            .join(File, File.id == t.file_id)
            .where(t.day >= span.start, t.day <= span.end)
            .group_by(File.public_id, File.filename)
            .order_by(desc(total), File.public_id)
            .limit(limit)
        )
        with self.db.read() as session:
            rows = session.execute(stmt).all()
        return [{"id": p, "filename": n, "requests": int(c)} for p, n, c in rows]

    def storage_by_type(self) -> list[dict[str, Any]]:
        stmt = select(File.mimetype, func.count(), func.sum(File.size)).group_by(File.mimetype)
        kinds, counts = Counter[str](), Counter[str]()
        with self.db.read() as session:
            for mimetype, n, nbytes in session.execute(stmt):
                major = (mimetype or "other").split("/", 1)[0] or "other"
                kinds[major] += int(nbytes or 0)
                counts[major] += int(n)
        return [{"type": k, "bytes": v, "files": counts[k]} for k, v in kinds.most_common()]

    def jobs_by_status(self) -> list[dict[str, Any]]:
        stmt = select(Job.status, func.count()).group_by(Job.status).order_by(Job.status)
        with self.db.read() as session:
            return [{"status": s, "jobs": int(n)} for s, n in session.execute(stmt)]

    def site(self, span: DayRange) -> dict[str, Any]:
        days = self.file_days(None, span)
        active = self.store.active_users(span.days)
        for row in days:
            row["active_users"] = active.get(date.fromisoformat(row["day"]), 0)
        return {
            "from": span.start.isoformat(),
            "to": span.end.isoformat(),
            "days": days,
            "totals": totals(days),
            "uploads": self.uploads_per_day(span),
            "top_files": self.top_files(span),
            "storage_by_type": self.storage_by_type(),
            "jobs_by_status": self.jobs_by_status(),
            "latest_uploads": self.store.latest_uploads(10),
            "top_downloads": self._top_downloads(),
        }

    def _top_downloads(self, limit: int = 10) -> list[dict[str, Any]]:
        pairs = self.store.top_downloads(limit)
        ids = [f for f, _ in pairs]
        with self.db.read() as session:
            names = dict(
                session.execute(select(File.id, File.public_id).where(File.id.in_(ids))).all()
            )
        return [{"id": names[f], "downloads": n} for f, n in pairs if f in names]

    def reports(self, limit: int = 100) -> list[StatsReport]:
        """The stored reports, newest first."""
        stmt = select(StatsReport).order_by(desc(StatsReport.created_at)).limit(limit)
        with self.db.read() as session:
            return list(session.scalars(stmt))

    def report(self, report_id: int) -> StatsReport | None:
        if not is_row_id(report_id):  # beyond the column's range nothing can exist
            return None
        with self.db.read() as session:
            return session.get(StatsReport, report_id)


def totals(days: list[dict[str, Any]]) -> dict[str, int]:
    """Sums over the range; ``uv`` is the sum of daily uniques (the salt rotates daily)."""
    keys = [*COUNTERS, "uv"]
    return {k: sum(int(row.get(k, 0)) for row in days) for k in keys}
