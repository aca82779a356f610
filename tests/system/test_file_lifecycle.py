"""Files and their bytes with real processes.

A killed ``pastefile serve``, then ``pastefile cleanup-temp``; ``pastefile delete``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from pastefile.db.models import File
from pastefile.services.ids import new_public_id, new_short_code
from tests.support.cli import PASTEFILE, cli_env, run_cli
from tests.support.files import counts, partial_bytes_on_disk, stored_blobs, temp_files
from tests.support.servers import (
    free_port,
    http_get,
    http_upload,
    port_open,
    send_half,
    serve_app,
    wait_until,
)
from tests.support.uploads import multipart_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # Links point at whichever server answered, so they can be followed.
    return {"base_url": ""}


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on a free port."""
    with serve_app(app) as url:
        yield url


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
        sock = send_half(port, "POST", "/", body, content_type)
        wait_until(lambda: partial_bytes_on_disk(settings))
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
