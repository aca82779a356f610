"""The OpenAPI paths and schemas of the stats endpoints, merged into the API's document."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from pastefile.web.api.openapi_parts import (
    BEARER,
    ID_PARAM,
    OPTIONAL_AUTH,
    REF,
    as_json,
    ok,
    responses,
)
from pastefile.web.api.stats import FileStats, SiteStats

_RANGE = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{what} day, YYYY-MM-DD (UTC, inclusive); the range is bounded",
        "schema": {"type": "string", "format": "date"},
    }
    for name, what in (("from", "first"), ("to", "last"))
]


def stats_schemas() -> dict[str, Any]:
    models = [(SiteStats, "serialization"), (FileStats, "serialization")]
    _, defs = models_json_schema(models, ref_template=REF, by_alias=True)  # type: ignore[arg-type]
    return dict(defs["$defs"])


def stats_paths() -> dict[str, Any]:
    return {
        "/api/v1/stats": {
            "get": {
                "operationId": "getSiteStats",
                "summary": "Site-wide PV/UV, uploads, storage and jobs (administrators)",
                "security": BEARER,
                "parameters": _RANGE,
                "responses": responses({200: ok("the numbers", as_json(SiteStats))}),
            }
        },
        "/api/v1/files/{ident}/stats": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": "getFileStats",
                "summary": "Views, raw hits, downloads and unique visitors per day (owner)",
                "security": OPTIONAL_AUTH,
                "parameters": _RANGE,
                "responses": responses({200: ok("the numbers", as_json(FileStats))}, (410, 451)),
            },
        },
    }
