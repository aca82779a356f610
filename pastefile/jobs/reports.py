"""The ``report`` job kind: build, keep and mail the periodic report (docs/stats.md)."""

from __future__ import annotations

from typing import Any

from pastefile.errors import InvalidInput
from pastefile.jobs.context import JobContext
from pastefile.stats.counting import today
from pastefile.stats.reports import PERIOD_DAYS, make_report


def recipients(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def report(ctx: JobContext) -> dict[str, Any]:
    services = ctx.services
    settings = services.settings
    params = ctx.params
    period = str(params.get("period") or settings.report_period)
    if period not in PERIOD_DAYS:
        raise InvalidInput(f"period must be one of {', '.join(PERIOD_DAYS)}")
    to = recipients(params.get("to") or settings.report_to)
    ctx.progress(10, f"building the {period} report")
    made = make_report(
        settings, services.db, services.blobs, services.stats_store, period, to, today()
    )
    return {"report_id": made.id, "sha256": made.sha256, "mailed_to": len(to), **made.summary}
