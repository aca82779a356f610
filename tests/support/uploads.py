"""Uploads through the Flask test client, and multipart bodies as real clients encode them."""

from __future__ import annotations

import io
import secrets

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def upload(client: FlaskClient, data: bytes, filename: str = "hello.txt", **fields: object):  # type: ignore[no-untyped-def]
    form: dict[str, object] = {"file": (io.BytesIO(data), filename)}
    form.update(fields)
    return client.post("/", data=form, headers={"Accept": "application/json"})


def multipart_body(data: bytes, filename: str, field: str = "file") -> tuple[bytes, str]:
    """A multipart body encoded the way real clients do it.

    Quotes and backslashes are escaped as curl does, line breaks
    percent-encoded as browsers do.

    The test client writes a name with a ``"`` unescaped, which no real
    client does, so hostile names need this to reach the server intact.
    """
    boundary = f"------------------------{secrets.token_hex(8)}"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    quoted = quoted.replace("\r", "%0D").replace("\n", "%0A")  # as browsers do
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def curl_upload(client: FlaskClient, data: bytes, filename: str) -> TestResponse:
    body, content_type = multipart_body(data, filename)
    return client.post("/", data=body, content_type=content_type, headers={"Accept": "*/*"})
