"""``kill -9`` of the whole server (master and workers) in the middle of each write.

The test holds a process at a named point (``pastefile.crashpoints``), or holds
back the rest of a request body, so it knows where the server is when it kills
it. After a restart and ``pastefile gc`` (grace 0), ``pastefile check`` finds no
row without its bytes and no orphan, the temp and part areas are empty, the
client never saw a success for bytes that are not there, and a tus upload
resumes from the last acknowledged offset and completes byte-exact.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
from pathlib import Path

import requests

from tests.support.crashes import Attempt, CrashableServer, SlowOrigin
from tests.support.images import image_bytes
from tests.support.production import ProductionServer
from tests.support.servers import http_upload, wait_until

SERVER_SETTINGS = {"PASTEFILE_FETCH_ALLOWED_NETWORKS": "127.0.0.2/32"}
DATA = os.urandom(300_000)
PASSWORD = "crash-test-password-1"
TUS = {"Tus-Resumable": "1.0.0"}
# Large enough that the server writes a MiB of a PATCH before its client stops sending.
TUS_DATA = os.urandom(3_000_000)
CHUNK = 500_000


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored(server: ProductionServer, data: bytes) -> bool:
    return any(p.name == _sha(data) for p in server.stored_objects())


def _dead(sock: socket.socket) -> bool:
    """The client's view of a request whose server died: no answer, ever."""
    try:
        return sock.recv(1) == b""
    except OSError:
        return True
    finally:
        sock.close()


def _send_part(server: ProductionServer, head: str, body: bytes, sent: int) -> socket.socket:
    """A request whose client sent ``sent`` bytes of ``body`` and holds the rest."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    lines = f"{head}\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {len(body)}\r\n\r\n"
    sock.sendall(lines.encode() + body[:sent])
    return sock


def _growing(folder: Path, pattern: str, above: int) -> bool:
    return any(p.stat().st_size > above for p in folder.glob(pattern) if p.is_file())


def _after_restart(crashable: CrashableServer) -> tuple[ProductionServer, str]:
    server = crashable.start()
    collected = crashable.collect()
    crashable.assert_consistent()
    assert crashable.leftovers() == [], "no temp file or part is left"
    return server, collected


def _download(server: ProductionServer, public_id: str) -> bytes:
    answer = requests.get(server.url(f"/d/{public_id}"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.content


def test_a_multipart_upload_killed_with_its_bytes_in_place(crashable: CrashableServer) -> None:
    server = crashable.running()
    crashable.arm("upload.published")
    attempt = Attempt(lambda: http_upload(server.base, DATA, "kept.bin"))
    crashable.wait_paused("upload.published")
    assert _stored(server, DATA), "the bytes are in place, their row not yet committed"
    crashable.kill()
    assert attempt.join().error is not None, "the client saw no success"

    server, collected = _after_restart(crashable)
    assert "1 stray object" in collected
    assert not _stored(server, DATA)
    status, body = http_upload(server.base, DATA, "kept.bin")
    assert status == 201
    assert _download(server, str(body["id"])) == DATA


def test_a_put_killed_mid_body(crashable: CrashableServer) -> None:
    server = crashable.running()
    data = os.urandom(4_000_000)
    head = "PUT /half.bin HTTP/1.1\r\nContent-Type: application/octet-stream"
    sock = _send_part(server, head, data, 2_000_000)
    wait_until(lambda: _growing(server.root / "files" / "tmp", "upload-*", 0), timeout=20)
    crashable.kill()
    assert _dead(sock), "the client got no answer"

    server, collected = _after_restart(crashable)
    assert "removed 1 temp file" in collected
    assert not _stored(server, data)


def _tus_create(server: ProductionServer, length: int) -> str:
    answer = requests.post(
        server.url("/api/v1/uploads"),
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": "filename ZGF0YS5iaW4="},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.headers["Location"].rsplit("/", 1)[1]


def _tus_patch(
    server: ProductionServer, upload: str, offset: int, body: bytes
) -> requests.Response:
    return requests.patch(
        server.url(f"/api/v1/uploads/{upload}"),
        data=body,
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=30,
    )


def _tus_offset(server: ProductionServer, upload: str) -> int:
    answer = requests.head(server.url(f"/api/v1/uploads/{upload}"), headers=TUS, timeout=10)
    assert answer.status_code == 200, answer.headers
    return int(answer.headers["Upload-Offset"])


def _tus_resume(server: ProductionServer, upload: str, acknowledged: int) -> None:
    """The client resumes from the server's offset, the last one it was told."""
    offset = _tus_offset(server, upload)
    assert offset == acknowledged
    done = _tus_patch(server, upload, offset, TUS_DATA[offset:])
    assert done.status_code == 204, done.text
    assert _download(server, done.headers["X-File-Id"]) == TUS_DATA


def test_a_tus_patch_killed_mid_body_resumes(crashable: CrashableServer) -> None:
    server = crashable.running()
    upload = _tus_create(server, len(TUS_DATA))
    assert _tus_patch(server, upload, 0, TUS_DATA[:CHUNK]).status_code == 204
    head = (
        f"PATCH /api/v1/uploads/{upload} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {CHUNK}\r\nContent-Type: application/offset+octet-stream"
    )
    sock = _send_part(server, head, TUS_DATA[CHUNK:], 2_000_000)
    wait_until(lambda: _growing(server.root / "files" / "tus", "*.part", CHUNK), timeout=20)
    crashable.kill()
    assert _dead(sock), "the client got no answer"

    server = crashable.start()
    _tus_resume(server, upload, CHUNK)
    _after_restart(crashable)


