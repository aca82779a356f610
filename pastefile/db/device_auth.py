"""Device authorizations (RFC 8628): a command-line client asks, a signed-in browser approves.

Both codes are stored as their sha256 only: the device code is a bearer secret until it is
exchanged, and the user code is what a person types; neither is readable from the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, utcnow

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
# Exchanged for a token: a device code works once.
USED = "used"


class DeviceAuthorization(Base):
    __tablename__ = "device_authorizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(32))
    # What the client calls the machine it runs on (the token is named after it).
    device_name: Mapped[str | None] = mapped_column(Unicode(64), nullable=True)
    scopes: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Who approved or denied it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    # Seconds the client must wait between polls; slow_down adds 5.
    interval: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
