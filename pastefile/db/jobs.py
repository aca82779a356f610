"""Tables for background jobs and the scheduler's leader lease (migration 0004_jobs).

A job row is the source of truth for the API and the UI, whichever runner
(in-process threads or Celery) executes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, utcnow

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    queue: Mapped[str] = mapped_column(String(16), default="short")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Unicode(255), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str | None] = mapped_column(Unicode(1000), nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a queued job may run next (retry backoff); NULL means now.
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who runs it ("host:pid") and until when the claim holds without a heartbeat.
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Makes a submission idempotent, e.g. one sweep per schedule tick.
    unique_key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("files.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Lease(Base):
    """A named lease: whoever holds an unexpired row is the leader for ``name``."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_jobs_owner_created", Job.owner_id, Job.created_at)
Index("ix_jobs_kind_status", Job.kind, Job.status)
