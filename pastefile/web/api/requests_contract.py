"""The OpenAPI paths of file requests: ``/api/v1/requests`` (the owner's side) and
``/u/{code}`` (anyone with the link), merged into the API's document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pastefile.web.api.openapi_parts import BEARER, ID_PARAM, as_json, ok, responses, schema_ref
from pastefile.web.api.schemas import (
    ReceiptOut,
    RequestCreate,
    RequestOut,
    RequestPatch,
    RequestUploadForm,
)

MODELS: list[type[BaseModel]] = [
    ReceiptOut, RequestCreate, RequestOut, RequestPatch, RequestUploadForm,
]  # fmt: skip
_IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
_PASSWORD = {
    "name": "X-File-Password",
    "in": "header",
    "required": False,
    "description": "the request's password, when it has one",
    "schema": {"type": "string"},
}
_ETAG = {"ETag": {"schema": {"type": "string"}}}


def requests_paths() -> dict[str, Any]:
    return {**_owner_paths(), **_link_paths()}


def _owner_paths() -> dict[str, Any]:
    return {
        "/api/v1/requests": {
            "get": {
                "operationId": "listRequests",
                "summary": "Your file requests, newest first",
                "security": BEARER,
                "responses": responses({200: ok("your requests", as_json(RequestOut, True))}),
            },
            "post": {
                "operationId": "createRequest",
                "summary": "Ask for files: an upload link (/u/<code>) into a new collection",
                "security": BEARER,
                "requestBody": {"required": True, "content": as_json(RequestCreate)},
                "responses": responses(
                    {
                        201: ok(
                            "created",
                            as_json(RequestOut),
                            Location={"schema": {"type": "string"}},
                            **_ETAG,
                        )
                    },
                    (415,),
                ),
            },
        },
        "/api/v1/requests/{ident}": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": "getRequest",
                "security": BEARER,
                "responses": responses(
                    {
                        200: ok("the request", as_json(RequestOut), **_ETAG),
                        304: {"description": "not modified"},
                    }
                ),
            },
            "patch": {
                "operationId": "updateRequest",
                "summary": "Change limits, types, expiry, password, or close it; needs If-Match",
                "security": BEARER,
                "parameters": [_IF_MATCH],
                "requestBody": {"required": True, "content": as_json(RequestPatch)},
                "responses": responses(
                    {200: ok("changed", as_json(RequestOut), **_ETAG)}, (412, 415, 428)
                ),
            },
            "delete": {
                "operationId": "deleteRequest",
                "summary": "The link stops working; the files and their collection stay yours",
                "security": BEARER,
                "responses": responses({204: ok("deleted")}),
            },
        },
    }


def _link_paths() -> dict[str, Any]:
    return {
        "/u/{code}": {
            "parameters": [_CODE, _PASSWORD],
            "get": {
                "operationId": "getRequestLink",
                "summary": "What a request asks for (JSON; browsers get the upload page)",
                "security": [{}],
                "responses": responses(
                    {200: ok("the request", {"application/json": {"schema": {"type": "object"}}})},
                    (410,),
                ),
            },
            "post": {
                "operationId": "uploadToRequest",
                "summary": "Send one file; the answer is a receipt, never a link",
                "security": [{}],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": schema_ref(RequestUploadForm)}},
                },
                "responses": responses(
                    {201: ok("received", as_json(ReceiptOut))}, (409, 410, 413, 415, 422, 451, 507)
                ),
            },
        },
    }
