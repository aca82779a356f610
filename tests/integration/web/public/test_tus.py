"""tus 1.0 resumable uploads at /api/v1/uploads, on SQLite, MariaDB and PostgreSQL.

The protocol's edges go through the Flask test client on every database; the
real ``tuspy`` client talks to a live server at the end of this module. The
200 MB cut-off-and-resume run is in ``test_tus_large.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from pydantic import ByteSize
from sqlalchemy import func, select, update
from tusclient.client import TusClient
from tusclient.exceptions import TusUploadFailed
from tusclient.uploader import Uploader
from werkzeug.serving import make_server

from pastefile.cli import main
from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.db.models import File
from pastefile.db.tus import TusUpload
from pastefile.db.types import utcnow
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.services.accounts import ROLE_ADMIN
from pastefile.web import create_app
from tests.support.api import make_token, post_file, problem
from tests.support.settings import make_settings

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def sha256_header(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def create(client, length: int, headers=None, **meta: str) -> str:  # type: ignore[no-untyped-def]
    """POST a new upload; the path of its URL."""
    extra = {"Upload-Metadata": metadata(**meta)} if meta else {}
    response = client.post(
        "/api/v1/uploads",
        headers={**TUS, "Upload-Length": str(length), **extra, **(headers or {})},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Tus-Resumable"] == "1.0.0"
    return urlsplit(response.headers["Location"]).path


def patch(client, path, data, offset, headers=None, checksum=None):  # type: ignore[no-untyped-def]
    sent = {**TUS, "Upload-Offset": str(offset), **(headers or {})}
    if checksum:
        sent["Upload-Checksum"] = checksum
    return client.patch(path, data=data, content_type=OCTETS, headers=sent)


def offset_of(client, path, headers=None) -> int:  # type: ignore[no-untyped-def]
    response = client.head(path, headers={**TUS, **(headers or {})})
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


def part_file(settings, path: str) -> Path:  # type: ignore[no-untyped-def]
    upload_id = path.rsplit("/", 1)[1]
    return Path(settings.storage_url.removeprefix("file://")) / "tus" / f"{upload_id}.part"


def upload_rows(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(TusUpload)) or 0)


# --- discovery, creation, HEAD, PATCH ----------------------------------------------------


def test_options_says_what_the_server_supports(client, settings):
    response = client.options("/api/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    extensions = set(response.headers["Tus-Extension"].split(","))
    assert {"creation", "termination", "expiration", "checksum"} <= extensions
    assert response.headers["Tus-Max-Size"] == str(int(settings.max_upload_size))
    assert "sha256" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_chunks_add_up_to_a_file_with_the_options_asked_for(client, services):
    headers = make_token(services)
    data = b"first half|" + b"second half"
    path = create(
        client,
        len(data),
        headers,
        filename="notes.txt",
        visibility="unlisted",
        expires_in="3600",
        password="open sesame",
    )
    head = client.head(path, headers={**TUS, **headers})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store" and head.headers["Upload-Expires"]
    echoed = head.headers["Upload-Metadata"]
    assert "filename" in echoed and "password" not in echoed  # never echoed back
    first = patch(client, path, data[:11], 0, headers)
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "11"
    assert "Location" not in first.headers
    assert offset_of(client, path, headers) == 11
    last = patch(client, path, data[11:], 11, headers, checksum=sha256_header(data[11:]))
    assert last.status_code == 204, last.get_data(as_text=True)
    assert last.headers["Upload-Offset"] == str(len(data))
    assert "X-Token" not in last.headers  # owned files are managed by their owner
    file_url = urlsplit(last.headers["Location"]).path
    assert file_url == f"/api/v1/files/{last.headers['X-File-Id']}"
    body = client.get(file_url, headers=headers).get_json()
    assert body["filename"] == "notes.txt" and body["visibility"] == "unlisted"
    assert body["expires_at"] is not None and body["password_protected"] is True
    assert body["owner_id"] is not None and body["sha256"] == hashlib.sha256(data).hexdigest()
    raw = urlsplit(body["links"]["raw"]).path
    assert client.get(raw, headers={"X-File-Password": "open sesame"}).data == data
    after = client.head(path, headers={**TUS, **headers})
    assert after.headers["X-File-Id"] == last.headers["X-File-Id"]
    assert after.headers["Upload-Offset"] == str(len(data))


def test_anonymous_uploads_get_the_management_token_when_the_file_is_stored(client, services):
    path = create(client, 9, filename="anon.txt")
    done = patch(client, path, b"anonymous", 0)
    assert done.status_code == 204
    token, ident = done.headers["X-Token"], done.headers["X-File-Id"]
    problem(client.delete(f"/api/v1/files/{ident}"), 403, "forbidden")
    assert client.delete(f"/api/v1/files/{ident}", headers={"X-Token": token}).status_code == 204


def test_identical_anonymous_uploads_are_each_their_own_file_with_a_token(client):
    done = []
    for _ in range(2):
        path = create(client, 12)
        finished = patch(client, path, b"same content", 0)
        done.append((finished.headers["X-File-Id"], finished.headers.get("X-Token")))
    (first, token1), (second, token2) = done
    assert first != second  # two uploaders, two records on one blob
    assert token1 and token2 and token1 != token2


def test_the_part_lives_in_the_storage_area_and_goes_when_the_file_is_stored(
    client, settings, services
):
    path = create(client, 10)
    patch(client, path, b"12345", 0)
    part = part_file(settings, path)
    assert part.read_bytes() == b"12345"
    assert patch(client, path, b"67890", 5).status_code == 204
    assert not part.exists()


# --- offsets and checksums -----------------------------------------------------------------


def test_offset_mismatch_is_409_and_loses_nothing(client, settings):
    data = b"abcdefghij"
    path = create(client, len(data))
    patch(client, path, data[:4], 0)
    for wrong in (0, 3, 5, 10):
        response = patch(client, path, b"XXXX", wrong)
        body = problem(response, 409, "offset_mismatch")
        assert body["offset"] == 4
    assert offset_of(client, path) == 4 and part_file(settings, path).read_bytes() == b"abcd"
    done = patch(client, path, data[4:], 4)
    ident = done.headers["X-File-Id"]
    assert client.get(f"/i/{ident}").data == data


def test_checksum_mismatch_is_460_and_the_chunk_is_discarded(client, settings):
    data = b"checksummed bytes"
    path = create(client, len(data))
    assert patch(client, path, data[:7], 0, checksum=sha256_header(data[:7])).status_code == 204
    wrong = patch(client, path, data[7:], 7, checksum=sha256_header(b"something else"))
    problem(wrong, 460, "checksum_mismatch")
    assert offset_of(client, path) == 7
    assert part_file(settings, path).read_bytes() == data[:7]
    sha1 = "sha1 " + base64.b64encode(hashlib.sha1(data[7:]).digest()).decode()
    done = patch(client, path, data[7:], 7, checksum=sha1)  # tus' mandatory sha1 works too
    assert done.status_code == 204
    assert client.get(f"/i/{done.headers['X-File-Id']}").data == data


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("md5 1B2M2Y8AsgTpgAmY7PhCfg==", "unsupported_checksum_algorithm"),
        ("sha256 not-base64!", "invalid_input"),
        ("sha256 " + base64.b64encode(b"short").decode(), "invalid_input"),
        ("sha256", "invalid_input"),
    ],
)
def test_bad_checksum_headers_are_400(client, header, code):
    path = create(client, 4)
    problem(patch(client, path, b"data", 0, checksum=header), 400, code)
    assert offset_of(client, path) == 0


# --- refusals ------------------------------------------------------------------------------


def test_protocol_headers_are_checked(client, settings):
    no_version = client.post("/api/v1/uploads", headers={"Upload-Length": "5"})
    problem(no_version, 412, "tus_version_unsupported")
    assert no_version.headers["Tus-Version"] == "1.0.0"
    old = client.post("/api/v1/uploads", headers={"Tus-Resumable": "0.2.2", "Upload-Length": "5"})
    problem(old, 412, "tus_version_unsupported")
    for length in (None, "-1", "five", "1e3", "9" * 30):
        headers = {**TUS, **({"Upload-Length": length} if length else {})}
        problem(client.post("/api/v1/uploads", headers=headers), 400, "invalid_input")
    deferred = {**TUS, "Upload-Defer-Length": "1"}
    problem(client.post("/api/v1/uploads", headers=deferred), 400, "invalid_input")
    empty = {**TUS, "Upload-Length": "0"}
    problem(client.post("/api/v1/uploads", headers=empty), 400, "empty_file")
    with_body = client.post("/api/v1/uploads", data=b"early", headers={**TUS, "Upload-Length": "5"})
    problem(with_body, 400, "invalid_input")
    for meta in ("filename !!notbase64", "a b,a b", "é dGVzdA==", "filename " + "QQ==" * 2000):
        headers = {**TUS, "Upload-Length": "5", "Upload-Metadata": meta}
        problem(client.post("/api/v1/uploads", headers=headers), 400, "invalid_input")
    bad_option = {**TUS, "Upload-Length": "5", "Upload-Metadata": metadata(visibility="secret")}
    problem(client.post("/api/v1/uploads", headers=bad_option), 400, "invalid_input")
    path = create(client, 5)
    wrong_type = client.patch(
        path,
        data=b"hello",
        content_type="application/octet-stream",
        headers=TUS | {"Upload-Offset": "0"},
    )
    problem(wrong_type, 415, "unsupported_media_type")
    no_offset = client.patch(path, data=b"hello", content_type=OCTETS, headers=TUS)
    problem(no_offset, 400, "invalid_input")
    assert client.head(path).status_code == 412  # HEAD has no body; the status says it
    assert offset_of(client, path) == 0  # nothing a refused request sent was kept


def test_too_large_is_413_on_creation_and_on_a_chunk_past_the_length(client, settings):
    settings.max_upload_size = ByteSize(1000)
    response = client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "1001"})
    problem(response, 413, "too_large")
    assert client.options("/api/v1/uploads").headers["Tus-Max-Size"] == "1000"
    path = create(client, 10)
    patch(client, path, b"12345", 0)
    problem(patch(client, path, b"6789012345", 5), 413, "too_large")
    assert offset_of(client, path) == 5
    assert part_file(settings, path).read_bytes() == b"12345"


def test_auth_rules_apply(client, services, settings):
    alice = make_token(services, "alice")
    bob = make_token(services, "bob")
    path = create(client, 6, alice)
    patch(client, path, b"abc", 0, alice)
    for who in ({}, bob):  # others cannot tell the upload exists
        assert client.head(path, headers={**TUS, **who}).status_code == 404
        problem(patch(client, path, b"def", 3, who), 404, "not_found")
        problem(client.delete(path, headers={**TUS, **who}), 404, "not_found")
    assert offset_of(client, path, alice) == 3
    reader = make_token(services, "carol", scopes=("read",))
    problem(
        client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "3", **reader}),
        403,
        "insufficient_scope",
    )
    settings.allow_anonymous_uploads = False
    problem(
        client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "3"}),
        401,
        "anonymous_uploads_disabled",
    )
    bad = {"Authorization": "Bearer pf_nope"}
    problem(
        client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "3", **bad}),
        401,
        "unauthorized",
    )


@pytest.mark.parametrize(
    "ident",
    [
        "..",
        "..%2F..%2Fetc%2Fpasswd",
        "../../etc/passwd",
        "%2e%2e",
        "0" * 31,
        "0" * 33,
        "A" * 32,  # the right length, not our alphabet
        "0" * 32,  # the right shape, never issued
        "x" * 5000,
        "%00" + "0" * 29,
    ],
)
def test_hostile_upload_ids_are_404_and_touch_nothing(client, settings, ident):
    parts = Path(settings.storage_url.removeprefix("file://")) / "tus"
    before = sorted(parts.iterdir()) if parts.exists() else []
    url = f"/api/v1/uploads/{ident}"
    assert client.head(url, headers=TUS).status_code == 404
    problem(patch(client, url, b"evil", 0), 404, "not_found")
    problem(client.delete(url, headers=TUS), 404, "not_found")
    after = sorted(parts.iterdir()) if parts.exists() else []
    assert after == before


# --- the finished upload takes the normal upload path --------------------------------


def test_the_blocklist_refuses_the_finished_upload_with_451(client, services, settings):
    admin = make_token(services, "root", ("read", "upload", "admin"), ROLE_ADMIN)
    data = b"abusive content"
    ident = post_file(client, admin, data=data).get_json()["id"]
    removal = client.post(f"/api/v1/files/{ident}/removal", json={"reason": "abuse"}, headers=admin)
    assert removal.status_code == 200
    path = create(client, len(data))
    problem(patch(client, path, data, 0), 451, "unavailable_for_legal_reasons")
    assert client.head(path, headers=TUS).status_code == 404  # spent: the upload is gone
    assert not part_file(settings, path).exists()


def test_denied_types_are_refused_at_the_end(client, settings):
    settings.denied_types = ["text/plain"]
    path = create(client, 11)
    problem(patch(client, path, b"plain text.", 0), 415, "unsupported_type")
    assert not part_file(settings, path).exists()


def test_quota_refusal_keeps_the_bytes_and_an_empty_patch_retries(client, services, settings):
    settings.user_quota_files = 1
    headers = make_token(services)
    first = post_file(client, headers, data=b"already here").get_json()
    path = create(client, 8, headers)
    problem(patch(client, path, b"new file", 0, headers), 507, "quota_exceeded")
    assert offset_of(client, path, headers) == 8  # kept: nothing to send again
    assert client.delete(f"/api/v1/files/{first['id']}", headers=headers).status_code == 204
    retried = patch(client, path, b"", 8, headers)
    assert retried.status_code == 204 and retried.headers["X-File-Id"]
    again = patch(client, path, b"", 8, headers)  # idempotent once stored
    assert again.status_code == 204 and again.headers["X-File-Id"] == retried.headers["X-File-Id"]


# --- termination and expiry ----------------------------------------------------------------


def test_termination_is_204_and_removes_the_bytes(client, services, settings):
    path = create(client, 10)
    patch(client, path, b"half!", 0)
    assert part_file(settings, path).exists()
    response = client.delete(path, headers=TUS)
    assert response.status_code == 204 and response.headers["Tus-Resumable"] == "1.0.0"
    assert not part_file(settings, path).exists() and upload_rows(services) == 0
    assert client.head(path, headers=TUS).status_code == 404
    problem(patch(client, path, b"rest!", 5), 404, "not_found")
    problem(client.delete(path, headers=TUS), 404, "not_found")
    never_written = create(client, 3)
    assert client.delete(never_written, headers=TUS).status_code == 204


def expire_now(services, path: str) -> None:  # type: ignore[no-untyped-def]
    with services.db.write() as session:
        session.execute(
            update(TusUpload)
            .where(TusUpload.id == path.rsplit("/", 1)[1])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_expired_uploads_answer_410_and_are_swept_with_their_parts(client, services, settings):
    keep = create(client, 10)
    patch(client, keep, b"still", 0)
    doomed = create(client, 10)
    expires = client.head(doomed, headers=TUS).headers["Upload-Expires"]
    assert expires.endswith("GMT")
    patch(client, doomed, b"abandoned", 0)
    expire_now(services, doomed)
    problem(patch(client, doomed, b"!", 9), 410, "upload_expired")
    assert client.head(doomed, headers=TUS).status_code == 410
    assert services.tus.expire() == 1
    assert not part_file(settings, doomed).exists()
    assert part_file(settings, keep).read_bytes() == b"still" and upload_rows(services) == 1
    assert client.head(doomed, headers=TUS).status_code == 404


def test_stray_parts_without_a_row_go_once_old(services, settings):
    store = services.tus.parts
    stray, fresh = store.path("a" * 32), store.path("b" * 32)
    stray.write_bytes(b"left by a crash")
    fresh.write_bytes(b"just created")
    old = time.time() - settings.tus_expiry_seconds - 10
    os.utime(stray, (old, old))
    assert services.tus.expire() == 1
    assert not stray.exists() and fresh.exists()


def test_pastefile_sweep_and_the_expire_job_remove_abandoned_uploads(
    client, services, settings, monkeypatch
):
    for name, value in settings.model_dump(mode="json").items():
        if value is not None and not isinstance(value, list):
            monkeypatch.setenv(f"PASTEFILE_{name.upper()}", str(value))
    monkeypatch.setenv("APP_ENV", "testing")
    by_cli, by_job = create(client, 10), create(client, 10)
    for path in (by_cli, by_job):
        patch(client, path, b"partial", 0)
        expire_now(services, path)
    swept = CliRunner().invoke(main, ["sweep"])
    assert swept.exit_code == 0, swept.output
    assert "2 abandoned upload(s)" in swept.output
    assert not part_file(settings, by_cli).exists() and not part_file(settings, by_job).exists()
    again = create(client, 10)
    patch(client, again, b"partial", 0)
    expire_now(services, again)
    runner = ThreadRunner(services, workers=1, poll=0.05, lease=30.0, schedule=False)
    services.jobs.use_runner(runner)
    runner.start()
    job = services.jobs.submit("expire_sweep")
    deadline = time.monotonic() + 20
    while services.jobs.get(job.id).status not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "the expire_sweep job never finished"
        time.sleep(0.05)
    done = services.jobs.get(job.id)
    assert done.status == "succeeded" and done.result["uploads"] == 1
    assert not part_file(settings, again).exists()


def test_a_stale_tail_from_a_crash_is_cut_before_the_next_chunk(client, settings):
    path = create(client, 8)
    patch(client, path, b"good", 0)
    with part_file(settings, path).open("ab") as part:
        part.write(b"junk")  # written but never recorded, as after a crash
    assert offset_of(client, path) == 4
    done = patch(client, path, b"data", 4)
    assert client.get(f"/i/{done.headers['X-File-Id']}").data == b"gooddata"


def test_an_upload_whose_bytes_vanished_is_410_so_clients_start_over(client, settings):
    path = create(client, 8)
    patch(client, path, b"good", 0)
    part_file(settings, path).unlink()  # an operator cleaned the wrong directory
    problem(patch(client, path, b"data", 4), 410, "gone")
    assert client.head(path, headers=TUS).status_code == 404


# --- the real tus client against a live server (SQLite) ----------------------------------


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


class _Liar:
    """A 'sha256' that digests other bytes: the server must catch it."""

    def __init__(self, data: bytes) -> None:
        self._hash = hashlib.sha256(data + b"tampered")

    def digest(self) -> bytes:
        return self._hash.digest()


class LyingUploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", _Liar)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, str]]:
    config = make_settings(tmp_path, f"sqlite:///{tmp_path / 'live.db'}", base_url="")
    services = build_services(config)
    migrate.upgrade(services.db)
    _, token = services.accounts.create_token(
        services.accounts.session_principal(services.accounts.create_user("tusker", "tus-user-pw")),
        "tus",
        ["read", "upload", "delete"],
    )
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}",
        "token": token,
        "parts": str(tmp_path / "files" / "tus"),
    }
    server.shutdown()
    services.close()


def tus_client(live: dict[str, str]) -> TusClient:
    auth = {"Authorization": f"Bearer {live['token']}"}
    return TusClient(f"{live['url']}/api/v1/uploads", headers=auth)


@pytest.mark.parametrize("uploader_class", [Sha256Uploader, Uploader], ids=["sha256", "sha1"])
def test_tuspy_uploads_in_checksummed_chunks(live, uploader_class):
    data = os.urandom(300_000)
    uploader = uploader_class(
        file_stream=io.BytesIO(data),
        client=tus_client(live),
        chunk_size=64 * 1024,
        metadata={"filename": "random.bin"},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.offset == len(data)
    headers = uploader.request.response_headers
    ident = headers["x-file-id"]
    assert headers["location"].endswith(f"/api/v1/files/{ident}")
    import requests

    auth = {"Authorization": f"Bearer {live['token']}"}
    card = requests.get(headers["location"], headers=auth, timeout=30).json()
    assert card["filename"] == "random.bin" and card["sha256"] == hashlib.sha256(data).hexdigest()
    assert requests.get(card["links"]["raw"], headers=auth, timeout=30).content == data
    assert os.listdir(live["parts"]) == []


def test_tuspy_sees_460_on_a_bad_checksum_and_409_on_a_wrong_offset(live):
    data = os.urandom(200_000)
    client = tus_client(live)
    liar = LyingUploader(
        file_stream=io.BytesIO(data), client=client, chunk_size=50_000, upload_checksum=True
    )
    with pytest.raises(TusUploadFailed) as failed:
        liar.upload()
    assert failed.value.status_code == 460
    assert liar.get_offset() == 0  # the chunk was discarded
    honest = Sha256Uploader(
        file_stream=io.BytesIO(data), url=liar.url, client=client, chunk_size=50_000
    )
    honest.upload_chunk()
    assert honest.get_offset() == 50_000
    honest.offset = 100_000  # a client that lost track
    with pytest.raises(TusUploadFailed) as conflict:
        honest.upload_chunk()
    assert conflict.value.status_code == 409
    resumed = Sha256Uploader(
        file_stream=io.BytesIO(data), url=liar.url, client=client, chunk_size=50_000
    )
    assert resumed.offset == 50_000  # from HEAD
    resumed.upload()
    assert resumed.request.response_headers["x-file-id"]


def test_tuspy_terminates_an_upload(live):
    import requests

    data = os.urandom(10_000)
    uploader = Sha256Uploader(
        file_stream=io.BytesIO(data), client=tus_client(live), chunk_size=4096
    )
    uploader.upload_chunk()
    auth = {"Authorization": f"Bearer {live['token']}", **TUS}
    assert requests.delete(uploader.url, headers=auth, timeout=30).status_code == 204
    assert requests.head(uploader.url, headers=auth, timeout=30).status_code == 404
    assert os.listdir(live["parts"]) == []


def test_the_file_row_count_is_unchanged_by_refused_uploads(client, services):
    path = create(client, 4)
    problem(
        patch(client, path, b"data", 0, checksum=sha256_header(b"nope")), 460, "checksum_mismatch"
    )
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(File)) == 0
