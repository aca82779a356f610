"""The stats pages: ``GET /admin/stats`` (the operator dashboard, SVG charts),
``GET /admin/reports`` and ``GET /admin/reports/<n>.xlsx``; and the owner's
stats panel on a file card (``stats_panel``, a template global)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, send_file
from flask_babel import gettext as _
from markupsafe import Markup

from pastefile.db.models import File
from pastefile.errors import NotFound
from pastefile.services.access import is_owner
from pastefile.stats import charts
from pastefile.stats.counting import today
from pastefile.stats.reports import XLSX_TYPE
from pastefile.stats.service import DayRange, parse_range, totals
from pastefile.web.auth import admin_required, current_principal
from pastefile.web.context import services

bp = Blueprint("dashboards", __name__)
PANEL_DAYS = 14
FOR_ADMINS = "the dashboard is for administrators"


def stats_panel(file: File) -> Markup:
    """The card's panel: only for the file's owner or an administrator."""
    who = current_principal()
    if who is None or not (who.is_admin or is_owner(file, who)):
        return Markup("")
    end = today()
    span = DayRange(end - timedelta(days=PANEL_DAYS - 1), end)
    days = services().stats.file_days(file.id, span)
    return Markup(  # noqa: S704 - the template escapes; the chart escapes its labels
        render_template("stats_panel.html", file=file, totals=totals(days), chart=_pvuv_chart(days))
    )


def _pvuv_chart(days: list[dict[str, Any]]) -> Markup:
    labels = [d["day"][5:] for d in days]
    return charts.line_chart(
        _("Page views and unique visitors per day"),
        labels,
        {
            _("Page views"): [d["views"] + d["hits"] + d["downloads"] for d in days],
            _("Unique visitors"): [d["uv"] for d in days],
        },
    )


@bp.get("/admin/stats")
@admin_required(FOR_ADMINS)
def dashboard() -> str:
    limit = services().settings.stats_max_range_days
    span = parse_range(request.args.get("from"), request.args.get("to"), limit, today())
    site = services().stats.site(span)
    shown = [*site["latest_uploads"], *(row["id"] for row in site["top_downloads"])]
    return render_template(
        "stats_dashboard.html", site=site, charts=dashboard_charts(site, span),
        names=services().files.names(shown),
    )  # fmt: skip


def dashboard_charts(site: dict[str, Any], span: DayRange) -> list[Markup]:
    labels = [d.isoformat()[5:] for d in span.days]
    stored = services().stats.bytes_stored(span)
    return [
        charts.bar_chart(_("Uploads per day"), labels, [u["uploads"] for u in site["uploads"]]),
        charts.line_chart(_("Bytes stored"), labels, {_("bytes"): [s["bytes"] for s in stored]}),
        _pvuv_chart(site["days"]),
        charts.bar_chart(
            _("Top files (requests)"),
            [t["filename"] for t in site["top_files"]],
            [t["requests"] for t in site["top_files"]],
        ),
        charts.bar_chart(
            _("Storage by type (bytes)"),
            [t["type"] for t in site["storage_by_type"]],
            [t["bytes"] for t in site["storage_by_type"]],
        ),
        charts.bar_chart(
            _("Jobs by status"),
            [j["status"] for j in site["jobs_by_status"]],
            [j["jobs"] for j in site["jobs_by_status"]],
        ),
    ]


@bp.get("/admin/reports")
@admin_required(FOR_ADMINS)
def reports() -> str:
    return render_template("stats_reports.html", reports=services().stats.reports())


@bp.get("/admin/reports/<int:report_id>.xlsx")
@admin_required(FOR_ADMINS)
def report_file(report_id: int) -> Response:
    found = services().stats.report(report_id)
    if found is None:
        raise NotFound("no such report")
    name = f"pastefile-{found.period}-{found.start_day}-{found.end_day}.xlsx"
    return send_file(
        services().storage.open(found.sha256),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=name,
    )
