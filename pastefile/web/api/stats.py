"""``/api/v1/stats`` (administrators) and ``/api/v1/files/<id>/stats`` (owners, administrators)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, Field

from pastefile.errors import Unauthorized
from pastefile.stats.counting import today
from pastefile.stats.service import DayRange, parse_range, totals
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import respond
from pastefile.web.auth import caller, require_scope
from pastefile.web.context import services

bp = api_blueprint("stats", __name__)


class DayStats(BaseModel):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    views: int = Field(description="preview page (/p/) requests")
    hits: int = Field(description="raw file (/i/) requests")
    downloads: int = Field(description="download (/d/) requests")
    uv: int = Field(description="unique visitors that day")


class Totals(BaseModel):
    views: int
    hits: int
    downloads: int
    uv: int = Field(description="sum of the daily unique visitors")


class FileStats(BaseModel):
    id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    totals: Totals
    days: list[DayStats]


class SiteDay(DayStats):
    active_users: int


class UploadDay(BaseModel):
    day: str
    uploads: int
    bytes: int


class TopFile(BaseModel):
    id: str
    filename: str
    requests: int


class TopDownload(BaseModel):
    id: str
    downloads: int


class TypeUsage(BaseModel):
    type: str
    bytes: int
    files: int


class JobCount(BaseModel):
    status: str
    jobs: int


class SiteStats(BaseModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    totals: Totals
    days: list[SiteDay]
    uploads: list[UploadDay]
    top_files: list[TopFile]
    top_downloads: list[TopDownload]
    latest_uploads: list[str]
    storage_by_type: list[TypeUsage]
    jobs_by_status: list[JobCount]


def requested_range() -> DayRange:
    limit = services().settings.stats_max_range_days
    return parse_range(request.args.get("from"), request.args.get("to"), limit, today())


def _json(model: BaseModel) -> Response:
    response = respond(model)
    response.data = model.model_dump_json(by_alias=True).encode()
    return response


@bp.get("/stats")
@require_scope("admin", admin="site statistics are for administrators")
def site_stats() -> Response:
    span = requested_range()
    return _json(SiteStats.model_validate(services().stats.site(span)))


@bp.get("/files/<ident>/stats")
def file_stats(ident: str) -> Response:
    file = services().access.visible(ident, caller())
    who = caller()
    if who.principal is None and not who.manage_token:
        raise Unauthorized("send 'Authorization: Bearer <token>' or the file's X-Token")
    services().access.check_manage(file, who, "read")
    span = requested_range()
    days = services().stats.file_days(file.id, span)
    body: dict[str, Any] = {
        "id": file.public_id,
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "totals": totals(days),
        "days": days,
    }
    return _json(FileStats.model_validate(body))
