"""End-to-end encrypted uploads (docs/encryption.md), through every write path, on SQLite,
MariaDB and PostgreSQL: the ciphertext is stored as sent, nothing looks inside it, and
every limit that does not need to look inside still holds."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from pydantic import ByteSize
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from pastefile.composition import Services
from pastefile.db.jobs import Job
from pastefile.db.models import File
from pastefile.db.types import utcnow
from tests.support.api import make_token, problem
from tests.support.e2e import form_upload, open_sealed, put_upload, seal, tus_upload
from tests.support.images import image_bytes

PATHS = ("multipart", "put", "api", "tus")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # A PNG would start both jobs, if anything looked at the bytes.
    return {"upload_jobs": "probe,thumbnail"}


def send(path: str, client: FlaskClient, data: bytes, headers=None, **fields: object):  # type: ignore[no-untyped-def]
    """Upload ``data`` as ciphertext through ``path``; the response."""
    if path == "multipart":
        return form_upload(client, data, "/", headers, **fields)
    if path == "api":
        return form_upload(client, data, "/api/v1/files", headers, **fields)
    if path == "put":
        query = "&".join(f"{k}={v}" for k, v in fields.items())
        return put_upload(client, data, headers, f"?{query}" if query else "")
    return tus_upload(client, data, headers, **{k: str(v) for k, v in fields.items()})


def file_id(path: str, response: TestResponse) -> str:
    assert response.status_code in (200, 201, 204), response.get_data(as_text=True)
    if path == "tus":
        return response.headers["X-File-Id"]
    if path == "put":
        return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]
    return str(response.get_json()["id"])


def stored(services: Services, public_id: str) -> File:
    with services.db.read() as session:
        found = session.scalar(select(File).where(File.public_id == public_id))
    assert found is not None
    return found


@pytest.mark.parametrize("path", PATHS)
def test_each_write_path_stores_the_ciphertext_untouched_and_starts_nothing(
    client: FlaskClient, services: Services, path: str
) -> None:
    headers = make_token(services)
    png = image_bytes("PNG")  # the server cannot tell ciphertext from anything else
    ident = file_id(path, send(path, client, png, headers))
    row = stored(services, ident)
    assert row.encrypted is True
    assert row.filename == f"{ident}.age" and row.mimetype == "application/octet-stream"
    assert row.width is None and row.exif is None and row.dedup_key is None
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert client.get(f"/d/{ident}").data == png
    api = client.get(f"/api/v1/files/{ident}", headers=headers).get_json()
    assert api["encrypted"] is True and api["filename"] == f"{ident}.age"


def test_a_plain_upload_says_it_is_not_encrypted(client: FlaskClient, services: Services) -> None:
    headers = make_token(services)
    created = client.post(
        "/api/v1/files",
        data={"file": (io.BytesIO(b"plain"), "a.txt")},
        headers=headers,
    )
    assert created.get_json()["encrypted"] is False


@pytest.mark.parametrize("path", PATHS)
def test_identical_ciphertexts_never_share_links(
    client: FlaskClient, services: Services, path: str
) -> None:
    sealed = seal(b"the same bytes twice")
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    ids = {
        file_id(path, send(path, client, sealed.ciphertext, alice)),
        file_id(path, send(path, client, sealed.ciphertext, alice)),
        file_id(path, send(path, client, sealed.ciphertext, bob)),
        file_id(path, send(path, client, sealed.ciphertext)),
        file_id(path, send(path, client, sealed.ciphertext)),
    }
    assert len(ids) == 5


def test_the_bytes_come_back_as_an_octet_stream_attachment(
    client: FlaskClient, services: Services
) -> None:
    sealed = seal(b"<html><script>alert(1)</script></html>")
    ident = file_id("multipart", send("multipart", client, sealed.ciphertext))
    for url in (f"/i/{ident}", f"/i/{ident}.age", f"/d/{ident}"):
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert f"{ident}.age" in response.headers["Content-Disposition"]
        assert open_sealed(response.data, sealed.key) == sealed.plaintext


def test_the_card_is_the_decrypt_in_your_browser_page(
    client: FlaskClient, services: Services
) -> None:
    sealed = seal(b"a picture, say")
    ident = file_id("multipart", send("multipart", client, sealed.ciphertext))
    page = client.get(f"/p/{ident}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    size = len(sealed.ciphertext)
    assert f'id="e2e" data-raw-url="/i/{ident}" data-size="{size}"' in html
    assert '<script src="/static/e2e/decrypt.js"' in html and "<noscript>" in html
    as_json = client.get(f"/p/{ident}", headers={"Accept": "application/json"}).get_json()
    assert as_json["encrypted"] is True and as_json["bytes"] == size


def test_a_browser_upload_answers_with_the_decrypt_page(
    client: FlaskClient, services: Services
) -> None:
    sealed = seal(b"from a form")
    response = form_upload(client, sealed.ciphertext, "/", {"Accept": "text/html"})
    assert response.status_code == 201
    assert 'id="e2e"' in response.get_data(as_text=True)


# --- every limit that needs no look inside still holds ------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_the_size_limit_holds(client: FlaskClient, services: Services, path: str) -> None:
    services.settings.max_upload_size = ByteSize(500)
    response = send(path, client, seal(b"x" * 600).ciphertext, make_token(services))
    problem(response, 413, "too_large")


@pytest.mark.parametrize("path", PATHS)
def test_the_quota_holds(client: FlaskClient, services: Services, path: str) -> None:
    services.settings.user_quota_files = 1
    headers = make_token(services)
    file_id(path, send(path, client, seal(b"first").ciphertext, headers))
    response = send(path, client, seal(b"second").ciphertext, headers)
    problem(response, 507, "quota_exceeded")


@pytest.mark.parametrize("path", PATHS)
def test_expiry_download_limit_and_password_hold(
    client: FlaskClient, services: Services, path: str
) -> None:
    sealed = seal(b"read me once")
    response = send(
        path,
        client,
        sealed.ciphertext,
        None,
        max_downloads=1,
        password="open sesame",
        expires_in=60,
    )
    ident = file_id(path, response)
    assert stored(services, ident).expires_at is not None
    problem(client.get(f"/i/{ident}"), 403, "password_required")
    unlocked = {"X-File-Password": "open sesame"}
    assert client.get(f"/i/{ident}", headers=unlocked).data == sealed.ciphertext
    problem(client.get(f"/i/{ident}", headers=unlocked), 410, "gone")


def test_an_expired_encrypted_file_is_gone(client: FlaskClient, services: Services) -> None:
    ident = file_id("put", send("put", client, seal(b"soon gone").ciphertext, None, expires_in=60))
    with services.db.write() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(File).where(File.public_id == ident).values(expires_at=past))
    services.files.lookups.forget(stored(services, ident))
    problem(client.get(f"/d/{ident}"), 410, "gone")


# --- hostile ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_encryption_is_refused(
    client: FlaskClient, services: Services, path: str
) -> None:
    headers = make_token(services)
    if path == "put":
        response = put_upload(client, b"bytes", {**headers, "Pastefile-Encryption": "rot13"})
    else:
        response = send(path, client, b"bytes", headers, encryption="other")
    problem(response, 400, "invalid_input")
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(File)) == 0


def test_resizes_and_transforms_of_ciphertext_are_refused(
    client: FlaskClient, services: Services
) -> None:
    headers = make_token(services)
    ident = file_id("api", send("api", client, image_bytes("PNG"), headers))
    for url in (f"/r/{ident}?w=10&h=10", f"/i/{ident}?w=10", f"/i/{ident}?w=10&fmt=webp"):
        response = client.get(url, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert response.mimetype == "application/problem+json"
    problem(client.get(f"/i/{ident}/poster"), 404, "not_found")
    resized = form_upload(client, image_bytes("PNG"), "/", headers, w=10, h=10)
    assert 400 <= resized.status_code < 500
    assert resized.mimetype == "application/problem+json"


def test_an_encrypted_file_cannot_be_given_a_name(client: FlaskClient, services: Services) -> None:
    headers = make_token(services)
    ident = file_id("api", send("api", client, seal(b"nameless").ciphertext, headers))
    etag = client.get(f"/api/v1/files/{ident}", headers=headers).headers["ETag"]
    renamed = client.patch(
        f"/api/v1/files/{ident}",
        json={"filename": "tax-return.pdf"},
        headers={**headers, "If-Match": etag},
    )
    problem(renamed, 400, "invalid_input")
    assert stored(services, ident).filename == f"{ident}.age"


@pytest.mark.parametrize("path", ("multipart", "put"))
def test_the_public_upload_budget_holds(client: FlaskClient, services: Services, path: str) -> None:
    services.settings.upload_rate_limit = "2/minute"
    for _ in range(2):
        file_id(path, send(path, client, seal(b"one of many").ciphertext))
    refused = send(path, client, seal(b"one too many").ciphertext)
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1
