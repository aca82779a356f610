"""Which runner a process uses: Celery when a broker is configured, else threads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pastefile.jobs.service import JobService, Runner


def make_runner(jobs: JobService) -> Runner:
    settings = jobs.settings
    if settings.broker_url:
        from pastefile.jobs.celery_app import CeleryRunner

        return CeleryRunner(jobs)
    from pastefile.jobs.threads import ThreadRunner

    return ThreadRunner(jobs, settings.job_workers)
