"""Tables for moderation and deletions: blocked content hashes and the tombstones
that make a deleted file's links answer 410 or 451."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class BlockedHash(Base):
    """Content removed by moderation; re-uploads answer 451."""

    __tablename__ = "blocked_hashes"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Unicode(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FileTombstone(Base):
    """What remains of a deleted, expired or removed file, so its links say 410/451."""

    __tablename__ = "file_tombstones"

    public_id: Mapped[str] = mapped_column(case_sensitive_id(32), primary_key=True)
    short_code: Mapped[str] = mapped_column(case_sensitive_id(16), unique=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visibility: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
