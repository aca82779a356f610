"""The OpenAPI paths of /api/v1/collections and of the public zip, merged into the
API's document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pastefile.web.api.openapi_parts import (
    BEARER,
    ID_PARAM,
    OPTIONAL_AUTH,
    as_json,
    ok,
    query_params,
    responses,
)
from pastefile.web.api.schemas import (
    CollectionCreate,
    CollectionCreated,
    CollectionFiles,
    CollectionOut,
    CollectionPatch,
    PageQuery,
)

_STRING = {"schema": {"type": "string"}}
_IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
_PASSWORD = {
    "name": "X-File-Password",
    "in": "header",
    "required": False,
    "description": "a protected collection's password",
    "schema": {"type": "string"},
}


def collections_paths() -> dict[str, Any]:
    paged = {"Link": _STRING, "X-Total-Count": {"schema": {"type": "integer"}}}
    files_body = {"required": True, "content": as_json(CollectionFiles)}
    changed = responses({200: ok("the collection as it is now", as_json(CollectionOut))}, (415,))
    return {
        "/api/v1/collections": {
            "get": {
                "operationId": "listCollections",
                "summary": "Your collections, a page at a time",
                "security": BEARER,
                "parameters": query_params(PageQuery),
                "responses": responses(
                    {200: ok("a page of collections", as_json(CollectionOut, True), **paged)}
                ),
            },
            "post": {
                "operationId": "createCollection",
                "summary": "Make a collection of files you may manage (anonymous: X-Token)",
                "security": OPTIONAL_AUTH,
                "requestBody": {"required": True, "content": as_json(CollectionCreate)},
                "responses": responses(
                    {201: ok("created", as_json(CollectionCreated), Location=_STRING)},
                    (415,),
                ),
            },
        },
        "/api/v1/collections/{ident}": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": "getCollection",
                "summary": "One collection and the files you may read in it",
                "security": OPTIONAL_AUTH,
                "parameters": [_PASSWORD],
                "responses": responses(
                    {
                        200: ok("the collection", as_json(CollectionOut), ETag=_STRING),
                        304: {"description": "not modified"},
                    },
                    (410,),
                ),
            },
            "patch": {
                "operationId": "updateCollection",
                "summary": "Change title, description, visibility, expiry or order; If-Match",
                "security": OPTIONAL_AUTH,
                "parameters": [_IF_MATCH],
                "requestBody": {"required": True, "content": as_json(CollectionPatch)},
                "responses": responses(
                    {200: ok("changed", as_json(CollectionOut))}, (412, 415, 428)
                ),
            },
            "delete": {
                "operationId": "deleteCollection",
                "summary": "Delete the collection (its files stay)",
                "security": OPTIONAL_AUTH,
                "responses": responses({204: ok("deleted")}),
            },
        },
        "/api/v1/collections/{ident}/files": {
            "parameters": [ID_PARAM],
            "post": {
                "operationId": "addCollectionFiles",
                "summary": "Add files you may manage, at the end",
                "security": OPTIONAL_AUTH,
                "requestBody": files_body,
                "responses": changed,
            },
            "delete": {
                "operationId": "removeCollectionFiles",
                "summary": "Take files out (the files stay)",
                "security": OPTIONAL_AUTH,
                "requestBody": files_body,
                "responses": changed,
            },
        },
    }


COLLECTION_MODELS: list[type[BaseModel]] = [
    CollectionCreate,
    CollectionCreated,
    CollectionFiles,
    CollectionOut,
    CollectionPatch,
]
