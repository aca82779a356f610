"""The leader lease that lets exactly one process schedule the periodic jobs
(``pastefile.jobs.schedule``), and the scheduler thread that submits them while it leads.

In thread mode every process (each gunicorn worker, each ``pastefile
worker``) runs a scheduler thread, but only the holder of the ``scheduler``
lease row submits periodic jobs. The lease is taken with one conditional
UPDATE (or the first INSERT), so two processes can never both hold it; a
holder that dies loses it when it expires. Each tick's job also carries a
unique key, so even a lease handover inside one tick cannot submit it twice.
In Celery mode, beat does the scheduling instead.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from pastefile.db.jobs import Lease
from pastefile.db.types import utcnow
from pastefile.jobs.schedule import periodic_jobs, tick_of

if TYPE_CHECKING:
    from pastefile.jobs.service import JobService

log = logging.getLogger(__name__)

LEADER_LEASE = "scheduler"


class LeaderLease:
    def __init__(self, jobs: JobService, holder: str, ttl: float, name: str = LEADER_LEASE):
        self.jobs = jobs
        self.holder = holder
        self.ttl = ttl
        self.name = name

    def acquire(self) -> bool:
        """Take or renew the lease; True while this holder leads."""
        now = utcnow()
        until = now + timedelta(seconds=self.ttl)
        sessions = self.jobs.sessions
        with sessions.transaction() as session:
            result: Any = session.execute(
                update(Lease)
                .where(
                    Lease.name == self.name,
                    or_(Lease.holder == self.holder, Lease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until)
            )
        if result.rowcount:
            return True
        try:
            with sessions.transaction() as session:
                session.add(Lease(name=self.name, holder=self.holder, expires_at=until))
            return True
        except IntegrityError:
            return False  # someone else holds it

    def release(self) -> None:
        with self.jobs.sessions.transaction() as session:
            session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=utcnow())
            )


class Scheduler:
    """A thread that, while it leads, submits each periodic job once per tick."""

    def __init__(self, jobs: JobService, holder: str, interval: float = 1.0) -> None:
        self.jobs = jobs
        self.interval = interval
        self.lease = LeaderLease(jobs, holder, ttl=max(5.0, interval * 5))
        self.periodic = periodic_jobs(jobs.settings)
        self._submitted: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._tick()
                self._stop.wait(self.interval)
            self.lease.release()
        except Exception:
            log.exception("the job scheduler stopped")
        finally:
            self.jobs.sessions.remove()

    def _tick(self) -> None:
        try:
            if not self.lease.acquire():
                return
            now = time.time()
            for periodic in self.periodic:
                tick = tick_of(periodic, now)
                if self._submitted.get(periodic.kind) == tick:
                    continue
                self.jobs.submit(
                    periodic.kind,
                    params={"tick": tick, "scheduled_by": self.lease.holder},
                    unique_key=f"{periodic.kind}@{tick}",
                )
                self._submitted[periodic.kind] = tick
        except Exception:
            log.warning("scheduling periodic jobs failed; trying again", exc_info=True)
