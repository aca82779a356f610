"""How a job row changes state: finished, queued again after a failure, reset for a
retry, and how long to wait before the next attempt. ``JobService`` applies these
inside the transaction that holds the row's lock."""

from __future__ import annotations

import random
from datetime import timedelta

from pastefile.db.jobs import QUEUED, Job
from pastefile.db.types import utcnow


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with equal jitter: half fixed, half random."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def finish(job: Job, status: str, message: str) -> None:
    now = utcnow()
    job.status = status
    job.message = message
    job.finished_at = now
    job.updated_at = now
    job.lease_until = None


def requeue(job: Job, delay: float) -> None:
    now = utcnow()
    job.status = QUEUED
    job.run_after = now + timedelta(seconds=delay)
    job.message = f"retry {job.attempts + 1} of {job.max_attempts} in {delay:.0f}s"
    job.updated_at = now
    job.worker = None
    job.lease_until = None


def reset(job: Job) -> None:
    job.status = QUEUED
    job.attempts = 0
    job.progress = 0
    job.message = "queued again"
    job.error = None
    job.traceback = None
    job.result = None
    job.started_at = None
    job.finished_at = None
    job.run_after = None
    job.worker = None
    job.task_id = None
    job.updated_at = utcnow()


def describe_error(error: BaseException) -> str:
    detail = getattr(error, "detail", None) or str(error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {detail}"[:1000]
