"""Pruning finished job rows, the last step of the ``gc`` job.

Succeeded and cancelled jobs are deleted ``PASTEFILE_JOB_RETENTION_DAYS`` (30) after
they finished, failed ones after ``PASTEFILE_JOB_FAILED_RETENTION_DAYS`` (90): a
failure is what someone comes back to look at. 0 keeps them forever. Queued and
running jobs are never touched, and a job retried meanwhile (queued again, no
finish time) no longer matches the DELETE.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from pastefile.db.jobs import CANCELLED, FAILED, SUCCEEDED, Job
from pastefile.db.types import utcnow
from pastefile.jobs.context import JobContext

_BATCH = 500


def prune_jobs(ctx: JobContext) -> int:
    """Delete finished jobs past their retention; the number deleted."""
    settings = ctx.services.settings
    removed = _prune(ctx, (SUCCEEDED, CANCELLED), settings.job_retention_days)
    return removed + _prune(ctx, (FAILED,), settings.job_failed_retention_days)


def _prune(ctx: JobContext, statuses: tuple[str, ...], days: int) -> int:
    if days <= 0:
        return 0
    old = (Job.status.in_(statuses), Job.finished_at < utcnow() - timedelta(days=days))
    removed = 0
    while True:
        # Small batches: each is a short transaction, and a cancel of gc stops between them.
        ctx.progress(90, f"pruning finished jobs ({removed} so far)")
        with ctx.services.db.write() as session:
            ids = list(session.scalars(select(Job.id).where(*old).order_by(Job.id).limit(_BATCH)))
            if ids:
                session.execute(delete(Job).where(Job.id.in_(ids), *old))
        removed += len(ids)
        if len(ids) < _BATCH:
            return removed
