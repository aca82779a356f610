"""The in-process runner: a bounded thread pool fed from the jobs table.

Any number of processes may run one; each claims queued rows with a
conditional UPDATE, so a job runs in one place at a time. Running jobs carry
a lease their runner renews; at start (and every few seconds) jobs whose
runner is gone (a dead pid on this host, or an expired lease) are queued
again, so jobs survive a restart.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pastefile.db.jobs import Job
from pastefile.db.types import utcnow
from pastefile.jobs.executor import execute
from pastefile.jobs.leader import Scheduler
from pastefile.jobs.runners.base import worker_name

if TYPE_CHECKING:
    from pastefile.composition import Services

log = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ThreadRunner:
    name = "thread"

    def __init__(
        self,
        services: Services,
        workers: int,
        *,
        poll: float = 1.0,
        lease: float = 30.0,
        schedule: bool = True,
    ) -> None:
        self.services = services
        self.jobs = jobs = services.jobs
        self.workers = workers
        self.poll = poll
        self.lease = lease
        self.worker_id = worker_name()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._slots = threading.Semaphore(workers)
        self._active: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler = Scheduler(jobs, self.worker_id) if schedule else None

    # --- the Runner interface ---------------------------------------------------

    def dispatch(self, job: Job) -> None:
        self._wake.set()  # a started runner here (or polling elsewhere) picks it up

    def cancel(self, job: Job) -> None:
        """Cooperative: the handler's next progress report sees the cancel and stops."""
        self._wake.set()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="job-dispatch", daemon=True)
        # The loop's first upkeep requeues the jobs of workers that are gone: a process
        # that starts while the database is away still starts.
        self._thread.start()
        if self.scheduler is not None:
            self.scheduler.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.scheduler is not None and self._thread is not None:
            self.scheduler.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def started(self) -> bool:
        return self._thread is not None

    # --- the dispatch loop --------------------------------------------------------

    def _loop(self) -> None:
        next_upkeep = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_upkeep:
                    self._upkeep()
                    next_upkeep = time.monotonic() + self.lease / 3
                if not self._fill():
                    self._wake.wait(self.poll)
                    self._wake.clear()
        finally:
            self.jobs.sessions.remove()

    def _upkeep(self) -> None:
        try:
            with self._lock:
                active = list(self._active)
            self.jobs.heartbeat(active, self.lease)
            requeued = self.jobs.requeue_lost(self._is_lost)
            if requeued:
                log.info("requeued %d job(s) whose worker was gone", requeued)
        except Exception:
            log.warning("job upkeep failed; trying again", exc_info=True)

    def _fill(self) -> bool:
        """Start as many queued jobs as there are free threads; True if any started."""
        try:
            candidates = self.jobs.next_queued(self.workers * 2)
        except Exception:
            log.warning("could not read the job queue", exc_info=True)
            return False
        started = False
        for job_id in candidates:
            with self._lock:
                if job_id in self._active or not self._slots.acquire(blocking=False):
                    continue
                self._active.add(job_id)
            self._pool.submit(self._run, job_id)
            started = True
        return started

    def _run(self, job_id: int) -> None:
        try:
            execute(self.services, job_id, self.worker_id, lease=self.lease)
        except Exception:
            log.exception("job %s crashed its runner thread", job_id)
        finally:
            with self._lock:
                self._active.discard(job_id)
            self._slots.release()
            self.jobs.sessions.remove()
            self._wake.set()

    def _is_lost(self, job: Job) -> bool:
        with self._lock:
            if job.id in self._active:
                return False
        host, _, pid = (job.worker or "").rpartition(":")
        if job.worker == self.worker_id:
            return True  # ours, but no thread of ours runs it
        if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
            return True
        return job.lease_until is not None and job.lease_until < utcnow()
