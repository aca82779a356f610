"""The job lifecycle: queued → running → succeeded / failed / cancelled.

The database row is the truth for the API and the UI. Every transition is one
conditional UPDATE (``… WHERE status = 'running'``), so a cancel, a duplicate
delivery and a finishing worker can race without a job ending twice.
No web framework here: the Flask API, the CLI and Celery workers share it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.jobs import (
    CANCELLED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    STATUSES,
    SUCCEEDED,
    Job,
)
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.errors import Conflict, InvalidInput, NotFound
from pastefile.events import EventBus
from pastefile.jobs import presenters
from pastefile.jobs.kinds import FILE_KINDS, kind_named
from pastefile.jobs.runners.base import Runner
from pastefile.jobs.sessions import ThreadSessions
from pastefile.jobs.transitions import backoff_seconds, describe_error, finish, requeue, reset
from pastefile.services.accounts import Permission, Principal
from pastefile.services.file_cache import FileLookups
from pastefile.services.rowids import is_row_id
from pastefile.services.scrub import DAMAGED
from pastefile.services.upload_options import UploadOptions

log = logging.getLogger(__name__)

MAX_URL = 2000


def sees_every_job(who: Principal) -> bool:
    """Operators see (and hear events of) everyone's jobs; others only their own."""
    return who.can(Permission.OPERATOR)


@dataclass(frozen=True)
class JobQuery:
    status: str | None = None
    kind: str | None = None
    file_id: int | None = None
    owner_id: int | None = None  # None: every owner (operators)
    page: int = 1
    per_page: int = 50


