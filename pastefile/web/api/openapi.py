"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, generated from the pydantic
models, and ``/api/v1/docs``, a page that renders it with no CDN and no JavaScript."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Response, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pastefile import __version__
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import respond_raw
from pastefile.web.api.schemas import (
    FileCreated,
    FileListQuery,
    FileOut,
    FilePatch,
    FileUploadForm,
    Me,
    PageQuery,
    Problem,
    RemovalIn,
    RemovalOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserOut,
    UserPatch,
)

REF = "#/components/schemas/{model}"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"managementToken": []}, {}]
_ERRORS = {
    400: "invalid input",
    401: "no or bad token",
    403: "not allowed (scope, ownership, password)",
    404: "no such resource",
    405: "method not allowed (see Allow)",
    406: "only JSON can be produced",
    410: "gone: deleted, expired or used up",
    412: "If-Match is stale",
    413: "too large, or larger than the quota",
    415: "unsupported body or file type",
    422: "the image could not be decoded",
    428: "If-Match is required",
    429: "rate limited (see X-RateLimit-* and Retry-After)",
    451: "removed by moderation",
    507: "quota used up, or the disk is full",
}
_COMMON = (400, 401, 403, 404, 405, 406, 429)
_ID = {"name": "ident", "in": "path", "required": True, "schema": {"type": "string"}}
MAX_ROW_ID = 2**31 - 1
_INT_ID = {
    "name": "{name}",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},
}
_RATE_HEADERS = {
    name: {"schema": {"type": "integer"}}
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
}


def _schema(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], many: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = _schema(model)
    if many:
        schema = {"type": "array", "items": schema}
    return {"application/json": {"schema": schema}}


def _responses(success: dict[int, dict[str, Any]], extra: tuple[int, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {str(code): body for code, body in success.items()}
    for code in sorted({*_COMMON, *extra}):
        out[str(code)] = {
            "description": _ERRORS[code],
            "content": {"application/problem+json": {"schema": _schema(Problem)}},
        }
    return out


def _ok(description: str, content: dict[str, Any] | None = None, **headers: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description, "headers": dict(_RATE_HEADERS)}
    if content:
        body["content"] = content
    body["headers"].update(headers)
    return body


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    props = model.model_json_schema(ref_template=REF)["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": props[name]} for name in props
    ]


def _int_id(name: str) -> dict[str, Any]:
    return {**_INT_ID, "name": name}


def _files_paths() -> dict[str, Any]:
    paged = {
        "Link": {"schema": {"type": "string"}},
        "X-Total-Count": {"schema": {"type": "integer"}},
    }
    created = {
        "Location": {"schema": {"type": "string"}},
        "X-Token": {"schema": {"type": "string"}},
    }
    upload_body = {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _schema(FileUploadForm)},
        },
    }
    return {
        "/api/v1/files": {
            "get": {
                "operationId": "listFiles",
                "summary": "Your files, a page at a time",
                "security": BEARER,
                "parameters": _query_params(FileListQuery),
                "responses": _responses(
                    {200: _ok("a page of files", _json(FileOut, True), **paged)}
                ),
            },
            "post": {
                "operationId": "createFile",
                "summary": "Upload a file (anonymous uploads get a management token)",
                "security": OPTIONAL_AUTH,
                "requestBody": upload_body,
                "responses": _responses(
                    {
                        201: _ok("stored", _json(FileCreated), **created),
                        200: _ok("identical to one of yours: its links", _json(FileCreated)),
                    },
                    (413, 415, 422, 451, 507),
                ),
            },
        },
        "/api/v1/files/{ident}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getFile",
                "summary": "One file (X-File-Password for protected ones)",
                "security": OPTIONAL_AUTH,
                "responses": _responses(
                    {200: _ok("the file", _json(FileOut)), 304: {"description": "not modified"}},
                    (410, 451),
                ),
            },
            "patch": {
                "operationId": "updateFile",
                "summary": "Rename, change visibility or expiry; needs If-Match",
                "security": OPTIONAL_AUTH,
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {"required": True, "content": _json(FilePatch)},
                "responses": _responses(
                    {200: _ok("changed", _json(FileOut))}, (410, 412, 415, 428, 451)
                ),
            },
            "delete": {
                "operationId": "deleteFile",
                "summary": "Delete (owner with the delete scope, or the X-Token)",
                "security": OPTIONAL_AUTH,
                "responses": _responses({204: _ok("deleted")}, (410, 451)),
            },
        },
        "/api/v1/files/{ident}/removal": {
            "parameters": [_ID],
            "post": {
                "operationId": "removeFile",
                "summary": "Moderation: remove this content everywhere and block it (admins)",
                "security": BEARER,
                "requestBody": {"required": True, "content": _json(RemovalIn)},
                "responses": _responses({200: _ok("removed", _json(RemovalOut))}, (410, 415, 451)),
            },
        },
    }


