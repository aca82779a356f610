"""The ``scrub`` job kind: the storage scrub (``pastefile check``) in the background.

It reads at ``PASTEFILE_SCRUB_MAX_BYTES_PER_SECOND`` so serving keeps the
disk, and repairs only with ``PASTEFILE_SCRUB_REPAIR``. Its result is the job's
result; ``last_scrub`` reads the newest one for ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pastefile.db.jobs import SUCCEEDED, Job
from pastefile.jobs.context import JobContext

if TYPE_CHECKING:
    from pastefile.jobs.service import JobService

KIND = "scrub"


def scrub(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.services.settings
    total = [0]
    done = [0]

    def advance(amount: int) -> None:
        before = done[0] * 100 // max(total[0], 1)
        done[0] += amount
        after = done[0] * 100 // max(total[0], 1)
        if after // 5 != before // 5:  # a row update every 5 %, not every chunk
            ctx.progress(min(after, 99), "re-hashing stored bytes")

    report = ctx.services.scrub.run(
        repair=settings.scrub_repair,
        rate=int(settings.scrub_max_bytes_per_second),
        advance=advance,
        on_total=lambda n: total.__setitem__(0, n),
    )
    return report.as_dict()


def last_scrub(jobs: JobService) -> dict[str, Any] | None:
    """The newest finished scrub's result, or None when none ran yet."""
    stmt = (
        select(Job.result)
        .where(Job.kind == KIND, Job.status == SUCCEEDED)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(1)
    )
    with jobs.lookups.db.read() as session:
        return session.scalar(stmt)
