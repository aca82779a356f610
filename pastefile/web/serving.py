"""Sending stored bytes: originals, image variants and video posters.

Everything that comes from an upload is sent the same way: conditional
(ETag, Last-Modified, 304), with Range, sandboxed (``sandbox``) and under the
file's cache policy (``apply_cache_policy``). Which routes send them:
pastefile/web/public/files.py.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import quote

from flask import Response, request
from werkzeug.datastructures import Headers
from werkzeug.http import http_date, quote_etag
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import wrap_file

from pastefile.db.models import File
from pastefile.services.file_rules import may_be_cached_by_others
from pastefile.services.filetypes import is_active
from pastefile.services.imaging.variants import Rendition
from pastefile.storage.base import Storage
from pastefile.web.context import services

# Uploaded bytes are rendered in a sandbox: no scripts, no forms, no plugins.
RAW_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
)
# Short enough that a deleted file stops being served soon.
MAX_AGE = 300
# nginx's micro-cache keeps public files up to this size (X-Accel-Expires).
MICRO_CACHE_MAX_BYTES = 1_000_000
# RFC 5987 attr-char, as werkzeug's send_file quotes it.
_ATTR_CHAR = "!#$&+-.^_`|~"

# What makes an answer conditional or partial. A request with none of them gets the whole
# file's headers written at once; werkzeug's make_conditional would parse each first.
_CONDITIONAL = (
    "HTTP_RANGE",
    "HTTP_IF_RANGE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)

R = TypeVar("R", bound=BaseResponse)


def sandbox(response: R) -> R:
    """The headers every response carrying uploaded bytes gets: whatever the
    bytes are, they run nothing from our origin (``nosniff`` comes from the
    middleware, for every response). Other sites may embed them."""
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def send_stored(file: File, storage: Storage, as_attachment: bool) -> Response:
    """Serve a file's bytes with Range, ETag and Last-Modified support.

    Active content (HTML, SVG, XML, scripts) is always an attachment, so it
    never runs from our origin, and so is ciphertext, which no browser can show;
    every response is sandboxed and ``nosniff``.
    """
    attachment = as_attachment or is_active(file.mimetype) or file.encrypted
    path = storage.local_path(file.sha256)
    prefix = services().settings.accel_redirect_prefix
    if prefix and path is not None:
        return _accel_redirect(file, path, prefix, attachment)
    if path is None:
        return _send_remote(file, storage, attachment)
    return _send_stream(file, path.open("rb"), attachment)


def _send_stream(file: File, stream: BinaryIO, attachment: bool) -> Response:
    """The file's bytes from ``stream``: its name, type, ETag, date and cache age, then
    Range and 304 answered against the size the row records (no stat, no guessing)."""
    environ = request.environ
    headers = Headers(
        [
            ("Content-Length", str(file.size)),
            ("ETag", quote_etag(file.sha256)),
            ("Last-Modified", http_date(file.created_at)),
            ("Cache-Control", f"public, max-age={MAX_AGE}"),
        ]
    )
    body = wrap_file(environ, stream)
    response = Response(body, headers=headers, mimetype=file.mimetype, direct_passthrough=True)
    set_disposition(response, file.filename, attachment)
    if any(key in environ for key in _CONDITIONAL):
        response.make_conditional(environ, accept_ranges=True, complete_length=file.size)
    else:  # what make_conditional adds to a plain GET
        headers.add("Date", http_date())
        headers.add("Accept-Ranges", "bytes")
    return sandbox(response)


def _send_remote(file: File, storage: Storage, attachment: bool) -> Response:
    """Bytes from a remote backend (S3): a presigned redirect, or streamed with Range."""
    url = storage.presigned_url(file.sha256, file.filename, file.mimetype, attachment)
    if url is not None:
        response = Response(status=302, headers={"Location": url})
        response.cache_control.no_store = True
        return response
    return _send_stream(file, storage.open(file.sha256), attachment)


def _accel_redirect(file: File, path: Path, prefix: str, attachment: bool) -> Response:
    """Let nginx send the bytes: the app only decides, then names the internal location.

    ``If-None-Match``/``If-Modified-Since`` against our ETag (the sha256) are answered
    here with a 304; nginx's internal location answers ``Range`` and adds the
    sandbox headers (deploy/nginx.conf). The body is empty, so the app streams nothing.
    """
    response = Response(status=200, mimetype=file.mimetype)
    response.set_etag(file.sha256)
    response.last_modified = file.created_at
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    set_disposition(response, file.filename, attachment)
    response.make_conditional(request.environ)
    if response.status_code == 200:
        # objects/ab/cd/<sha256> -> <prefix>/ab/cd/<sha256>
        relative = path.relative_to(path.parents[2]).as_posix()
        response.headers["X-Accel-Redirect"] = f"{prefix}/{relative}"
        response.headers["X-Accel-Expires"] = _micro_cache_expiry(file)
    sandbox(response)
    return response


def apply_cache_policy(file: File, response: Response) -> Response:
    """Turn the default ``public, max-age`` into ``private, no-store`` where required."""
    if not may_be_cached_by_others(file):
        response.cache_control.public = False
        response.cache_control.max_age = None
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response


def _micro_cache_expiry(file: File) -> str:
    """``X-Accel-Expires`` for nginx's micro-cache (deploy/nginx.conf).

    Small public files: ``@<this second>``. nginx counts in whole seconds and keeps an
    entry while its clock has not passed that second, so a cached copy lives at most
    one second and a delete shows through the cache within one. Others: ``0``, never.
    """
    if (
        file.visibility == "public"
        and may_be_cached_by_others(file)
        and file.size <= MICRO_CACHE_MAX_BYTES
    ):
        return f"@{int(time.time())}"
    return "0"


def set_disposition(response: Response, filename: str, attachment: bool) -> None:
    """``Content-Disposition`` exactly as ``send_file`` writes it (RFC 5987 for non-ASCII)."""
    names = {"filename": filename}
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(filename, safe=_ATTR_CHAR)}"}
    response.headers.set("Content-Disposition", "attachment" if attachment else "inline", **names)


def send_rendition(rendition: Rendition) -> Response:
    """The variant's bytes with ETag = its sha256, Range and 304 support."""
    if rendition.stream is not None:
        body: object = wrap_file(request.environ, rendition.stream)
    else:
        body = rendition.data
    response = Response(body, mimetype=rendition.mimetype, direct_passthrough=True)  # type: ignore[arg-type]
    if rendition.stream is not None:
        response.call_on_close(rendition.stream.close)
    response.content_length = rendition.size
    response.set_etag(rendition.sha256)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    sandbox(response)
    response.headers["X-Image-Size"] = f"{rendition.width}x{rendition.height}"
    response.make_conditional(request, accept_ranges=True, complete_length=rendition.size)
    return response
