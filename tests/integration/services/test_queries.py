"""The service queries the web pages use: statuses, admin search and summary, usage, job counts."""

from __future__ import annotations

import io

import pytest

from pastefile.composition import Services
from pastefile.db.jobs import STATUSES
from pastefile.services.upload_options import UploadOptions


def _store(services: Services, data: bytes, name: str, owner_id: int | None = None) -> str:
    options = UploadOptions(owner_id=owner_id, visibility="private" if owner_id else "public")
    result = services.uploads.save_stream(io.BytesIO(data), name, options=options)
    return result.file.public_id


@pytest.fixture
def owner(services: Services) -> int:
    return services.accounts.create_user("alice", "correct horse battery").id


def test_statuses_only_of_the_owners_files(services: Services, owner: int) -> None:
    mine = _store(services, b"mine", "mine.txt", owner)
    theirs = _store(services, b"theirs", "theirs.txt")
    found = services.files.statuses(owner, [mine, theirs, "nonexistent1"])
    assert found == {mine: "ready"}


def test_search_all_by_name_or_id(services: Services, owner: int) -> None:
    report = _store(services, b"a report", "Quarterly-Report.pdf", owner)
    other = _store(services, b"a photo", "holiday.txt")
    assert [f.public_id for f in services.files.search_all("report")] == [report]
    assert [f.public_id for f in services.files.search_all(other)] == [other]
    assert {f.public_id for f in services.files.search_all("")} == {report, other}
    assert len(services.files.search_all("", limit=1)) == 1


def test_storage_summary_counts_files_blobs_and_bytes(services: Services, owner: int) -> None:
    assert services.files.storage_summary() == {"files": 0, "blobs": 0, "bytes": 0}
    _store(services, b"12345", "a.txt", owner)
    _store(services, b"12345", "b.txt")  # the same bytes: one blob
    assert services.files.storage_summary() == {"files": 2, "blobs": 1, "bytes": 5}


def test_row_id_of_a_public_id(services: Services) -> None:
    ident = _store(services, b"x", "x.txt")
    row = services.files.row_id(ident)
    assert row is not None and services.files.get(ident).id == row
    assert services.files.row_id("nonexistent1") is None


def test_usage_counts_the_owners_files_and_bytes(services: Services, owner: int) -> None:
    assert services.policy.usage(owner) == (0, 0)
    _store(services, b"1234", "a.txt", owner)
    _store(services, b"123456", "b.txt", owner)
    _store(services, b"someone else's", "c.txt")
    assert services.policy.usage(owner) == (2, 10)


def test_job_counts_cover_every_status(services: Services) -> None:
    assert services.jobs.counts() == dict.fromkeys(STATUSES, 0)
    services.jobs.submit("fetch_url", params={"url": "http://example.com/"}, owner_id=None)
    counts = services.jobs.counts()
    assert sum(counts.values()) == 1 and set(counts) == set(STATUSES)


def test_stats_reports_lookup(services: Services) -> None:
    assert services.stats.reports() == []
    assert services.stats.report(1) is None
    assert services.stats.report(2**31) is None
