"""Stored bytes go only when nothing refers to them any more: files, image
variants and kept reports alike, read from the tables' foreign keys."""

from __future__ import annotations

import io

from pastefile.composition import Services
from pastefile.db.models import Blob
from pastefile.services.accounts import ROLE_USER
from pastefile.services.policy import UploadRequest
from pastefile.stats.counting import today
from pastefile.stats.reports import make_report


def _has_blob(services: Services, sha256: str) -> bool:
    with services.db.read() as session:
        row = session.get(Blob, sha256)
    return row is not None and services.storage.exists(sha256)


def test_every_table_that_points_at_blobs_counts_as_a_reference(services: Services) -> None:
    referring = {f"{c.table.name}.{c.name}" for c in services.blobs.references}
    assert referring == {
        "files.sha256", "variants.sha256", "variants.source_sha256", "stats_reports.sha256",
    }  # fmt: skip


def test_deleting_a_file_keeps_a_report_with_the_same_bytes(services: Services) -> None:
    report = make_report(
        services.settings, services.db, services.blobs, services.stats_store, "weekly", [], today()
    )
    with services.storage.open(report.sha256) as stream:
        same_bytes = stream.read()
    file = services.uploads.save_stream(io.BytesIO(same_bytes), "copy.xlsx").file
    assert file.sha256 == report.sha256
    services.files.delete(file.public_id)
    assert _has_blob(services, report.sha256), "the report still has its bytes"


def test_deleting_the_last_file_removes_its_bytes(services: Services) -> None:
    file = services.uploads.save_stream(io.BytesIO(b"only once\n"), "a.txt").file
    services.files.delete(file.public_id)
    assert not _has_blob(services, file.sha256)


def test_deleting_one_of_two_files_keeps_the_bytes(services: Services) -> None:
    anonymous = services.uploads.save_stream(io.BytesIO(b"shared\n"), "a.txt").file
    bob = services.accounts.create_user("bob", "a long password", ROLE_USER)
    mine = services.policy.prepare(services.accounts.session_principal(bob), UploadRequest())
    own = services.uploads.save_stream(io.BytesIO(b"shared\n"), "b.txt", options=mine.options)
    assert own.file.public_id != anonymous.public_id, "links are never shared across owners"
    services.files.delete(anonymous.public_id)
    assert _has_blob(services, own.file.sha256)
