"""Response helpers: fast JSON and serving stored bytes."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from werkzeug.utils import send_file

from pastefile.db.models import File
from pastefile.services.filetypes import is_active
from pastefile.storage.base import Storage

# Raw files are rendered in a sandbox: no scripts, no forms, no plugins.
RAW_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
)


def json_response(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=mimetype)


def send_stored(file: File, storage: Storage, as_attachment: bool) -> Response:
    """Serve a file's bytes with Range, ETag and Last-Modified support.

    Active content (HTML, SVG, XML, scripts) is always an attachment, so it
    never runs from our origin; every response is sandboxed and ``nosniff``.
    """
    attachment = as_attachment or is_active(file.mimetype)
    path = storage.local_path(file.sha256)
    source: Any = path if path is not None else storage.open(file.sha256)
    response = send_file(
        source,
        request.environ,
        mimetype=file.mimetype,
        as_attachment=attachment,
        download_name=file.filename,
        conditional=True,
        etag=file.sha256,
        last_modified=file.created_at,
        max_age=300,
    )
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response  # type: ignore[return-value]
