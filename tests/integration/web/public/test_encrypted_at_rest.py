"""What a stolen disk holds after encrypted uploads: the storage directory, the SQLite
database (with its WAL) and everything else under the data directory, read byte by byte,
hold neither the plaintext, nor the file's real name, nor the key (docs/encryption.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from tests.support.api import make_token
from tests.support.e2e import open_sealed, seal, tus_upload

REAL_NAME = "tax-return-2026-final.pdf"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pastefile.db'}"


def everything_on_disk(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


def findings(disk: bytes, *secrets: bytes) -> list[bytes]:
    lowered = disk.lower()
    return [secret for secret in secrets if secret.lower() in lowered]


def test_nothing_readable_is_left_at_rest(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    headers = make_token(services)
    plaintext = b"MEET AT THE OLD MILL AT MIDNIGHT. " * 64
    sealed = seal(plaintext)
    # A careless client sends the real name anyway: the server must drop it.
    multipart = client.post(
        "/api/v1/files",
        data={"file": (io.BytesIO(sealed.ciphertext), REAL_NAME), "encryption": "age"},
        headers=headers,
    )
    assert multipart.status_code == 201
    other = seal(plaintext)
    resumable = tus_upload(client, other.ciphertext, headers, filename=REAL_NAME)
    assert resumable.status_code == 204
    services.db.dispose()  # every connection closed, so the WAL is as complete as it gets

    disk = everything_on_disk(tmp_path)
    assert sealed.ciphertext in disk and other.ciphertext in disk  # the scan sees the storage
    secrets = (plaintext[:34], REAL_NAME.encode(), sealed.key.encode(), other.key.encode())
    assert findings(disk, *secrets) == []
    identity_body = sealed.key.removeprefix("AGE-SECRET-KEY-1").encode()
    assert findings(disk, identity_body) == []
    raw = client.get(f"/i/{multipart.get_json()['id']}").data
    assert open_sealed(raw, sealed.key) == plaintext  # and yet the key holder reads it


def test_the_scan_would_find_a_plain_upload(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    """The control: the same scan finds what an unencrypted upload leaves behind."""
    plaintext = b"MEET AT THE OLD MILL AT MIDNIGHT. " * 64
    sent = client.post(
        "/api/v1/files",
        data={"file": (io.BytesIO(plaintext), REAL_NAME)},
        headers=make_token(services),
    )
    assert sent.status_code == 201
    services.db.dispose()
    disk = everything_on_disk(tmp_path)
    assert findings(disk, plaintext[:34], REAL_NAME.encode()) == [
        plaintext[:34],
        REAL_NAME.encode(),
    ]
