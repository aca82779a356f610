"""/api/v1/uploads: tus 1.0 resumable uploads (core, creation, termination,
expiration, checksum), translated to ``TusService`` calls and back.

Every response carries ``Tus-Resumable``; errors are problem+json like the
rest of the API. The response that completes an upload (and HEAD after it)
carries ``Location`` and ``X-File-Id``: the stored file in the API (docs/api.md).
"""

from __future__ import annotations

import re

from flask import Response, request
from werkzeug.exceptions import NotFound, UnsupportedMediaType
from werkzeug.http import http_date

from pastefile.errors import InvalidInput, TusVersionUnsupported
from pastefile.services.tus import (
    CHECKSUMS,
    EXTENSIONS,
    TUS_VERSION,
    AppendResult,
    TusService,
    TusState,
    parse_checksum,
    parse_metadata,
)
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.auth import caller
from pastefile.web.context import base_url, services
from pastefile.web.uploading import prepare_upload, uploader

OFFSET_STREAM = "application/offset+octet-stream"
_NUMBER = re.compile(r"[0-9]{1,19}")

bp = api_blueprint("uploads", __name__)


def tus() -> TusService:
    return services().tus


@bp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    if response.status_code == 412 or request.method == "OPTIONS":
        response.headers["Tus-Version"] = TUS_VERSION
    return response


def _require_tus() -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionUnsupported(f"this server speaks tus {TUS_VERSION}: send Tus-Resumable")


def _header_int(name: str) -> int:
    raw = request.headers.get(name)
    if raw is None:
        raise InvalidInput(f"send the {name} header")
    if not _NUMBER.fullmatch(raw.strip()):
        raise InvalidInput(f"{name} must be a whole number of bytes")
    return int(raw)


def _empty(status: int) -> Response:
    """A response without a body, and so without a Content-Type."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response


def _upload_url(upload_id: str) -> str:
    return f"{base_url()}/api/v1/uploads/{upload_id}"


def _with_state(response: Response, state: TusState) -> Response:
    response.headers["Upload-Offset"] = str(state.offset)
    response.headers["Upload-Expires"] = http_date(state.expires_at)
    if state.file_public_id is not None and not state.through_request:
        response.headers["Location"] = f"{base_url()}/api/v1/files/{state.file_public_id}"
        response.headers["X-File-Id"] = state.file_public_id
    return response


@bp.route("/uploads", methods=["OPTIONS"])
def tus_options() -> Response:
    """Discovery: what this server's tus supports."""
    response = _empty(204)
    response.headers["Tus-Extension"] = ",".join(EXTENSIONS)
    response.headers["Tus-Max-Size"] = str(tus().max_size)
    response.headers["Tus-Checksum-Algorithm"] = ",".join(CHECKSUMS)
    return response


@bp.post("/uploads", provide_automatic_options=False)
def tus_create() -> Response:
    """tus creation: ``Upload-Length`` and ``Upload-Metadata`` in, 201 + Location out."""
    _require_tus()
    if "Upload-Defer-Length" in request.headers:
        raise InvalidInput("Upload-Defer-Length is not supported: send Upload-Length")
    if request.content_length:
        raise InvalidInput("send the bytes with PATCH; creation-with-upload is not supported")
    length = _header_int("Upload-Length")
    metadata = request.headers.get("Upload-Metadata")
    into = _collection_of(metadata)
    if into:  # only who manages the collection uploads into it: refused before any byte
        services().collections.upload_into(into, caller(), prepare_upload({}))
    state = tus().create(uploader(), length, metadata, caller())
    response = _with_state(_empty(201), state)
    response.headers["Location"] = _upload_url(state.id)
    return response


@bp.route("/uploads/<upload_id>", methods=["HEAD"])
def tus_head(upload_id: str) -> Response:
    """The offset to resume from (and, once finished, the file)."""
    _require_tus()
    state = tus().status(upload_id, uploader())
    response = _with_state(_empty(200), state)
    response.headers["Upload-Length"] = str(state.length)
    if state.metadata:
        response.headers["Upload-Metadata"] = state.metadata
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.patch("/uploads/<upload_id>")
def tus_patch(upload_id: str) -> Response:
    """Append the body at ``Upload-Offset``; the last chunk stores the file."""
    _require_tus()
    if request.mimetype != OFFSET_STREAM:
        raise UnsupportedMediaType(f"send the bytes as {OFFSET_STREAM}")
    offset = _header_int("Upload-Offset")
    checksum = parse_checksum(request.headers.get("Upload-Checksum"))
    result = tus().append(upload_id, uploader(), offset, request.stream, checksum)
    into = _collection_of(result.state.metadata)
    if into and result.upload is not None:
        file_id = result.upload.file.public_id
        services().collections.add_upload(into, file_id, caller(), result.manage_token)
    return _patched(result)


def _collection_of(metadata: str | None) -> str | None:
    """The collection an upload names in ``Upload-Metadata`` (``collection``), if any."""
    return parse_metadata(metadata).get("collection") or None


def _patched(result: AppendResult) -> Response:
    response = _with_state(_empty(204), result.state)
    if result.manage_token:  # an anonymous upload's management token, as 0x0.st
        response.headers["X-Token"] = result.manage_token
    if result.upload is not None and result.state.through_request:
        response.headers["X-Receipt-Sha256"] = result.upload.file.sha256  # a receipt, no link
    return response


@bp.delete("/uploads/<upload_id>")
def tus_delete(upload_id: str) -> Response:
    """tus termination: the partial bytes go; a finished file stays."""
    _require_tus()
    tus().terminate(upload_id, uploader())
    return _empty(204)


@bp.route(
    "/uploads/<path:rest>", methods=["HEAD", "PATCH", "DELETE"], provide_automatic_options=False
)
def tus_nowhere(rest: str) -> Response:
    """Nothing lives below an upload: deeper paths (``../x``, ``a/b``) are a 404 here,
    not the 405 of the raw-upload ``PUT /<filename>`` that matches every path."""
    raise NotFound("no such upload")
