"""Periodic jobs: what runs every so often, and which tick a moment belongs to.

Light on purpose (no database): a Celery worker's main process reads it for beat's
schedule. The leader lease and the scheduler thread are in ``pastefile.jobs.leader``.
In Celery mode, beat does the scheduling.
"""

from __future__ import annotations

from dataclasses import dataclass

from pastefile.config import Settings


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: int  # seconds
    offset: int  # seconds past each period boundary: off the hour, away from midnight


def periodic_jobs(settings: Settings) -> list[Periodic]:
    return [
        Periodic("expire_sweep", settings.expire_sweep_seconds, 37 % settings.expire_sweep_seconds),
        Periodic("gc", settings.gc_seconds, 1117 % settings.gc_seconds),
        *_report(settings),
        *_scrub(settings),
        _digest(settings),
    ]


def _digest(settings: Settings) -> Periodic:
    """The download digest (docs/collections.md): each run mails what is due."""
    every = settings.notify_digest_check_seconds
    return Periodic("download_digest", every, 173 % every)


def _scrub(settings: Settings) -> list[Periodic]:
    """The storage scrub (``pastefile check``), unless PASTEFILE_SCRUB_SECONDS is 0."""
    every = settings.scrub_seconds
    return [Periodic("scrub", every, 3 * 3600 % every)] if every else []


def _report(settings: Settings) -> list[Periodic]:
    """The stats report (docs/stats.md), when PASTEFILE_REPORT_EVERY_SECONDS is set."""
    every = settings.report_every_seconds
    return [Periodic("report", every, 7 * 3600 % every)] if every else []


def tick_of(periodic: Periodic, now: float) -> int:
    return int((now - periodic.offset) // periodic.every)
