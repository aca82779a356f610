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
    if path is None:
        return _send_remote(file, storage, attachment)
    source: Any = path
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


def _send_remote(file: File, storage: Storage, attachment: bool) -> Response:
    """Bytes from a remote backend (S3): a presigned redirect, or streamed with Range."""
    url = storage.presigned_url(file.sha256, file.filename, file.mimetype, attachment)
    if url is not None:
        response = Response(status=302, headers={"Location": url})
        response.cache_control.no_store = True
        return response
    streamed: Any = send_file(
        storage.open(file.sha256),
        request.environ,
        mimetype=file.mimetype,
        as_attachment=attachment,
        download_name=file.filename,
        conditional=False,
        etag=file.sha256,
        last_modified=file.created_at,
        max_age=300,
    )
    # werkzeug cannot stat a stream: give it the size, so Range requests get 206.
    streamed.content_length = file.size
    streamed.make_conditional(request.environ, accept_ranges=True, complete_length=file.size)
    streamed.headers["Content-Security-Policy"] = RAW_CSP
    streamed.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return streamed  # type: ignore[no-any-return]
