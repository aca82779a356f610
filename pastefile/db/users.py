"""Tables for accounts and their API tokens (tokens are stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, utcnow


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
    # The kind of second factor the account uses ("totp", …); NULL: none. There is no
    # second factor yet: this is the hook that makes the password-for-token exchange
    # refuse such an account the day one is added (migration 0010).
    second_factor: Mapped[str | None] = mapped_column(String(32), nullable=True)


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


class UserSession(Base):
    """A signed-in browser. The cookie carries a random id; only its sha256 is stored,
    and deleting the row ends the session at once, wherever the cookie is."""

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
