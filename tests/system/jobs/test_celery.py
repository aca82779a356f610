"""Faults, for real: ``pastefile worker`` subprocesses on this machine's RabbitMQ and Redis.

One worker per broker serves the module; it runs jobs against a SQLite
database the test process shares. Without a broker these tests skip with the
reason, and fail when ``PASTEFILE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.db.jobs import Job
from pastefile.db.models import File
from pastefile.services.accounts import Permission, Principal
from pastefile.web import create_app
from tests.support.celery import BROKERS, Worker, delete_queues, reachable
from tests.support.jobs import origin_url, serve_origin, wait_for
from tests.support.settings import make_settings, service_unavailable

pytestmark = pytest.mark.slow


@dataclass
class Rig:
    services: Services
    worker: Worker
    origin: ThreadingHTTPServer
    broker: str

    def run(self, kind: str, timeout: float = 40, **options: object) -> Job:
        job = self.services.jobs.submit(kind, **options)  # type: ignore[arg-type]
        return self.wait(job.id, timeout)

    def wait(self, job_id: int, timeout: float = 40) -> Job:
        finished = ("succeeded", "failed", "cancelled")
        return wait_for(  # type: ignore[no-any-return]
            lambda: (j := self.services.jobs.get(job_id)).status in finished and j, timeout
        )


@pytest.fixture(scope="module", params=list(BROKERS))
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    name, url, port = BROKERS[request.param]
    problem = reachable(port)
    if problem:
        service_unavailable(name, problem)
    root = tmp_path_factory.mktemp(request.param)
    settings = make_settings(
        root,
        f"sqlite:///{root / 'jobs.db'}",
        broker_url=url,
        log_level="WARNING",
        # Queues of this run only: other test runs may share the broker.
        job_queue_prefix=f"test-{uuid.uuid4().hex[:8]}.",
    )
    services = build_services(settings)
    migrate.upgrade(services.db)
    worker = Worker(settings, root / "worker.log")
    origin = serve_origin(slow_seconds=4.0)
    worker.start()
    try:
        yield Rig(services, worker, origin, request.param)
    finally:
        worker.stop()
        origin.shutdown()
        services.close()
        delete_queues(settings)


def _file_count(services: Services) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(File)) or 0)


def test_kill_9_mid_job_retries_and_the_effect_happens_once(rig: Rig) -> None:
    before = _file_count(rig.services)
    path = f"/slow?kill-{uuid.uuid4().hex}"  # bytes no other test has stored
    job = rig.services.jobs.submit("fetch_url", params={"url": origin_url(rig.origin, path)})
    running = wait_for(lambda: (j := rig.services.jobs.get(job.id)).status == "running" and j)
    wait_for(lambda: "received" in rig.services.jobs.get(job.id).message)
    pid = int(running.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # the pool process running the job, mid-download
    done = rig.wait(job.id, timeout=60)
    assert done.status == "succeeded", done.error
    assert done.attempts == 2
    assert _file_count(rig.services) == before + 1
    assert rig.origin.hits.count(path) >= 2  # type: ignore[attr-defined]


def test_a_raising_job_is_retried_then_fails_visibly_in_the_api(rig: Rig) -> None:
    url = origin_url(rig.origin, f"/fail?{rig.broker}")
    done = rig.run("fetch_url", params={"url": url}, max_attempts=3)
    assert done.status == "failed" and done.attempts == 3
    assert rig.origin.hits.count(f"/fail?{rig.broker}") == 3  # type: ignore[attr-defined]
    client = create_app(services=rig.services).test_client()
    token = _operator_token(rig.services)
    shown = client.get(f"/api/v1/jobs/{done.id}", headers={"Authorization": f"Bearer {token}"})
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["status"] == "failed" and "500" in body["error"]
    assert "FetchFailed" in body["traceback"]


def test_a_second_worker_on_the_same_host_serves_under_the_name_it_picks(
    rig: Rig, tmp_path: Path
) -> None:
    # Two workers on one host, as operators run one per queue, neither given a name.
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'jobs.db'}",
        broker_url=rig.worker.settings.broker_url,
        log_level="WARNING",
        job_queue_prefix=f"test-{uuid.uuid4().hex[:8]}.",
    )
    services = build_services(settings)
    migrate.upgrade(services.db)
    first, second = (Worker(settings, tmp_path / f"{n}.log", default_name=True) for n in "ab")
    try:
        first.start()
        second.start()
        first.stop()  # what is left to run jobs is the second worker
        job = services.jobs.submit("fetch_url", params={"url": origin_url(rig.origin, "/?2nd")})
        done = wait_for(lambda: (j := services.jobs.get(job.id)).status != "queued" and j, 40)
        assert first.name != second.name
        assert done.worker and done.worker.startswith(f"{socket.gethostname()}:")
    finally:
        first.stop()
        second.stop()
        services.close()
        delete_queues(settings)


def _operator_token(services: Services) -> str:
    name = f"op{uuid.uuid4().hex[:6]}"
    roles = Permission.LOGIN | Permission.OPERATOR
    user = services.accounts.create_user(name, "a long enough password", roles)
    principal = Principal(user.id, name, roles, frozenset({"read", "upload"}))
    return services.accounts.create_token(principal, "ops", ["read"])[1]


def test_jobs_past_their_time_limits_are_killed_and_marked_failed(rig: Rig) -> None:
    jobs = rig.services.jobs
    base = jobs.settings
    url = origin_url(rig.origin, "/hang")
    try:
        jobs.settings = base.model_copy(
            update={"job_long_soft_limit": 2, "job_long_hard_limit": 30}
        )
        soft = rig.run("fetch_url", params={"url": url})
        # No soft limit: only the hard one, which kills the process running the job.
        jobs.settings = base.model_copy(update={"job_long_soft_limit": 0, "job_long_hard_limit": 2})
        hard = rig.run("fetch_url", params={"url": url})
    finally:
        jobs.settings = base
    assert soft.status == "failed" and soft.error.startswith("SoftTimeLimitExceeded")
    assert hard.status == "failed" and hard.error.startswith("TimeLimitExceeded")
    assert soft.attempts == hard.attempts == 1


def test_cancel_revokes_a_running_job(rig: Rig) -> None:
    before = _file_count(rig.services)
    job = rig.services.jobs.submit("fetch_url", params={"url": origin_url(rig.origin, "/slow")})
    wait_for(lambda: "received" in rig.services.jobs.get(job.id).message)
    rig.services.jobs.cancel(job.id)
    time.sleep(5)  # longer than the download would have taken
    assert rig.services.jobs.get(job.id).status == "cancelled"
    assert _file_count(rig.services) == before
    after = rig.run("fetch_url", params={"url": origin_url(rig.origin, "/ok")})
    assert after.status == "succeeded"  # the worker is still serving


def test_queued_jobs_survive_a_worker_outage_and_a_rabbitmq_restart(rig: Rig) -> None:
    """Durable queues and persistent messages: nothing queued is lost. (This machine's
    Redis keeps nothing on disk, so only RabbitMQ is restarted; both lose their worker.)"""
    restart = rig.broker == "rabbitmq"
    if restart and shutil.which("rabbitmqctl") is None:
        service_unavailable("rabbitmqctl", "not installed")
    rig.worker.stop()
    urls = [origin_url(rig.origin, f"/ok?outage={n}") for n in range(5)]
    jobs = [rig.services.jobs.submit("fetch_url", params={"url": u}) for u in urls]
    if restart:
        try:
            _rabbitmqctl("stop_app")
        finally:
            _rabbitmqctl("start_app")
            _rabbitmqctl("await_startup")
    rig.worker.start()
    done = [rig.wait(job.id) for job in jobs]
    assert [j.status for j in done] == ["succeeded"] * 5


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)