def _account_paths() -> dict[str, Any]:
    paged = {
        "Link": {"schema": {"type": "string"}},
        "X-Total-Count": {"schema": {"type": "integer"}},
    }
    return {
        "/api/v1/me": {
            "get": {
                "operationId": "getMe",
                "security": BEARER,
                "responses": _responses({200: _ok("you", _json(Me))}),
            }
        },
        "/api/v1/tokens": {
            "get": {
                "operationId": "listTokens",
                "security": BEARER,
                "responses": _responses({200: _ok("your tokens", _json(TokenOut, True))}),
            },
            "post": {
                "operationId": "createToken",
                "security": BEARER,
                "requestBody": {"required": True, "content": _json(TokenCreate)},
                "responses": _responses(
                    {201: _ok("created; the value is shown once", _json(TokenCreated))}, (415,)
                ),
            },
        },
        "/api/v1/tokens/{token_id}": {
            "parameters": [_int_id("token_id")],
            "get": {
                "operationId": "getToken",
                "security": BEARER,
                "responses": _responses({200: _ok("the token", _json(TokenOut))}),
            },
            "delete": {
                "operationId": "revokeToken",
                "security": BEARER,
                "responses": _responses({204: _ok("revoked")}),
            },
        },
        "/api/v1/users": {
            "get": {
                "operationId": "listUsers",
                "security": BEARER,
                "parameters": _query_params(PageQuery),
                "responses": _responses({200: _ok("users", _json(UserOut, True), **paged)}),
            }
        },
        "/api/v1/users/{user_id}": {
            "parameters": [_int_id("user_id")],
            "get": {
                "operationId": "getUser",
                "security": BEARER,
                "responses": _responses(
                    {
                        200: _ok("the user", _json(UserOut), ETag={"schema": {"type": "string"}}),
                        304: {"description": "not modified"},
                    }
                ),
            },
            "patch": {
                "operationId": "updateUser",
                "summary": "Disable or change roles; needs If-Match with the ETag from GET",
                "security": BEARER,
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {"required": True, "content": _json(UserPatch)},
                "responses": _responses({200: _ok("changed", _json(UserOut))}, (412, 415, 428)),
            },
        },
    }


MODELS: list[type[BaseModel]] = [
    FileCreated, FileOut, FilePatch, FileUploadForm, Me, Problem, RemovalIn, RemovalOut,
    TokenCreate, TokenCreated, TokenOut, UserOut, UserPatch,
]  # fmt: skip


@cache
def openapi_document() -> dict[str, Any]:
    from pastefile.web.api.stats_contract import stats_paths, stats_schemas  # imports this
    from pastefile.web.api.tus_contract import tus_paths  # it imports this module

    _, defs = models_json_schema([(m, "serialization") for m in MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pastefile API",
            "version": __version__,
            "description": "Errors are RFC 9457 application/problem+json with a stable `code`.",
        },
        "paths": {**_files_paths(), **_account_paths(), **tus_paths(), **stats_paths()},
        "components": {
            "schemas": {**defs["$defs"], **stats_schemas()},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "managementToken": {"type": "apiKey", "in": "header", "name": "X-Token"},
            },
        },
    }


bp = api_blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return respond_raw(openapi_document())


@bp.get("/docs")
def docs() -> str:
    return render_template("api_docs.html", spec=openapi_document())
