"""End-to-end encrypted uploads from a test: age ciphertext made with pyrage, as the
command-line client and the browser make it, and the ways each write path declares it."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import pyrage
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TUS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Sealed:
    """A plaintext, its ciphertext and the identity (the key) that opens it."""

    plaintext: bytes
    ciphertext: bytes
    key: str  # AGE-SECRET-KEY-1…, what travels in the URL fragment


def seal(plaintext: bytes) -> Sealed:
    """Encrypt to a fresh X25519 identity, one per file."""
    identity = pyrage.x25519.Identity.generate()
    ciphertext = pyrage.encrypt(plaintext, [identity.to_public()])
    return Sealed(plaintext, ciphertext, str(identity))


def open_sealed(ciphertext: bytes, key: str) -> bytes:
    return pyrage.decrypt(ciphertext, [pyrage.x25519.Identity.from_str(key)])


def form_upload(
    client: FlaskClient, data: bytes, url: str = "/", headers=None, **fields: object
) -> TestResponse:
    """``POST /`` or ``POST /api/v1/files`` with ``encryption=age``; the name means nothing."""
    form: dict[str, object] = {"file": (io.BytesIO(data), "blob"), "encryption": "age"}
    form.update({k: str(v) for k, v in fields.items()})
    return client.post(url, data=form, headers={"Accept": "application/json", **(headers or {})})


def put_upload(client: FlaskClient, data: bytes, headers=None, query: str = "") -> TestResponse:
    """``PUT /<name>`` with ``Pastefile-Encryption: age``."""
    sent = {"Pastefile-Encryption": "age", **(headers or {})}
    return client.put(f"/blob{query}", data=data, headers=sent)


def tus_upload(client: FlaskClient, data: bytes, headers=None, **meta: str) -> TestResponse:
    """A whole tus upload (create, one PATCH) with the metadata key ``encryption``."""
    values = {"encryption": "age", "filename": "blob", **meta}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())
    created = client.post(
        "/api/v1/uploads",
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": encoded,
            **(headers or {}),
        },
    )
    if created.status_code != 201:
        return created
    path = created.headers["Location"].split("files.test", 1)[-1]
    return client.patch(
        path,
        data=data,
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": "0", **(headers or {})},
    )
