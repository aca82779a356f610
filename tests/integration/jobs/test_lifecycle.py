"""The job lifecycle on the in-process runner, for real: database, storage, HTTP origin.

Lifecycle tests run on SQLite, MariaDB and PostgreSQL; the rest on SQLite.
"""

from __future__ import annotations

import io
import os
import socket
import time
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from flask.testing import FlaskClient
from pypdf import PdfWriter
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from pastefile.composition import Services
from pastefile.db.jobs import Job
from pastefile.db.models import Blob, File
from pastefile.db.types import utcnow
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.jobs.service import JobQuery
from tests.support.files import stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.jobs import JOB_SETTINGS, finished, origin_url, wait_for
from tests.support.uploads import upload


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(JOB_SETTINGS)


def run(services: Services, kind: str, **options: object) -> Job:
    job = services.jobs.submit(kind, **options)  # type: ignore[arg-type]
    return wait_for(lambda: finished(services, job.id))  # type: ignore[no-any-return]


def file_status(services: Services, file_id: int) -> str:
    with services.db.read() as session:
        return str(session.scalar(select(File.status).where(File.id == file_id)))


# --- lifecycle, on every database -------------------------------------------------


def test_upload_starts_a_probe_that_settles_the_file(
    client: FlaskClient, services: Services, runner: ThreadRunner
) -> None:
    response = upload(client, image_bytes("PNG", (64, 48)), "pic.png")
    assert response.status_code == 201
    (job_id,) = response.get_json()["jobs"]
    job = wait_for(lambda: finished(services, job_id))
    assert job.status == "succeeded", job.error
    assert job.result["width"] == 64 and job.result["height"] == 48
    assert job.attempts == 1 and job.progress == 100
    assert job.started_at <= job.finished_at
    assert file_status(services, job.file_id) == "ready"


