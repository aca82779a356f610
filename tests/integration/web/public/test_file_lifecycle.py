"""The life of stored bytes, through a real HTTP server on every database:
killed uploads, stale temp files, deletes and concurrent identical uploads."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from pastefile.db.models import File
from tests.support.api import make_token
from tests.support.files import counts, partial_bytes_on_disk, stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.servers import http_get, http_upload, send_half, serve_app, wait_until
from tests.support.uploads import multipart_body, upload


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # Links point at whichever server answered, so they can be followed.
    return {"base_url": ""}


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on a free port."""
    with serve_app(app) as url:
        yield url


# --- a killed upload -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_killed_upload_leaves_no_file_no_row_and_no_temp_file(live, services, settings, method):
    data = os.urandom(4 * 1024 * 1024)
    if method == "POST":
        body, content_type = multipart_body(data, "half.bin")
    else:
        body, content_type = data, "application/octet-stream"
    port = int(live.rsplit(":", 1)[1])
    sock = send_half(port, method, "/" if method == "POST" else "/half.bin", body, content_type)
    wait_until(lambda: partial_bytes_on_disk(settings))
    sock.close()  # the client dies mid-upload
    wait_until(lambda: temp_files(settings) == [])
    assert stored_blobs(settings) == []
    assert counts(services) == (0, 0)
    # The server is fine afterwards, and the same bytes upload normally.
    status, body_json = http_upload(live, data, "whole.bin")
    assert status == 201
    assert http_get(str(body_json["url_i"])) == (200, data)


def test_cleanup_temp_in_process_removes_abandoned_writers(services, settings):
    writer = services.uploads.new_writer()
    writer.write(b"a client that never finished")
    assert len(temp_files(settings)) == 1
    assert services.storage.cleanup_temp(3600) == 0  # too young to be abandoned
    assert services.storage.cleanup_temp(0) == 1
    assert temp_files(settings) == []
    writer.abort()


@pytest.mark.parametrize("fields", [{}, {"w": "10", "h": "10"}], ids=["as-is", "resized"])
def test_a_database_outage_during_upload_leaves_no_temp_file(client, services, settings, fields):
    def outage() -> None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database is down"))

    healthy = services.db.write
    services.db.write = outage
    try:
        response = upload(client, image_bytes(), "cat.png", **fields)
    finally:
        services.db.write = healthy
    assert response.status_code >= 500
    assert response.mimetype == "application/problem+json"
    assert temp_files(settings) == []
    assert counts(services) == (0, 0)
    assert upload(client, image_bytes(), "cat.png", **fields).status_code == 201
    assert temp_files(settings) == []


def test_deleting_the_last_reference_removes_the_bytes(live, services, settings):
    data = os.urandom(100_000)
    status, body = http_upload(live, data, "gone-soon.bin")
    assert status == 201
    assert len(stored_blobs(settings)) == 1
    services.files.delete(str(body["id"]))
    assert stored_blobs(settings) == []
    assert counts(services) == (0, 0)
    for link in ("url_i", "url_d", "url_p", "url_s"):
        assert http_get(str(body[link]))[0] == 404
    # The same bytes can be uploaded again and are served again.
    status, again = http_upload(live, data, "back.bin")
    assert status == 201
    assert again["id"] != body["id"]
    assert http_get(str(again["url_i"])) == (200, data)


# --- concurrency ------------------------------------------------------------------------------


def _ten_at_once(live: str, data: bytes, headers: dict[str, str] | None = None) -> list:
    barrier = threading.Barrier(10)

    def one(n: int) -> tuple[int, dict[str, object]]:
        barrier.wait()
        return http_upload(live, data, f"same-{n}.bin", headers)

    with ThreadPoolExecutor(10) as pool:
        return list(pool.map(one, range(10)))


def test_ten_concurrent_identical_uploads_by_one_owner_make_one_file(live, services, settings):
    data = os.urandom(256 * 1024)
    results = _ten_at_once(live, data, make_token(services, "alice"))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 9 + [201]
    for field in ("id", "url_i", "url_d", "url_p", "url_s"):
        assert len({str(body[field]) for _, body in results}) == 1, field
    assert counts(services) == (1, 1)
    assert len(stored_blobs(settings)) == 1
    assert temp_files(settings) == []
    assert http_get(str(results[0][1]["url_i"])) == (200, data)


def test_ten_concurrent_anonymous_uploaders_get_ten_records_on_one_blob(live, services, settings):
    data = os.urandom(256 * 1024)
    results = _ten_at_once(live, data)
    assert sorted(status for status, _ in results) == [201] * 10
    # Each keeps the name it sent; storage dedup keeps one copy of the bytes.
    assert {body["filename"] for _, body in results} == {f"same-{n}.bin" for n in range(10)}
    assert len({body["id"] for _, body in results}) == 10
    assert counts(services) == (10, 1)
    assert len(stored_blobs(settings)) == 1
    assert temp_files(settings) == []


def test_deletes_racing_identical_uploads_never_leave_a_row_without_bytes(live, services):
    data = os.urandom(20_000)
    for _ in range(8):
        status, body = http_upload(live, data, "race.bin")
        assert status in (200, 201)
        with ThreadPoolExecutor(2) as pool:
            deleting = pool.submit(services.files.delete, str(body["id"]))
            uploading = pool.submit(http_upload, live, data, "race.bin")
            deleting.result()
            assert uploading.result()[0] in (200, 201)
        with services.db.read() as session:
            rows = session.scalars(select(File)).all()
        for row in rows:
            assert services.storage.exists(row.sha256)
            assert http_get(f"{live}/i/{row.public_id}") == (200, data)
        for row in rows:
            services.files.delete(row.public_id)
