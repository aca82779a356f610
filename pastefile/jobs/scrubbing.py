"""The ``scrub`` job kind: the storage scrub (``pastefile check``) in the background.

It reads at ``PASTEFILE_SCRUB_MAX_BYTES_PER_SECOND`` so serving keeps the
disk, and repairs only with ``PASTEFILE_SCRUB_REPAIR``. A pass over a large
store takes longer than a job may run (Celery's time limits) and than a
worker thread should be held, so each job hashes for a slice of time and
queues the next slice, which carries the counts on; the last slice compares
storage with the rows and records the whole pass. ``last_scrub`` reads the
newest complete pass for ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pastefile.db.jobs import QUEUED, RUNNING, SUCCEEDED, Job
from pastefile.jobs.context import JobContext

if TYPE_CHECKING:
    from pastefile.config import Settings
    from pastefile.jobs.service import JobService

KIND = "scrub"
_SUMMED = ("checked", "bytes", "seconds", "corrupt")
_RECENT = 50
# A slice holds a worker of the long queue, and a user's URL fetch queued behind it
# waits until the slice ends: a fetch must not wait minutes for a background pass.
_SLICE_AT_MOST = 20.0


def slice_seconds(settings: Settings) -> float:
    """Hash for a short slice, and always within the long queue's time limit, leaving
    room for the comparison."""
    limit = settings.job_long_soft_limit or settings.job_long_hard_limit
    return max(1.0, min(_SLICE_AT_MOST, limit * 0.7))


def scrub(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.services.settings
    after = str(ctx.params.get("after", ""))
    if not after and _pass_in_flight(ctx):
        return {"partial": True, "skipped": "the previous pass is still running"}
    total = [1]
    done = [0]

    def advance(amount: int) -> None:
        done[0] += amount
        ctx.progress(min(99, done[0] * 100 // max(total[0], 1)), "re-hashing stored bytes")

    report = ctx.services.scrub.run(
        repair=settings.scrub_repair,
        rate=int(settings.scrub_max_bytes_per_second),
        advance=advance,
        on_total=lambda n: total.__setitem__(0, n),
        after=after,
        budget=slice_seconds(settings),
    )
    result = carry(ctx.params.get("carried"), report.as_dict())
    if report.resume_after:
        ctx.jobs.submit(KIND, params={"after": report.resume_after, "carried": result})
    return result


def carry(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """One slice's result with the earlier slices' counts and repairs added in."""
    if not before:
        return now
    merged = dict(now)
    for key in _SUMMED:
        merged[key] = before.get(key, 0) + now.get(key, 0)
    merged["seconds"] = round(merged["seconds"], 3)
    merged["problems"] = now["problems"] - now["corrupt"] + merged["corrupt"]
    examples = dict(now["examples"])
    examples["corrupt"] = (before["examples"]["corrupt"] + now["examples"]["corrupt"])[:20]
    merged["examples"] = examples
    repaired = dict(before.get("repaired", {}))
    for key, value in now.get("repaired", {}).items():
        repaired[key] = repaired.get(key, 0) + value
    merged["repaired"] = repaired
    return merged


def _pass_in_flight(ctx: JobContext) -> bool:
    stmt = select(Job.id).where(
        Job.kind == KIND, Job.status.in_((QUEUED, RUNNING)), Job.id != ctx.job.id
    )
    with ctx.services.db.read() as session:
        return session.scalar(stmt.limit(1)) is not None


def last_scrub(jobs: JobService) -> dict[str, Any] | None:
    """The newest complete pass's result, or None when none finished yet."""
    stmt = (
        select(Job.result)
        .where(Job.kind == KIND, Job.status == SUCCEEDED)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(_RECENT)
    )
    with jobs.lookups.db.read() as session:
        for result in session.scalars(stmt):
            if result and not result.get("partial"):
                return dict(result)
    return None
