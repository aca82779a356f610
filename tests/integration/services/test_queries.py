"""The service queries the web pages use: statuses, admin search and summary, usage, job counts."""

from __future__ import annotations

import io

import pytest

from pastefile.composition import Services
from pastefile.db.jobs import STATUSES
from pastefile.services.files import AdminFileQuery
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


def test_admin_page_by_name_or_id_owner_visibility_and_expiry(
    services: Services, owner: int
) -> None:
    report = _store(services, b"a report", "Quarterly-Report.pdf", owner)
    other = _store(services, b"a photo", "holiday_100%.txt")

    def ids(**wanted: object) -> list[str]:
        rows, total = services.files.admin_page(AdminFileQuery(**wanted))  # type: ignore[arg-type]
        assert total >= len(rows)
        return [row.file.public_id for row in rows]

    assert ids(q="report") == [report]
    assert ids(q=other) == [other]
    assert ids(q="100%") == [other]  # LIKE wildcards are taken literally
    assert set(ids()) == {report, other}
    assert ids(owner="alice") == [report] and ids(owner="-") == [other]
    assert ids(visibility="private") == [report]
    assert ids(expiring=True) == [] and set(ids(expiring=False)) == {report, other}
    rows, total = services.files.admin_page(AdminFileQuery(per_page=1, page=2))
    assert total == 2 and len(rows) == 1 and rows[0].owner in ("alice", None)
    assert services.files.names([report, "nonexistent1"]) == {report: "Quarterly-Report.pdf"}


def test_users_page_with_usage_and_limits(services: Services, owner: int) -> None:
    bob = services.accounts.create_user("bob_1", "correct horse battery")
    _store(services, b"1234", "a.txt", owner)
    _store(services, b"123456", "b.txt", owner)
    users, total = services.accounts.list_users(0, 10, "B_1")
    assert total == 1 and [u.id for u in users] == [bob.id]  # case-insensitive, "_" literal
    assert services.policy.usage_of([owner, bob.id]) == {owner: (2, 10)}
    assert services.policy.limits_of(users[0]) == services.policy.quota(bob.id)
    assert services.policy.blocked(0, 10) == ([], 0)


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