class JobService:
    """The lifecycle of every job; the runner that executes them is made on first use."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lookups: FileLookups,
        events: EventBus,
        runner_factory: Callable[[], Runner],
    ) -> None:
        self.settings = settings
        self.sessions = ThreadSessions(db)
        self.lookups = lookups
        self.events = events
        self._runner_factory = runner_factory
        self._runner: Runner | None = None

    # --- runner -------------------------------------------------------------------

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            self._runner = self._runner_factory()
        return self._runner

    def start(self) -> None:
        """Start the runner's own threads, where it has any (the in-process runner)."""
        start = getattr(self.runner, "start", None)
        if start is not None:
            start()

    def use_runner(self, runner: Runner) -> None:
        self._runner = runner

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
        self.sessions.remove()

    # --- submitting and controlling -------------------------------------------------

    def submit(
        self,
        kind: str,
        *,
        params: dict[str, Any] | None = None,
        owner_id: int | None = None,
        file_id: int | None = None,
        max_attempts: int | None = None,
        unique_key: str | None = None,
    ) -> Job:
        """Record a queued job and hand it to the runner. Idempotent per ``unique_key``."""
        spec = kind_named(kind)
        job = Job(
            kind=kind,
            queue=spec.queue,
            status=QUEUED,
            params=params or {},
            progress=0,
            message="queued",
            attempts=0,
            max_attempts=max_attempts or self.settings.job_max_attempts,
            owner_id=owner_id,
            file_id=file_id,
            unique_key=unique_key,
        )
        try:
            with self.sessions.transaction() as session:
                session.add(job)
                session.flush()
                self._settle_file(session, file_id)
        except IntegrityError:
            existing = self.find_unique(unique_key) if unique_key else None
            if existing is None:
                raise
            return existing
        self._announce(job)
        return self._dispatch(job)

    def cancel(self, job_id: int) -> Job:
        with self.sessions.transaction() as session:
            job = self._locked(session, job_id)
            if job.status in FINISHED:
                raise Conflict(f"job {job_id} already {job.status}")
            finish(job, CANCELLED, "cancelled")
            self._settle_file(session, job.file_id)
        self.runner.cancel(job)
        self._announce(job)
        return job

    def retry(self, job_id: int) -> Job:
        """Run a failed or cancelled job again, with a fresh set of attempts."""
        with self.sessions.transaction() as session:
            job = self._locked(session, job_id)
            if job.status not in (FAILED, CANCELLED):
                raise Conflict(f"job {job_id} is {job.status}; only failed or cancelled retry")
            reset(job)
            self._settle_file(session, job.file_id)
        self._announce(job)
        return self._dispatch(job)

    def _dispatch(self, job: Job) -> Job:
        try:
            self.runner.dispatch(job)
        except Exception:
            # The row stays queued; `pastefile worker` re-sends such jobs at start.
            log.exception("could not dispatch job %s; it stays queued", job.id)
        return job

    def set_task_id(self, job: Job, task_id: str) -> None:
        """Record the runner's task id before the task is sent: only it may run the job."""
        with self.sessions.transaction() as session:
            session.execute(update(Job).where(Job.id == job.id).values(task_id=task_id))
        job.task_id = task_id

    # --- reading --------------------------------------------------------------------

    def get(self, job_id: int) -> Job:
        if not is_row_id(job_id):
            raise NotFound("no such job")  # beyond the column's range nothing can exist
        with self.sessions.transaction() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise NotFound("no such job")
        return job

    def visible(self, job_id: int, who: Principal) -> Job:
        """The job if ``who`` may see it: their own, or any for an operator.

        Someone else's job does not exist for you (404), so ids cannot be probed.
        """
        job = self.get(job_id)
        if not (sees_every_job(who) or job.owner_id == who.user_id):
            raise NotFound("no such job")
        return job

    def fetch(self, url: object, options: UploadOptions) -> Job:
        """Start an upload from a URL with the upload's options (owner, visibility,
        password, expiry, download limit); the fetch itself applies the SSRF rules."""
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInput('send {"url": "http(s)://…"}')
        if len(url) > MAX_URL:
            raise InvalidInput(f"the URL is longer than {MAX_URL} characters")
        params = {"url": url, "options": options.to_params()}
        return self.submit("fetch_url", params=params, owner_id=options.owner_id)

    def find_unique(self, unique_key: str) -> Job | None:
        with self.sessions.transaction() as session:
            return session.scalar(select(Job).where(Job.unique_key == unique_key))

    def search(self, query: JobQuery) -> tuple[list[Job], int]:
        conditions = _conditions(query)
        with self.sessions.transaction() as session:
            total = session.scalar(select(func.count()).select_from(Job).where(*conditions))
            page = (
                select(Job)
                .where(*conditions)
                .order_by(Job.id.desc())
                .offset((query.page - 1) * query.per_page)
                .limit(query.per_page)
            )
            return list(session.scalars(page)), int(total or 0)

    def file_public_ids(self, jobs: list[Job]) -> dict[int, str]:
        ids = {job.file_id for job in jobs if job.file_id is not None}
        if not ids:
            return {}
        with self.sessions.transaction() as session:
            rows = session.execute(select(File.id, File.public_id).where(File.id.in_(ids)))
            return {row.id: row.public_id for row in rows}

    def undispatched(self) -> list[Job]:
        """Queued jobs no runner ever took (the broker was down when they were sent)."""
        with self.sessions.transaction() as session:
            query = select(Job).where(Job.status == QUEUED, Job.task_id.is_(None))
            return list(session.scalars(query.order_by(Job.id).limit(1000)))

    def redispatch(self, job: Job) -> Job:
        return self._dispatch(job)

    # --- the executing side --------------------------------------------------------

    def claim(
        self, job_id: int, worker: str, *, task_id: str | None = None, lease: float | None = None
    ) -> Job | None:
        """Move a queued job to running for ``worker``; None when someone else has it.

        With a ``task_id`` (Celery), only the job's current message may run it,
        and a redelivered message (after its worker was lost) may take over a
        job still marked running. Stale messages of an earlier try are skipped.
        """
        now = utcnow()
        conditions: list[Any] = [Job.id == job_id]
        if task_id is not None:
            conditions += [Job.task_id == task_id, Job.status.in_((QUEUED, RUNNING))]
        else:
            conditions += [
                Job.status == QUEUED,
                or_(Job.run_after.is_(None), Job.run_after <= now),
            ]
        values: dict[str, Any] = {
            "status": RUNNING,
            "attempts": Job.attempts + 1,
            "started_at": now,
            "updated_at": now,
            "worker": worker,
            "message": "running",
            "lease_until": now + timedelta(seconds=lease) if lease else None,
        }
        with self.sessions.transaction() as session:
            if _rowcount(session.execute(update(Job).where(*conditions).values(**values))) != 1:
                return None
            job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
        self._announce(job)
        return job

    def next_queued(self, limit: int = 5) -> list[int]:
        now = utcnow()
        with self.sessions.transaction() as session:
            query = (
                select(Job.id)
                .where(Job.status == QUEUED, or_(Job.run_after.is_(None), Job.run_after <= now))
                .order_by(Job.id)
                .limit(limit)
            )
            return list(session.scalars(query))

    def progress(self, job_id: int, percent: int, message: str = "") -> bool:
        """Record progress; False when the job is no longer running (cancelled)."""
        values: dict[str, Any] = {"progress": max(0, min(100, percent)), "updated_at": utcnow()}
        if message:
            values["message"] = message[:255]
        with self.sessions.transaction() as session:
            changed = _rowcount(
                session.execute(
                    update(Job).where(Job.id == job_id, Job.status == RUNNING).values(**values)
                )
            )
            job = session.get(Job, job_id, populate_existing=True) if changed else None
        if job is not None:
            self._announce(job)
        return bool(changed)

    def heartbeat(self, job_ids: list[int], lease: float) -> None:
        if not job_ids:
            return
        until = utcnow() + timedelta(seconds=lease)
        with self.sessions.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.status == RUNNING)
                .values(lease_until=until)
            )

    def succeed(self, job_id: int, result: dict[str, Any]) -> Job | None:
        def done(job: Job) -> None:
            finish(job, SUCCEEDED, "done")
            job.progress = 100
            job.result = result
            if isinstance(result.get("file_id"), int):
                job.file_id = result["file_id"]

        return self._end_running(job_id, done)

    def drop(self, job_id: int, reason: str) -> Job | None:
        """End a running job whose work is no longer needed (its file was deleted) as
        cancelled, not failed: nothing went wrong, and nothing is left to retry."""
        return self._end_running(job_id, lambda job: finish(job, CANCELLED, reason[:255]))

    def _end_running(self, job_id: int, end: Callable[[Job], None]) -> Job | None:
        def settle(session: Session) -> Job | None:
            job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status != RUNNING:
                return None  # cancelled meanwhile: the cancel stands
            end(job)
            self._settle_file(session, job.file_id)
            return job

        job = self.sessions.retried(settle)
        if job is not None:
            self._announce(job)
        return job

    def record_failure(
        self, job_id: int, error: BaseException, trace: str, permanent: bool
    ) -> float | None:
        """Count a failed attempt: the delay before the retry, or None when it failed for good."""

        def count(session: Session) -> tuple[Job, float | None] | None:
            job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status != RUNNING:
                return None
            job.error = describe_error(error)
            job.traceback = trace[-20000:]
            delay = None if permanent else self._retry_delay(job)
            if delay is None:
                finish(job, FAILED, "failed")
            else:
                requeue(job, delay)
            self._settle_file(session, job.file_id)
            return job, delay

        counted = self.sessions.retried(count)
        if counted is None:
            return None
        self._announce(counted[0])
        return counted[1]

    def _retry_delay(self, job: Job) -> float | None:
        if job.attempts >= job.max_attempts:
            return None
        s = self.settings
        return backoff_seconds(job.attempts, s.job_retry_base_seconds, s.job_retry_max_seconds)

    def fail(self, job_id: int, reason: str) -> Job | None:
        """Fail a job from outside its worker (time limit, lost worker)."""
        with self.sessions.transaction() as session:
            job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status in FINISHED:
                return None
            job.error = reason[:1000]
            finish(job, FAILED, "failed")
            self._settle_file(session, job.file_id)
        self._announce(job)
        return job

    def requeue_lost(self, is_lost: Any) -> int:
        """Put running jobs whose worker is gone back in the queue (thread runner)."""
        with self.sessions.transaction() as session:
            running = list(session.scalars(select(Job).where(Job.status == RUNNING)))
        lost = [job.id for job in running if is_lost(job)]
        for job_id in lost:
            self._requeue_one(job_id)
        return len(lost)

    def _requeue_one(self, job_id: int) -> None:
        with self.sessions.transaction() as session:
            job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status != RUNNING:
                return
            if job.attempts >= job.max_attempts:
                job.error = "the worker running it was lost"
                finish(job, FAILED, "failed")
            else:
                requeue(job, 0)
                job.message = "requeued after its worker was lost"
            self._settle_file(session, job.file_id)
        self._announce(job)

    # --- helpers ----------------------------------------------------------------

    def _locked(self, session: Session, job_id: int) -> Job:
        job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
        if job is None:
            raise NotFound("no such job")
        return job

    def _settle_file(self, session: Session, file_id: int | None) -> None:
        """``processing`` while file work is pending, then ``failed`` or ``ready``."""
        if file_id is None:
            return
        counts = dict(
            session.execute(
                select(Job.status, func.count())
                .where(Job.file_id == file_id, Job.kind.in_(FILE_KINDS))
                .group_by(Job.status)
            ).all()
        )
        if counts.get(QUEUED) or counts.get(RUNNING):
            status = "processing"
        else:
            status = "failed" if counts.get(FAILED) else "ready"
        # A file the scrub found damaged stays so until its bytes are sound again.
        settled = update(File).where(File.id == file_id, File.status != DAMAGED)
        session.execute(settled.values(status=status))

    def _announce(self, job: Job) -> None:
        try:
            self.events.publish(presenters.job_event(job))
            if job.file_id is not None and job.kind in FILE_KINDS:
                self.lookups.forget_id(job.file_id)  # status, dimensions
                self._announce_file(job.file_id)
        except Exception:
            log.warning("could not announce job %s", job.id, exc_info=True)

    def _announce_file(self, file_id: int) -> None:
        with self.sessions.transaction() as session:
            row = session.execute(
                select(File.public_id, File.status, File.owner_id).where(File.id == file_id)
            ).first()
        if row is not None:
            self.events.publish(presenters.file_event(row.public_id, row.status, row.owner_id))

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status (every status, zero included)."""
        stmt = select(Job.status, func.count()).group_by(Job.status)
        # A plain read, not a job transaction: a scrape must not queue behind writers.
        with self.lookups.db.read() as session:
            found = {status: int(n) for status, n in session.execute(stmt)}
        return {status: found.get(status, 0) for status in STATUSES}


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _conditions(query: JobQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.status:
        conditions.append(Job.status == query.status)
    if query.kind:
        conditions.append(Job.kind == query.kind)
    if query.file_id is not None:
        conditions.append(Job.file_id == query.file_id)
    if query.owner_id is not None:
        conditions.append(Job.owner_id == query.owner_id)
    return conditions
