"""The OpenAPI paths of /api/v1/uploads (tus 1.0), merged into the API's document."""

from __future__ import annotations

from typing import Any

from pastefile.services.tus import TUS_VERSION
from pastefile.web.api.openapi_parts import REF

ERRORS = {
    400: "bad tus headers or metadata, or an option the server refuses",
    401: "no or bad token, or anonymous uploads are off",
    403: "the token lacks the upload scope",
    404: "no such upload (or not yours)",
    405: "method not allowed (see Allow)",
    406: "only JSON can be produced",
    409: "Upload-Offset is not the upload's offset, or another request is writing to it",
    410: "the upload expired",
    412: "Tus-Resumable is missing or not 1.0.0 (see Tus-Version)",
    413: "Upload-Length or the chunk is over the limit, or over the quota",
    415: "the PATCH body is not application/offset+octet-stream, or the type is refused",
    422: "the finished image could not be decoded",
    429: "rate limited (see X-RateLimit-* and Retry-After)",
    451: "the finished content was removed by moderation",
    460: "the chunk does not match Upload-Checksum; it was discarded",
    507: "the quota is used up, or the disk is full; the bytes are kept",
}
COMMON = (400, 401, 403, 404, 405, 406, 412, 429)
_STRING = {"schema": {"type": "string"}}
_INT = {"schema": {"type": "integer"}}
_RATE = {name: _INT for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")}
_TUS_RESUMABLE = {
    "name": "Tus-Resumable",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": [TUS_VERSION]},
}
_UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
_FILE_HEADERS = {
    "Location": {
        "description": "once finished: the file in the API (/api/v1/files/{id})",
        **_STRING,
    },
    "X-File-Id": {"description": "once finished: the file's id", **_STRING},
}


_RECEIPT = {
    "description": "a file request's upload, once finished: the stored bytes' sha256 "
    "(its receipt; no Location or X-File-Id)",
    **_STRING,
}


def _header(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": schema}


def responses(success: dict[int, dict[str, Any]], extra: tuple[int, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {str(code): body for code, body in success.items()}
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for code in sorted({*COMMON, *extra}):
        out[str(code)] = {"description": ERRORS[code], "content": problem}
    return out


def ok(description: str, **headers: Any) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Tus-Resumable": _STRING, **_RATE, **headers},
    }


def _collection() -> dict[str, Any]:
    return {
        "options": {
            "operationId": "tusDiscover",
            "summary": "tus discovery: version, extensions, maximum size, checksums",
            "security": [{}],
            "responses": responses(
                {
                    204: ok(
                        "what the server supports",
                        **{"Tus-Version": _STRING, "Tus-Extension": _STRING},
                        **{"Tus-Max-Size": _INT, "Tus-Checksum-Algorithm": _STRING},
                    )
                }
            ),
        },
        "post": {
            "operationId": "tusCreate",
            "summary": "Start a resumable upload (tus creation); options in Upload-Metadata",
            "security": [{"bearer": []}, {}],
            "parameters": [
                _TUS_RESUMABLE,
                _header("Upload-Length", {"type": "integer", "minimum": 0}, required=True),
                _header("Upload-Metadata", {"type": "string", "maxLength": 4096}),
            ],
            "responses": responses(
                {201: ok("created; Location is the upload's URL", Location=_STRING)}, (413,)
            ),
        },
    }


def _item() -> dict[str, Any]:
    offset = {"Upload-Offset": _INT, "Upload-Expires": _STRING}
    return {
        "parameters": [_UPLOAD_ID],
        "head": {
            "operationId": "tusOffset",
            "summary": "The offset to resume from; Location once the file is stored",
            "security": [{"bearer": []}, {}],
            "parameters": [_TUS_RESUMABLE],
            "responses": responses(
                {200: ok("the upload", **offset, **{"Upload-Length": _INT}, **_FILE_HEADERS)},
                (410,),
            ),
        },
        "patch": {
            "operationId": "tusAppend",
            "summary": "Append bytes at Upload-Offset; the last chunk stores the file",
            "security": [{"bearer": []}, {}],
            "parameters": [
                _TUS_RESUMABLE,
                _header("Upload-Offset", {"type": "integer", "minimum": 0}, required=True),
                _header("Upload-Checksum", {"type": "string", "maxLength": 200}),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/offset+octet-stream": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            },
            "responses": responses(
                {
                    204: ok(
                        "appended",
                        **offset,
                        **_FILE_HEADERS,
                        **{"X-Token": _STRING, "X-Receipt-Sha256": _RECEIPT},
                    )
                },
                (409, 410, 413, 415, 422, 451, 460, 507),
            ),
        },
        "delete": {
            "operationId": "tusTerminate",
            "summary": "tus termination: drop the upload and its bytes (a stored file stays)",
            "security": [{"bearer": []}, {}],
            "parameters": [_TUS_RESUMABLE],
            "responses": responses({204: ok("terminated")}, (409,)),
        },
    }


def tus_paths() -> dict[str, Any]:
    return {"/api/v1/uploads": _collection(), "/api/v1/uploads/{upload_id}": _item()}
