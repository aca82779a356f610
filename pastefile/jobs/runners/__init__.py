"""Job runners: in-process threads (embedded) or Celery workers (scaled out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pastefile.jobs.runners.base import Runner

if TYPE_CHECKING:
    from pastefile.composition import Services

__all__ = ["Runner", "runner_from_settings"]


def runner_from_settings(services: Services) -> Runner:
    """Celery when ``PASTEFILE_BROKER_URL`` is set, else threads; Celery loads only then."""
    settings = services.settings
    if settings.broker_url:
        from pastefile.jobs.runners.celery_app import CeleryRunner

        return CeleryRunner(services.jobs)
    from pastefile.jobs.runners.threads import ThreadRunner

    return ThreadRunner(services, settings.job_workers)
