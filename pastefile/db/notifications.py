"""Tables for notifications (migration 0009_notifications): webhook endpoints and their
delivery log, "email me when it is downloaded" subscriptions, and download history.

A webhook secret must be readable to sign with, so it is stored encrypted with a key
derived from the app's secret key (``services/notifications/secrets.py``), not hashed.
Download history is aggregated: one row per file, day and country, never an address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, utcnow

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"


class WebhookEndpoint(Base):
    """Where events go. ``owner_id`` NULL: a site-wide endpoint (every user's events)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(255))  # space-separated event types
    description: Mapped[str] = mapped_column(Unicode(200), default="")
    secret_enc: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Unicode(255), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Base):
    """One message to one endpoint, and how its attempts went (the delivery log)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Unicode(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationAddress(Base):
    """Where a user's notification mails go."""

    __tablename__ = "notification_addresses"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DownloadAlert(Base):
    """ "Email me when it is downloaded" for one subject (a file, a collection, a request).

    The first download mails at once (``first_sent_at``); later ones add to ``pending``,
    which the digest job mails at most once per interval (``last_sent_at``).
    """

    __tablename__ = "download_alerts"
    __table_args__ = (UniqueConstraint("user_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(Unicode(255), default="")
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DownloadHistory(Base):
    """Downloads of a file per day and country ("" where no GeoIP database is set)."""

    __tablename__ = "download_history"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


Index("ix_webhook_deliveries_endpoint", WebhookDelivery.endpoint_id, WebhookDelivery.id)
Index("ix_download_alerts_pending", DownloadAlert.pending, DownloadAlert.last_sent_at)
