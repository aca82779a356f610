"""Tables for accounts, tokens, moderation, tombstones and resumable uploads.

Kept apart from ``models.py`` (the core's tables) so each feature owns its
file; they share one ``Base`` and so one metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base, File
from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[int] = mapped_column(Integer, default=0x01)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # NULL means "the site-wide default from settings".
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    quota_files: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A personal API token. Only the sha256 of the value is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(Unicode(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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


class TusUpload(Base):
    """A resumable upload in progress; its bytes live in a part file."""

    __tablename__ = "tus_uploads"

    id: Mapped[str] = mapped_column(case_sensitive_id(32), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(Unicode(255))
    options: Mapped[str] = mapped_column(Text, default="{}")
    file_public_id: Mapped[str | None] = mapped_column(case_sensitive_id(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# The API lists one owner's files, newest first: this index serves that query
# and narrows every filter and ``q=`` search to the owner's rows.
Index("ix_files_owner_created", File.owner_id, File.created_at)
