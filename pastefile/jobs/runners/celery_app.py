"""The Celery runner over RabbitMQ or Redis.

* json only, never pickle;
* ``acks_late`` with ``reject_on_worker_lost``: a message is acknowledged
  only once its job is done, and a worker killed mid-job gives it back;
* durable queues and persistent messages, so a broker restart loses nothing;
* a ``short`` queue (probe, thumbnail) apart from a ``long`` one (fetch,
  sweeps, transcodes, reports), each with its soft and hard time limits;
* retries with exponential backoff and jitter, counted in the job row;
* cancel revokes the task with terminate and marks the job cancelled.

The job row stays the truth: the task only carries the job id, and only the
message whose id the row names may run it, so stale duplicates do nothing.

A worker's main process only supervises its pool: this module imports no database
code, and each pool process imports the job machinery and builds its parts as it
starts, before it takes a task, so no time limit can interrupt an import
(``pastefile worker`` checks readiness and sends stranded jobs before it starts, in a
short-lived child).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import worker_process_init
from kombu.entity import Exchange, Queue

from pastefile.config import Settings
from pastefile.jobs.queues import LONG, QUEUES, SHORT
from pastefile.jobs.runners.base import worker_name
from pastefile.jobs.schedule import periodic_jobs, tick_of

if TYPE_CHECKING:
    from pastefile.composition import Services
    from pastefile.db.jobs import Job
    from pastefile.jobs.service import JobService

log = logging.getLogger(__name__)

RUN_JOB = "pastefile.run_job"
SUBMIT_PERIODIC = "pastefile.submit_periodic"
_EXCHANGE = Exchange("pastefile", type="direct", durable=True)  # type: ignore[no-untyped-call]


def time_limits(settings: Settings, queue: str) -> tuple[int, int]:
    """(soft, hard) seconds for a queue."""
    if queue == SHORT:
        return settings.job_short_soft_limit, settings.job_short_hard_limit
    return settings.job_long_soft_limit, settings.job_long_hard_limit


def queue_names(settings: Settings) -> list[str]:
    return [settings.job_queue_prefix + q for q in QUEUES]


def queue_name(settings: Settings, queue: str) -> str:
    return settings.job_queue_prefix + (queue if queue in QUEUES else LONG)


def _queue(name: str) -> Queue:
    return Queue(name, _EXCHANGE, routing_key=name, durable=True)  # type: ignore[no-untyped-call]


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.broker_url,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_ignore_result": True,
        "task_default_delivery_mode": "persistent",
        "task_queues": [_queue(q) for q in queue_names(settings)],
        "task_default_queue": queue_name(settings, SHORT),
        "task_default_exchange": _EXCHANGE.name,
        "task_default_routing_key": queue_name(settings, SHORT),
        "task_create_missing_queues": False,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": settings.broker_visibility_timeout},
        "worker_hijack_root_logger": False,
        # A pool process builds its parts before it reports alive (see make_celery):
        # on a loaded machine that takes longer than Celery's default 4 s.
        "worker_proc_alive_timeout": 60.0,
        "enable_utc": True,
        "timezone": "UTC",
        "beat_schedule": beat_schedule(settings),
    }


def beat_schedule(settings: Settings) -> dict[str, Any]:
    return {
        f"pastefile-{p.kind}": {
            "task": SUBMIT_PERIODIC,
            "schedule": float(p.every),
            "args": [p.kind],
            "options": {"queue": queue_name(settings, SHORT), "expires": float(p.every)},
        }
        for p in periodic_jobs(settings)
    }


# --- the worker side: one JobService per process (children fork, engines must not) --

BuildServices = Callable[[Settings], "Services"]
_per_process: dict[int, Services] = {}


def worker_services(settings: Settings, build: BuildServices | None) -> Services:
    """This worker process's parts, built once per process by the worker's adapter."""
    if build is None:
        raise RuntimeError("this Celery app only sends tasks; `pastefile worker` runs them")
    pid = os.getpid()
    services = _per_process.get(pid)
    if services is None:
        _per_process.clear()
        services = build(settings)
        _per_process[pid] = services
    return services


def _start_pool_process(settings: Settings, build: BuildServices) -> None:
    """A new pool process loads the job machinery and builds its parts before its first
    task: a time limit raised inside an import would leave a half-loaded module."""
    import pastefile.jobs.executor  # noqa: F401

    worker_services(settings, build)


def worker_jobs(settings: Settings, build: BuildServices | None) -> JobService:
    return worker_services(settings, build).jobs


class JobTask(Task):  # type: ignore[misc]
    """Marks the job failed when the hard time limit killed its process."""

    settings: Settings
    build: BuildServices | None

    def on_failure(self, exc: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:
            jobs = worker_jobs(self.settings, self.build)
            jobs.fail(int(args[0]), f"TimeLimitExceeded: hard time limit ({exc}s) exceeded")
            jobs.sessions.remove()


def make_celery(settings: Settings, build: BuildServices | None = None) -> Celery:
    """The Celery app; ``build`` makes a worker's parts (only workers run tasks)."""
    app = Celery("pastefile", set_as_current=False)
    app.conf.update(celery_config(settings))
    attrs = {"settings": settings, "build": staticmethod(build) if build else None}
    base = type("PasteFileJobTask", (JobTask,), attrs)
    if build is not None:
        worker_process_init.connect(
            lambda **_: _start_pool_process(settings, build), weak=False, dispatch_uid=RUN_JOB
        )

    @app.task(  # type: ignore[untyped-decorator]
        bind=True,
        base=base,
        name=RUN_JOB,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,
        ignore_result=True,
    )
    def run_job(self: Task, job_id: int) -> str:
        from pastefile.jobs.executor import execute  # loaded at start: _start_pool_process

        services = worker_services(settings, build)
        try:
            outcome = execute(
                services,
                job_id,
                worker_name(),
                task_id=self.request.id,
                permanent=(SoftTimeLimitExceeded,),
            )
        finally:
            services.jobs.sessions.remove()
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in)
        return outcome.status

    @app.task(name=SUBMIT_PERIODIC, ignore_result=True)  # type: ignore[untyped-decorator]
    def submit_periodic(kind: str) -> None:
        jobs = worker_jobs(settings, build)
        try:
            periodic = next(p for p in periodic_jobs(settings) if p.kind == kind)
            tick = tick_of(periodic, time.time())
            jobs.submit(kind, params={"tick": tick}, unique_key=f"{kind}@{tick}")
        finally:
            jobs.sessions.remove()

    return app


class CeleryRunner:
    name = "celery"

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs
        self.app = make_celery(jobs.settings)

    def dispatch(self, job: Job) -> None:
        task_id = f"job-{job.id}-{uuid.uuid4().hex[:12]}"
        self.jobs.set_task_id(job, task_id)
        soft, hard = time_limits(self.jobs.settings, job.queue)
        self.app.send_task(
            RUN_JOB,
            args=[job.id],
            task_id=task_id,
            queue=queue_name(self.jobs.settings, job.queue),
            soft_time_limit=soft or None,
            time_limit=hard,
        )

    def cancel(self, job: Job) -> None:
        if job.task_id:
            self.app.control.revoke(job.task_id, terminate=True, signal="SIGTERM")

    def close(self) -> None:
        self.app.close()
