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
from pastefile.web.api.collections_contract import COLLECTION_MODELS, collections_paths
from pastefile.web.api.common import respond_raw
from pastefile.web.api.oauth_contract import oauth_paths, oauth_schemas
from pastefile.web.api.openapi_parts import (
    BEARER,
    ID_PARAM,
    OPTIONAL_AUTH,
    REF,
    as_json,
    int_id_param,
    ok,
    query_params,
    responses,
    schema_ref,
)
from pastefile.web.api.requests_contract import MODELS as REQUEST_MODELS
from pastefile.web.api.requests_contract import requests_paths
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
    TokenExchange,
    TokenOut,
    UserOut,
    UserPatch,
)
from pastefile.web.api.stats_contract import stats_paths, stats_schemas
from pastefile.web.api.tus_contract import tus_paths
from pastefile.web.api.webhooks_contract import webhooks_paths, webhooks_schemas


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
            "multipart/form-data": {"schema": schema_ref(FileUploadForm)},
        },
    }
    return {
        "/api/v1/files": {
            "get": {
                "operationId": "listFiles",
                "summary": "Your files, a page at a time",
                "security": BEARER,
                "parameters": query_params(FileListQuery),
                "responses": responses(
                    {200: ok("a page of files", as_json(FileOut, True), **paged)}
                ),
            },
            "post": {
                "operationId": "createFile",
                "summary": "Upload a file (anonymous uploads get a management token)",
                "security": OPTIONAL_AUTH,
                "requestBody": upload_body,
                "responses": responses(
                    {
                        201: ok("stored", as_json(FileCreated), **created),
                        200: ok("identical to one of yours: its links", as_json(FileCreated)),
                    },
                    (413, 415, 422, 451, 507),
                ),
            },
        },
        "/api/v1/files/{ident}": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": "getFile",
                "summary": "One file (X-File-Password for protected ones)",
                "security": OPTIONAL_AUTH,
                "responses": responses(
                    {
                        200: ok("the file", as_json(FileOut)),
                        304: {"description": "not modified"},
                    },
                    (410, 451),
                ),
            },
            "patch": {
                "operationId": "updateFile",
                "summary": "Rename; change visibility, expiry, password, limit; needs If-Match",
                "security": OPTIONAL_AUTH,
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {"required": True, "content": as_json(FilePatch)},
                "responses": responses(
                    {200: ok("changed", as_json(FileOut))}, (410, 412, 415, 428, 451)
                ),
            },
            "delete": {
                "operationId": "deleteFile",
                "summary": "Delete (owner with the delete scope, or the X-Token)",
                "security": OPTIONAL_AUTH,
                "responses": responses({204: ok("deleted")}, (410, 451)),
            },
        },
        "/api/v1/files/{ident}/removal": {
            "parameters": [ID_PARAM],
            "post": {
                "operationId": "removeFile",
                "summary": "Moderation: remove this content everywhere and block it (admins)",
                "security": BEARER,
                "requestBody": {"required": True, "content": as_json(RemovalIn)},
                "responses": responses({200: ok("removed", as_json(RemovalOut))}, (410, 415, 451)),
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
                "responses": responses({200: ok("you", as_json(Me))}),
            }
        },
        "/api/v1/tokens": {
            "get": {
                "operationId": "listTokens",
                "security": BEARER,
                "responses": responses({200: ok("your tokens", as_json(TokenOut, True))}),
            },
            "post": {
                "operationId": "createToken",
                "summary": "A new token: for the caller, or (without a bearer or session) "
                "in exchange for a username and password under the login budget",
                "security": [{"bearer": []}, {}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [schema_ref(TokenCreate), schema_ref(TokenExchange)]
                            }
                        }
                    },
                },
                "responses": responses(
                    {201: ok("created; the value is shown once", as_json(TokenCreated))},
                    (415,),
                ),
            },
        },
        "/api/v1/tokens/{token_id}": {
            "parameters": [int_id_param("token_id")],
            "get": {
                "operationId": "getToken",
                "security": BEARER,
                "responses": responses({200: ok("the token", as_json(TokenOut))}),
            },
            "delete": {
                "operationId": "revokeToken",
                "security": BEARER,
                "responses": responses({204: ok("revoked")}),
            },
        },
        "/api/v1/users": {
            "get": {
                "operationId": "listUsers",
                "security": BEARER,
                "parameters": query_params(PageQuery),
                "responses": responses({200: ok("users", as_json(UserOut, True), **paged)}),
            }
        },
        "/api/v1/users/{user_id}": {
            "parameters": [int_id_param("user_id")],
            "get": {
                "operationId": "getUser",
                "security": BEARER,
                "responses": responses(
                    {
                        200: ok("the user", as_json(UserOut), ETag={"schema": {"type": "string"}}),
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
                "requestBody": {"required": True, "content": as_json(UserPatch)},
                "responses": responses({200: ok("changed", as_json(UserOut))}, (412, 415, 428)),
            },
        },
    }


MODELS: list[type[BaseModel]] = [
    FileCreated, FileOut, FilePatch, FileUploadForm, Me, Problem, RemovalIn, RemovalOut,
    TokenCreate, TokenCreated, TokenExchange, TokenOut, UserOut, UserPatch, *COLLECTION_MODELS,
    *REQUEST_MODELS,
]  # fmt: skip


@cache
def openapi_document() -> dict[str, Any]:

    _, defs = models_json_schema([(m, "serialization") for m in MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pastefile API",
            "version": __version__,
            "description": "Errors are RFC 9457 application/problem+json with a stable `code`.",
        },
        "paths": {
            **_files_paths(),
            **collections_paths(),
            **_account_paths(),
            **tus_paths(),
            **requests_paths(),
            **stats_paths(),
            **webhooks_paths(),
            **oauth_paths(),
        },
        "components": {
            "schemas": {
                **defs["$defs"],
                **stats_schemas(),
                **webhooks_schemas(),
                **oauth_schemas(),
            },
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