def test_a_tus_upload_killed_as_it_becomes_a_file_resumes(crashable: CrashableServer) -> None:
    server = crashable.running()
    upload = _tus_create(server, len(TUS_DATA))
    assert _tus_patch(server, upload, 0, TUS_DATA[:CHUNK]).status_code == 204
    crashable.arm("tus.finished")
    attempt = Attempt(lambda: _tus_patch(server, upload, CHUNK, TUS_DATA[CHUNK:]))
    crashable.wait_paused("tus.finished")
    crashable.kill()
    assert attempt.join().error is not None, "the client saw no success"

    server = crashable.start()
    status = requests.head(server.url(f"/api/v1/uploads/{upload}"), headers=TUS, timeout=10)
    assert status.headers["Upload-Offset"] == str(len(TUS_DATA))
    assert "X-File-Id" in status.headers, "the upload names the file it became"
    assert _download(server, status.headers["X-File-Id"]) == TUS_DATA
    again = _tus_patch(server, upload, len(TUS_DATA), b"")  # a client that missed the answer
    assert again.status_code == 204
    assert again.headers["X-File-Id"] == status.headers["X-File-Id"], "no second file"
    _after_restart(crashable)


def test_a_resize_on_upload_killed_mid_way(crashable: CrashableServer) -> None:
    server = crashable.running()
    picture = image_bytes("PNG", (300, 200))
    crashable.arm("upload.resized")
    attempt = Attempt(
        lambda: requests.put(server.url("/p.png?w=30&h=20"), data=picture, timeout=30)
    )
    crashable.wait_paused("upload.resized")
    crashable.kill()
    assert attempt.join().error is not None, "the client saw no success"

    server, collected = _after_restart(crashable)
    assert "removed 1 temp file" in collected, "the resized copy's temp file"
    assert not _stored(server, picture)


def test_a_variant_killed_with_its_bytes_in_place(crashable: CrashableServer) -> None:
    server = crashable.running()
    picture = image_bytes("PNG", (300, 200))
    status, body = http_upload(server.base, picture, "v.png")
    assert status == 201
    variant = server.url(f"/i/{body['id']}?w=40")
    crashable.arm("variant.published")
    attempt = Attempt(lambda: requests.get(variant, timeout=30))
    crashable.wait_paused("variant.published")
    crashable.kill()
    assert attempt.join().error is not None, "the client saw no success"

    server, collected = _after_restart(crashable)
    assert "1 stray object" in collected, "the variant's bytes without their row"
    answer = requests.get(server.url(f"/i/{body['id']}?w=40"), timeout=30)
    assert answer.status_code == 200 and answer.content
    assert _download(server, str(body["id"])) == picture
    crashable.assert_consistent()


def test_a_delete_killed_between_its_commit_and_the_unlink(crashable: CrashableServer) -> None:
    server = crashable.running()
    data = os.urandom(50_000)
    status, body = http_upload(server.base, data, "gone.bin")
    assert status == 201
    crashable.arm("blob.unlinking")
    target = server.url(f"/api/v1/files/{body['id']}")
    attempt = Attempt(
        lambda: requests.delete(target, headers={"X-Token": str(body["token"])}, timeout=30)
    )
    crashable.wait_paused("blob.unlinking")
    crashable.kill()
    assert attempt.join().error is not None, "the client got no answer"

    server, collected = _after_restart(crashable)
    assert "1 stray object" in collected
    assert not _stored(server, data)
    assert requests.get(server.url(f"/d/{body['id']}"), timeout=10).status_code in (404, 410)


def _api_token(server: ProductionServer) -> dict[str, str]:
    server.create_user("fetcher", PASSWORD)
    browser = server.browser("fetcher", PASSWORD)
    page = browser.get(server.url("/"), timeout=10).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf, "the upload page carries the CSRF token"
    made = browser.post(
        server.url("/api/v1/tokens"),
        json={"name": "crash", "scopes": ["read", "upload"]},
        headers={"X-CSRF-Token": csrf.group(1)},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _settled(server: ProductionServer, job: int, auth: dict[str, str]) -> dict[str, object]:
    """The job once it succeeded or failed (bounded: a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = requests.get(server.url(f"/api/v1/jobs/{job}"), headers=auth, timeout=10).json()
        if found["status"] in ("succeeded", "failed"):
            return dict(found)
        time.sleep(0.2)
    raise AssertionError(f"job {job} never settled: {found}")


def test_a_url_fetch_killed_mid_body(crashable: CrashableServer) -> None:
    server = crashable.running()
    auth = _api_token(server)
    data = os.urandom(2_000_000)
    origin = SlowOrigin(data)
    try:
        asked = requests.post(
            server.url("/api/v1/files"), json={"url": origin.url}, headers=auth, timeout=10
        )
        assert asked.status_code == 202, asked.text
        assert origin.half_sent.wait(30), "the fetch started"
        wait_until(lambda: _growing(server.root / "files" / "tmp", "upload-*", 0), timeout=20)
        crashable.kill()
        origin.release.set()
        server = crashable.start()
        job = _settled(server, int(asked.json()["id"]), auth)
    finally:
        origin.close()
    assert job["status"] == "succeeded", job  # queued again after the restart: its pid died
    assert _download(server, str(job["file"])) == data
    crashable.collect()
    crashable.assert_consistent()
    assert crashable.leftovers() == []
