"""Running one job, the same way for every runner.

Claim the row, run the kind's handler, then record success, a retry with
backoff, or the final failure. Handlers are idempotent (dedup by content,
unique keys), because a retry or a redelivery is not a transaction.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pastefile import errors, malloc
from pastefile.jobs.context import FileGone, JobCancelled, JobContext, inside_job
from pastefile.jobs.kinds import kind_named

if TYPE_CHECKING:
    from pastefile.composition import Services
    from pastefile.jobs.service import JobService

log = logging.getLogger(__name__)

# Failures that another attempt cannot fix: bad input, refused URLs, missing files.
PERMANENT: tuple[type[BaseException], ...] = (
    errors.InvalidInput,
    errors.NotFound,
    errors.UnsupportedType,
    errors.CorruptImage,
    errors.TooLarge,
    errors.Forbidden,
    errors.Blocked,
    errors.QuotaExceeded,
)


@dataclass(frozen=True)
class Outcome:
    status: str  # "succeeded", "failed", "retry", "cancelled" or "skipped"
    retry_in: float | None = None


def execute(
    services: Services,
    job_id: int,
    worker: str,
    *,
    task_id: str | None = None,
    lease: float | None = None,
    permanent: tuple[type[BaseException], ...] = (),
) -> Outcome:
    jobs = services.jobs
    job = jobs.claim(job_id, worker, task_id=task_id, lease=lease)
    if job is None:
        return Outcome("skipped")
    if job.attempts > job.max_attempts:
        # Redelivered after its workers kept dying: stop the loop here.
        jobs.fail(job_id, f"gave up after {job.max_attempts} attempts (the worker was lost)")
        return Outcome("failed")
    token = inside_job.set(True)
    try:
        result = kind_named(job.kind).handler(JobContext(job, services))
    except JobCancelled:
        return Outcome("cancelled")
    except FileGone as exc:
        jobs.drop(job_id, str(exc.detail))
        return Outcome("cancelled")
    except Exception as exc:
        return _failed(jobs, job_id, exc, isinstance(exc, PERMANENT + permanent))
    finally:
        inside_job.reset(token)
        # A decoded image or a fetched body is free now: a worker keeps its steady size.
        malloc.release()
    jobs.succeed(job_id, result)
    return Outcome("succeeded")


def _failed(jobs: JobService, job_id: int, exc: Exception, permanent: bool) -> Outcome:
    trace = "".join(traceback.format_exception(exc))
    log.warning("job %s failed: %s", job_id, exc, exc_info=not permanent)
    delay = jobs.record_failure(job_id, exc, trace, permanent)
    return Outcome("failed") if delay is None else Outcome("retry", delay)