def test_a_deadlock_while_settling_a_job_is_retried_not_lost(
    client: FlaskClient, services: Services, runner: ThreadRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database may pick a job's last transaction to give way (MariaDB did, under the
    soak, as another job updated the same file): the job must still end, not stay running."""
    settle = services.jobs._settle_file
    refused: list[int] = []

    def deadlocked_once(session, file_id):  # type: ignore[no-untyped-def]
        settling = any(isinstance(o, Job) and o.status == "succeeded" for o in session)
        if settling and not refused:  # the job's last transaction, not the upload's
            refused.append(file_id)
            raise OperationalError("UPDATE files", {}, Exception("1213 Deadlock found"))
        settle(session, file_id)

    monkeypatch.setattr(services.jobs, "_settle_file", deadlocked_once)
    response = upload(client, image_bytes("PNG", (32, 24)), "pic.png")
    (job_id,) = response.get_json()["jobs"]
    job = wait_for(lambda: finished(services, job_id))
    assert refused, "the deadlock happened"
    assert job.status == "succeeded" and job.attempts == 1, job.error
    assert file_status(services, job.file_id) == "ready"


def test_text_uploads_start_no_jobs(client: FlaskClient, services: Services) -> None:
    response = upload(client, b"just words\n", "notes.txt")
    assert "jobs" not in response.get_json()
    assert services.jobs.search(JobQuery())[1] == 0


def test_a_failing_job_is_retried_then_fails_with_its_error(
    services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    job = services.jobs.submit(
        "fetch_url", params={"url": origin_url(origin, "/fail")}, max_attempts=3
    )
    done = wait_for(lambda: finished(services, job.id))
    assert done.status == "failed"
    assert done.attempts == 3
    assert "500" in done.error
    assert "FetchFailed" in done.traceback
    assert origin.hits.count("/fail") == 3  # type: ignore[attr-defined]


def test_a_refused_url_fails_at_once_without_a_request(
    services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    forbidden = f"http://127.0.0.1:{origin.server_address[1]}/ok"
    job = services.jobs.submit("fetch_url", params={"url": forbidden}, max_attempts=3)
    done = wait_for(lambda: finished(services, job.id))
    assert done.status == "failed" and done.attempts == 1
    assert "FetchRefused" in done.error and "loopback" in done.error
    assert origin.hits == []  # type: ignore[attr-defined]


def test_fetch_url_stores_the_file_once(
    services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    url = origin_url(origin, "/ok")
    jobs = [services.jobs.submit("fetch_url", params={"url": url}) for _ in range(2)]
    first, second = (wait_for(lambda j=j: finished(services, j.id)) for j in jobs)
    assert first.status == second.status == "succeeded"
    assert first.result["file"] == second.result["file"]
    assert first.file_id == second.file_id
    with services.db.read() as session:
        assert len(list(session.scalars(select(File)))) == 1


# --- control: cancel, retry, restart ----------------------------------------------


def test_cancel_stops_a_running_fetch(
    services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    job = services.jobs.submit("fetch_url", params={"url": origin_url(origin, "/slow")})
    wait_for(lambda: "received" in services.jobs.get(job.id).message)
    services.jobs.cancel(job.id)
    time.sleep(0.5)  # the handler notices at its next progress report
    done = services.jobs.get(job.id)
    assert done.status == "cancelled" and done.finished_at is not None
    wait_for(lambda: not runner._active)
    with services.db.read() as session:
        assert session.scalar(select(File)) is None  # nothing was stored


def test_retry_runs_a_failed_job_again(
    services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    job = services.jobs.submit(
        "fetch_url", params={"url": origin_url(origin, "/fail")}, max_attempts=1
    )
    assert wait_for(lambda: finished(services, job.id)).status == "failed"
    again = services.jobs.retry(job.id)
    assert again.status == "queued" and again.attempts == 0 and again.error is None
    assert wait_for(lambda: finished(services, job.id)).status == "failed"
    assert origin.hits.count("/fail") == 2  # type: ignore[attr-defined]


def test_jobs_of_a_dead_process_run_again_at_start(services: Services) -> None:
    writer = services.uploads.new_writer()
    writer.write(image_bytes())
    stored = services.uploads.finish(writer, "a.png")
    probe_id = stored.job_ids[0]
    dead = f"{socket.gethostname()}:{_dead_pid()}"
    with services.db.write() as session:
        session.execute(
            update(Job).where(Job.id == probe_id).values(status="running", worker=dead, attempts=1)
        )
    runner = ThreadRunner(services, workers=1, poll=0.05, schedule=False)
    services.jobs.use_runner(runner)
    runner.start()
    done = wait_for(lambda: finished(services, probe_id))
    assert done.status == "succeeded" and done.attempts == 2


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


# --- the kinds --------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_probe_counts_pdf_pages_and_skips_media_without_ffprobe(
    services: Services, runner: ThreadRunner
) -> None:
    pdf = PdfWriter()
    for _ in range(3):
        pdf.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    pdf.write(buffer)
    stored = services.uploads.save_stream(io.BytesIO(buffer.getvalue()), "three.pdf")
    done = wait_for(lambda: finished(services, stored.job_ids[0]))
    assert done.result["pages"] == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_thumbnail_uses_the_image_pipeline(services: Services, runner: ThreadRunner) -> None:
    stored = services.uploads.save_stream(io.BytesIO(image_bytes("PNG", (1200, 900))), "big.png")
    job = services.jobs.submit("thumbnail", file_id=stored.file.id)
    done = wait_for(lambda: finished(services, job.id))
    assert done.status == "succeeded", done.error
    sizes = [(v["width"], v["height"]) for v in done.result["variants"]]
    assert sizes == [(480, 360), (960, 720)]
    assert file_status(services, stored.file.id) == "ready"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_thumbnail_of_a_text_file_fails_and_marks_the_file(
    services: Services, runner: ThreadRunner
) -> None:
    stored = services.uploads.save_stream(io.BytesIO(b"words"), "a.txt")
    job = services.jobs.submit("thumbnail", file_id=stored.file.id)
    done = wait_for(lambda: finished(services, job.id))
    assert done.status == "failed" and done.attempts == 1
    assert file_status(services, stored.file.id) == "failed"


def test_expire_sweep_deletes_expired_files_and_their_bytes(
    services: Services, runner: ThreadRunner
) -> None:
    keep = services.uploads.save_stream(io.BytesIO(b"keep me"), "keep.txt")
    doomed = services.uploads.save_stream(io.BytesIO(b"expire me"), "gone.txt")
    with services.db.write() as session:
        session.execute(
            update(File)
            .where(File.id == doomed.file.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    done = run(services, "expire_sweep")
    assert done.status == "succeeded" and done.result["deleted"] == 1
    assert not services.storage.exists(doomed.file.sha256)
    assert services.storage.exists(keep.file.sha256)


@pytest.mark.parametrize("settings_overrides", [{"gc_grace_seconds": 0, "temp_max_age_seconds": 1}])
def test_gc_removes_orphans_and_keeps_what_is_referenced(
    services: Services, runner: ThreadRunner
) -> None:
    kept = services.uploads.save_stream(io.BytesIO(b"referenced"), "kept.txt")
    orphan_sha = services.storage.put_bytes(b"a blob row nothing points at")
    with services.db.write() as session:
        session.add(Blob(sha256=orphan_sha, size=28, mimetype="text/plain"))
    stray_sha = services.storage.put_bytes(b"bytes without any row")
    stale = services.storage.writer()
    stale.write(b"an upload that never finished")
    old = time.time() - 3600
    for path in [services.storage.local_path(stray_sha), *temp_files(services.settings)]:
        os.utime(path, (old, old))  # type: ignore[arg-type]
    time.sleep(0.01)
    done = run(services, "gc")
    assert done.status == "succeeded", done.error
    assert done.result == {
        "temp_files": 1,
        "orphan_blobs": 1,
        "stray_objects": 1,
        "pruned_jobs": 0,
        "pruned_deliveries": 0,
    }
    assert [p.name for p in stored_blobs(services.settings)] == [kept.file.sha256]
