"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``, and the per-request metrics."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Flask, Response, request
from prometheus_client.core import GaugeMetricFamily

from pastefile.config import Settings
from pastefile.jobs.scrubbing import last_scrub
from pastefile.jobs.service import JobService
from pastefile.observability import metrics
from pastefile.observability.scrub import PROBLEM_KINDS, ScrubCollector
from pastefile.observability.sentry import init_sentry
from pastefile.web import middleware
from pastefile.web.context import services

_OWN_ROUTES = ("/metrics",)

bp = Blueprint("ops", __name__)


def init_observability(app: Flask, settings: Settings) -> None:
    """Sentry, and the per-request metrics (the routes are ``bp``)."""
    init_sentry(settings)
    app.after_request(_observe)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. No dependency is consulted."""
    return Response(b'{"status":"ok"}', mimetype="application/json")


@bp.get("/readyz")
def readyz() -> Response:
    checks = services().health.check()
    down = [name for name, state in checks.items() if state != "ok"]
    details = {"scrub": _scrub_summary()}
    if not down:
        return Response(
            orjson.dumps({"status": "ok", "checks": checks, "details": details}),
            mimetype="application/json",
        )
    reasons = "; ".join(f"{name}: {checks[name].removeprefix('down: ')}" for name in down)
    body = {
        "type": "about:blank",
        "title": "Not ready",
        "status": 503,
        "code": "not_ready",
        "detail": "down: " + reasons,
        "down": down,
        "checks": checks,
        "details": details,
    }
    return Response(orjson.dumps(body), status=503, mimetype="application/problem+json")


@bp.get("/metrics")
def metrics_view() -> Response:
    jobs = services().jobs
    data, content_type = metrics.render(
        [JobsCollector(jobs), ScrubCollector(lambda: last_scrub(jobs))]
    )
    return Response(data, content_type=content_type)


def _scrub_summary() -> dict[str, object] | None:
    """The last storage scrub: when, and what it found (a finding is not unreadiness)."""
    try:
        result = last_scrub(services().jobs)
    except Exception:  # the database check above already says why
        return None
    if result is None:
        return None
    keys = ("finished_at", "checked", "bytes", "problems", *PROBLEM_KINDS, "repaired")
    return {key: result.get(key) for key in keys}


class JobsCollector:
    """``pastefile_jobs{status=…}``: counted from the jobs table at scrape time."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def collect(self) -> Any:
        family = GaugeMetricFamily("pastefile_jobs", "Jobs by status", labels=["status"])
        for status, count in self.jobs.counts().items():
            family.add_metric([status], float(count))
        yield family


def _observe(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    if rule in _OWN_ROUTES:
        return response
    metrics.observe_request(
        request.method,
        rule,
        response.status_code,
        middleware.elapsed(),
        request.content_length or 0,
        response.content_length or 0,
    )
    return response
