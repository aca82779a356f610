"""Every job runner takes a job from queued to a visible end: a success with
its result, a permanent failure after one attempt, and a file that settles.

The thread runner runs jobs in this process; the Celery runner sends them to a
real ``pastefile worker`` on this machine's RabbitMQ, sharing the database and
the storage with the test."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.db.jobs import Job
from tests.support.celery import BROKERS, Worker, delete_queues, reachable
from tests.support.images import image_bytes
from tests.support.jobs import start_thread_runner, wait_for
from tests.support.settings import make_settings, service_unavailable

pytestmark = pytest.mark.slow
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module", params=["thread", "celery"])
def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    root: Path = tmp_path_factory.mktemp(request.param)
    broker = ""
    if request.param == "celery":
        name, broker, port = BROKERS["rabbitmq"]
        problem = reachable(port)
        if problem:
            service_unavailable(name, problem)
    settings = make_settings(
        root, f"sqlite:///{root / 'jobs.db'}", broker_url=broker, log_level="WARNING",
        job_queue_prefix=f"test-{uuid.uuid4().hex[:8]}.",
    )  # fmt: skip
    made = build_services(settings)
    migrate.upgrade(made.db)
    worker = Worker(settings, root / "worker.log") if broker else None
    if worker is not None:
        worker.start()
    else:
        start_thread_runner(made, workers=2)
    assert made.jobs.runner.name == request.param
    try:
        yield made
    finally:
        if worker is not None:
            worker.stop()
            delete_queues(settings)
        made.close()


def _finished(services: Services, job_id: int) -> Job:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (j := services.jobs.get(job_id)).status in FINISHED and j, timeout=40
    )


def test_a_job_runs_to_success_with_its_result(services: Services) -> None:
    job = _finished(services, services.jobs.submit("gc").id)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.attempts == 1
    assert set(job.result or {}) >= {"temp_files", "orphan_blobs", "stray_objects"}


def test_a_job_that_cannot_succeed_fails_once_with_its_reason(services: Services) -> None:
    refused = "http://127.0.0.1:9/never"  # loopback: refused by the fetch rules
    job = _finished(services, services.jobs.submit("fetch_url", params={"url": refused}).id)
    assert job.status == "failed"
    assert job.attempts == 1, "a refusal is permanent: no retries"
    assert job.error and "FetchRefused" in job.error


def test_an_upload_s_probe_settles_the_file(services: Services) -> None:
    upload = services.uploads.save_stream(io.BytesIO(image_bytes("PNG", (33, 21))), "probe.png")
    assert upload.job_ids, "an image upload starts its probe"
    job = _finished(services, upload.job_ids[0])
    assert job.status == "succeeded", job.error
    assert (job.result or {}).get("width") == 33
    file = wait_for(
        lambda: (f := services.files.get(upload.file.public_id)).status == "ready" and f
    )
    assert (file.width, file.height) == (33, 21)
