"""Which runner a process uses: Celery when a broker is configured, else threads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pastefile.composition import Services
    from pastefile.jobs.service import Runner


def make_runner(services: Services) -> Runner:
    settings = services.settings
    if settings.broker_url:
        from pastefile.jobs.celery_app import CeleryRunner

        return CeleryRunner(services.jobs)
    from pastefile.jobs.threads import ThreadRunner

    return ThreadRunner(services, settings.job_workers)
