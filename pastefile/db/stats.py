"""The stats tables (migration 0005_stats): daily counters, visitors, reports.

No raw IP is stored anywhere: a visitor is a hash of the IP, the User-Agent
and a salt that is random per day and deleted two days later.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, utcnow


class FileDailyStats(Base):
    """Views (/p/), raw hits (/i/) and downloads (/d/) of one file on one day."""

    __tablename__ = "file_daily_stats"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)


class FileDailyVisitor(Base):
    """Embedded mode's unique visitors (scaled mode keeps a HyperLogLog in Redis)."""

    __tablename__ = "file_daily_visitors"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor: Mapped[str] = mapped_column(String(32), primary_key=True)


class UserDailyActivity(Base):
    """Embedded mode's active users per day (scaled mode: a Redis bitmap per day)."""

    __tablename__ = "user_daily_activity"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class StatsSalt(Base):
    """The day's random visitor salt, shared by every process, deleted after two days."""

    __tablename__ = "stats_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))


class StatsReport(Base):
    """A report that was built (and mailed): its summary and its .xlsx blob."""

    __tablename__ = "stats_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))  # the .xlsx; gc keeps it
    size: Mapped[int] = mapped_column(BigInteger)
    recipients: Mapped[str] = mapped_column(Unicode(1000), default="")
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
