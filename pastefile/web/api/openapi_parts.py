"""The building blocks of the OpenAPI document: references, security, error
responses and parameters, shared by every part of the contract."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pastefile.services.rowids import MAX_ROW_ID
from pastefile.web.api.schemas import Problem

REF = "#/components/schemas/{model}"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"managementToken": []}, {}]
ERRORS = {
    400: "invalid input",
    401: "no or bad token",
    403: "not allowed (scope, ownership, password)",
    404: "no such resource",
    405: "method not allowed (see Allow)",
    406: "only JSON can be produced",
    409: "conflicts with the current state (a file request that has all its files)",
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
COMMON = (400, 401, 403, 404, 405, 406, 429)
ID_PARAM = {"name": "ident", "in": "path", "required": True, "schema": {"type": "string"}}
INT_ID = {
    "name": "{name}",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},
}
RATE_HEADERS = {
    name: {"schema": {"type": "integer"}}
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def as_json(model: type[BaseModel], many: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = schema_ref(model)
    if many:
        schema = {"type": "array", "items": schema}
    return {"application/json": {"schema": schema}}


def responses(success: dict[int, dict[str, Any]], extra: tuple[int, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {str(code): body for code, body in success.items()}
    for code in sorted({*COMMON, *extra}):
        out[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/problem+json": {"schema": schema_ref(Problem)}},
        }
    return out


def ok(description: str, content: dict[str, Any] | None = None, **headers: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description, "headers": dict(RATE_HEADERS)}
    if content:
        body["content"] = content
    body["headers"].update(headers)
    return body


def query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    props = model.model_json_schema(ref_template=REF)["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": props[name]} for name in props
    ]


def int_id_param(name: str) -> dict[str, Any]:
    return {**INT_ID, "name": name}
