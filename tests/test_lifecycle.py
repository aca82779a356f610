"""The life of stored bytes, through a real HTTP server on every database:
killed uploads, stale temp files, deletes and concurrent identical uploads."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from pastefile.db.models import Blob, File
from pastefile.services.ids import new_public_id, new_short_code
from tests.support.cli import PASTEFILE, cli_env, run_cli
from tests.support.files import stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.servers import free_port, http_get, http_upload, port_open, wait_until
from tests.support.uploads import multipart_body, upload


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # Links point at whichever server answered, so they can be followed.
    return {"base_url": ""}


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def counts(services) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        files = session.scalar(select(func.count()).select_from(File)) or 0
        blobs = session.scalar(select(func.count()).select_from(Blob)) or 0
    return files, blobs


def _send_half(port: int, method: str, path: str, body: bytes, content_type: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _partial_bytes_on_disk(settings) -> bool:  # type: ignore[no-untyped-def]
    return any(p.stat().st_size > 0 for p in temp_files(settings) if p.exists())


# --- a killed upload -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_killed_upload_leaves_no_file_no_row_and_no_temp_file(live, services, settings, method):
    data = os.urandom(4 * 1024 * 1024)
    if method == "POST":
        body, content_type = multipart_body(data, "half.bin")
    else:
        body, content_type = data, "application/octet-stream"
    port = int(live.rsplit(":", 1)[1])
    sock = _send_half(port, method, "/" if method == "POST" else "/half.bin", body, content_type)
    wait_until(lambda: _partial_bytes_on_disk(settings))
    sock.close()  # the client dies mid-upload
    wait_until(lambda: temp_files(settings) == [])
    assert stored_blobs(settings) == []
    assert counts(services) == (0, 0)
    # The server is fine afterwards, and the same bytes upload normally.
    status, body_json = http_upload(live, data, "whole.bin")
    assert status == 201
    assert http_get(str(body_json["url_i"])) == (200, data)


def _start_server(settings, tmp_path: Path, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = cli_env(settings, APP_ENV="development", PASTEFILE_BASE_URL="")
    server = subprocess.Popen(
        [PASTEFILE, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port) or server.poll() is not None, timeout=30)
    except BaseException:
        server.kill()
        raise
    assert server.poll() is None, "pastefile serve exited at start"
    return server


def test_crashed_server_leaves_a_temp_file_that_cleanup_temp_removes(services, settings, tmp_path):
    port = free_port()
    server = _start_server(settings, tmp_path, port)
    try:
        body, content_type = multipart_body(os.urandom(4 * 1024 * 1024), "doomed.bin")
        sock = _send_half(port, "POST", "/", body, content_type)
        wait_until(lambda: _partial_bytes_on_disk(settings))
    finally:
        server.send_signal(signal.SIGKILL)  # the whole server dies mid-upload
        server.wait(timeout=10)
    sock.close()
    leftovers = temp_files(settings)
    assert len(leftovers) == 1
    assert stored_blobs(settings) == []
    assert counts(services) == (0, 0)

    # An upload still streaming elsewhere has a fresh temp file; it must survive.
    in_progress = services.storage.writer()
    in_progress.write(b"still arriving")
    two_hours_ago = time.time() - 7200
    os.utime(leftovers[0], (two_hours_ago, two_hours_ago))

    result = run_cli("cleanup-temp", env=cli_env(settings), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed 1 stale temp file" in result.stdout
    assert not leftovers[0].exists()
    assert temp_files(settings) == [in_progress.temp_path]  # type: ignore[attr-defined]
    in_progress.abort()


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


# --- deleting --------------------------------------------------------------------------------


def _second_reference(services, sha256: str) -> str:  # type: ignore[no-untyped-def]
    """Another file with the same bytes, as a different owner's upload would be."""
    with services.db.read() as session:
        first = session.scalar(select(File).where(File.sha256 == sha256))
    with services.db.write() as session:
        other = File(
            public_id=new_public_id(),
            short_code=new_short_code(),
            filename="copy.bin",
            sha256=sha256,
            mimetype=first.mimetype,
            size=first.size,
            dedup_key=None,
            status="ready",
        )
        session.add(other)
    return other.public_id


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


def test_a_shared_blob_survives_the_first_of_two_deletes(live, services, settings, tmp_path):
    data = os.urandom(50_000)
    status, body = http_upload(live, data, "original.bin")
    assert status == 201
    copy_id = _second_reference(services, hashlib.sha256(data).hexdigest())
    services.files.delete(str(body["id"]))
    assert http_get(str(body["url_i"]))[0] == 404
    assert len(stored_blobs(settings)) == 1
    assert http_get(f"{live}/i/{copy_id}") == (200, data)

    result = run_cli("delete", copy_id, env=cli_env(settings), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert http_get(f"{live}/i/{copy_id}")[0] == 404
    assert stored_blobs(settings) == []
    assert counts(services) == (0, 0)


def test_delete_of_an_unknown_id_fails_and_deletes_nothing(live, services, settings, tmp_path):
    data = os.urandom(1000)
    http_upload(live, data, "keep.bin")
    result = run_cli("delete", "AAAAAAAAAAAA", env=cli_env(settings), cwd=tmp_path)
    assert result.returncode != 0
    assert "no such file" in result.stderr
    assert counts(services) == (1, 1)
    assert len(stored_blobs(settings)) == 1


# --- concurrency ------------------------------------------------------------------------------


def test_ten_concurrent_identical_uploads_make_one_file(live, services, settings):
    data = os.urandom(256 * 1024)
    barrier = threading.Barrier(10)

    def one(n: int) -> tuple[int, dict[str, object]]:
        barrier.wait()
        return http_upload(live, data, f"same-{n}.bin")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(10)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 9 + [201]
    for field in ("id", "url_i", "url_d", "url_p", "url_s"):
        assert len({str(body[field]) for _, body in results}) == 1, field
    assert counts(services) == (1, 1)
    assert len(stored_blobs(settings)) == 1
    assert temp_files(settings) == []
    assert http_get(str(results[0][1]["url_i"])) == (200, data)


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
