"""The storage scrub (``Scrub``, the ``scrub`` job): corrupt, missing and orphan bytes,
sourceless variants, and what ``--repair`` does about each, on local disk and S3."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.db.jobs import Job
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.jobs.scrubbing import last_scrub
from pastefile.storage.local import LocalStorage
from pastefile.web import create_app
from tests.support.api import problem
from tests.support.damage import damage
from tests.support.jobs import drain_jobs, finished, wait_for
from tests.support.s3 import s3_settings
from tests.support.settings import make_settings


@pytest.fixture(params=["local", "s3"])
def scrubbed(request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    extra: dict[str, object] = {"gc_grace_seconds": 0}
    if request.param == "s3":
        extra.update(s3_settings(request.getfixturevalue("moto_endpoint")))
    built = build_services(make_settings(tmp_path, sqlite_url, **extra))
    migrate.upgrade(built.db)
    yield built
    built.close()


def test_the_scrub_reports_every_kind_of_problem_and_repairs_them(scrubbed: Services) -> None:
    hurt = damage(scrubbed)
    client = create_app(services=scrubbed).test_client()
    report = scrubbed.scrub.run()
    assert report.corrupt == [hurt.corrupt_sha]
    assert report.missing == [hurt.lost_sha]
    assert report.orphans == [hurt.stray_sha]
    assert report.sourceless_variants == [hurt.variant_id]
    assert report.checked == 5  # everything stored but the lost bytes
    assert client.get(f"/i/{hurt.corrupt}").status_code == 200  # a check alone changes nothing

    repaired = scrubbed.scrub.run(repair=True).repaired
    assert repaired == {
        "quarantined": 1,
        "damaged_files": 2,
        "dropped_variants": 1,
        "removed_orphans": 1,
        "healed_files": 0,
    }
    assert client.get(f"/i/{hurt.good}").status_code == 200
    for public_id in (hurt.corrupt, hurt.lost):
        body = problem(client.get(f"/i/{public_id}"), 500, "damaged")
        assert "integrity" in body["detail"]
        problem(client.get(f"/api/v1/files/{public_id}"), 500, "damaged")
    assert not scrubbed.storage.exists(hurt.stray_sha)
    after = scrubbed.scrub.run()
    assert (after.corrupt, after.orphans, after.sourceless_variants) == ([], [], [])
    assert sorted(after.missing) == sorted([hurt.corrupt_sha, hurt.lost_sha])


def test_sound_bytes_put_back_heal_a_damaged_file(scrubbed: Services) -> None:
    hurt = damage(scrubbed)
    scrubbed.scrub.run(repair=True)
    client = create_app(services=scrubbed).test_client()
    problem(client.get(f"/i/{hurt.corrupt}"), 500, "damaged")
    assert scrubbed.storage.put_bytes(hurt.corrupt_bytes) == hurt.corrupt_sha  # from a backup
    assert scrubbed.scrub.run(repair=True).repaired["healed_files"] == 1
    assert client.get(f"/i/{hurt.corrupt}").data == hurt.corrupt_bytes


def test_corrupt_local_bytes_are_kept_in_quarantine(tmp_path: Path, sqlite_url: str) -> None:
    services = build_services(make_settings(tmp_path, sqlite_url))
    migrate.upgrade(services.db)
    hurt = damage(services)
    services.scrub.run(repair=True)
    assert isinstance(services.storage, LocalStorage)
    kept = list((services.storage.root / "quarantine").iterdir())
    assert [p.name.split("-")[0] for p in kept] == [hurt.corrupt_sha]
    assert kept[0].read_bytes() == b"rotten " * 1000
    services.close()


def test_orphans_inside_the_grace_period_stay(tmp_path: Path, sqlite_url: str) -> None:
    services = build_services(make_settings(tmp_path, sqlite_url, gc_grace_seconds=3600))
    migrate.upgrade(services.db)
    stray = services.storage.put_bytes(b"an upload still in flight")
    report = services.scrub.run(repair=True)
    assert report.orphans == [stray] and report.repaired["removed_orphans"] == 0
    assert services.storage.exists(stray)
    services.close()


def test_the_read_rate_is_bounded(tmp_path: Path, sqlite_url: str) -> None:
    services = build_services(make_settings(tmp_path, sqlite_url))
    migrate.upgrade(services.db)
    services.uploads.save_stream(io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.bin")
    started = time.monotonic()
    report = services.scrub.run(rate=4 * 1024 * 1024)
    assert report.bytes == 2 * 1024 * 1024
    assert time.monotonic() - started >= 0.45  # 2 MiB at 4 MiB/s
    services.close()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_the_last_scrub_shows_on_readyz_and_metrics(
    services: Services, runner: ThreadRunner, client: FlaskClient
) -> None:
    assert client.get("/readyz").json["details"] == {"scrub": None}  # type: ignore[index]
    damage(services)
    job = services.jobs.submit("scrub")
    done = wait_for(lambda: finished(services, job.id))
    assert done.status == "succeeded", done.error
    scrub = client.get("/readyz").json["details"]["scrub"]  # type: ignore[index]
    assert (scrub["corrupt"], scrub["missing"], scrub["orphans"]) == (1, 1, 1)
    assert scrub["sourceless_variants"] == 1 and scrub["repaired"] == {}
    text = client.get("/metrics").get_data(as_text=True)
    assert 'pastefile_scrub_problems{kind="corrupt"} 1.0' in text
    assert "pastefile_scrub_checked_blobs 5.0" in text


def test_file_jobs_leave_a_damaged_file_damaged(services: Services) -> None:
    hurt = damage(services)
    services.scrub.run(repair=True)
    file_id = services.files.row_id(hurt.corrupt)
    services.jobs.submit("probe", file_id=file_id, max_attempts=1)
    assert len(drain_jobs(services)) == 1
    assert services.files.get(hurt.corrupt).status == "damaged"


@pytest.mark.parametrize(
    "settings_overrides",
    [{"job_long_soft_limit": 1, "scrub_max_bytes_per_second": 1024 * 1024}],
)
def test_a_long_pass_runs_in_slices_that_add_up(services: Services, runner: ThreadRunner) -> None:
    for n in range(4):
        services.uploads.save_stream(io.BytesIO(bytes([n]) * 600_000), f"{n}.bin")
    hurt = damage(services)
    services.jobs.submit("scrub")
    whole = wait_for(lambda: last_scrub(services.jobs), timeout=60)
    with services.db.read() as session:
        slices = list(session.scalars(select(Job).where(Job.kind == "scrub")))
    assert len(slices) >= 2 and all(
        job.status == "succeeded" for job in slices
    )  # 2.4 MB at 1 MiB/s
    assert whole["checked"] == 9 and whole["bytes"] > 2_400_000
    assert (whole["corrupt"], whole["missing"], whole["orphans"]) == (1, 1, 1)
    assert whole["examples"]["corrupt"] == [hurt.corrupt_sha]
    assert whole["problems"] == 4
