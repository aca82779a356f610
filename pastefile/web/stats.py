"""Stats in the web adapter: the counting hook, the stats API and the dashboards.

The hook runs after each request and only touches in-process buffers
(pastefile/stats/counting.py); views.py is not edited for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, request

from pastefile.stats.counting import StatsRecorder
from pastefile.web import stats_pages
from pastefile.web.api import stats as _api  # noqa: F401  (routes, before the API is registered)
from pastefile.web.context import PasteFileApp

# endpoint -> the counter it feeds
COUNTED = {"core.preview": "views", "core.raw": "hits", "core.download": "downloads"}
UPLOADS = frozenset({"core.upload", "core.upload_raw", "api_v1.create_file"})


def install_stats(app: PasteFileApp) -> None:
    """Register the counting hook (when enabled), the API routes and the pages."""
    rec = app.services.stats_recorder
    if app.services.settings.stats_enabled:
        app.after_request(_counter(rec))
    app.register_blueprint(stats_pages.bp)
    app.jinja_env.globals["stats_panel"] = stats_pages.stats_panel


def _counter(rec: StatsRecorder) -> Callable[[Response], Response]:
    """The after-request hook. It runs on every request, so it reads the WSGI
    environ directly (Werkzeug's proxies and header objects cost more than the count)."""

    def count(response: Response) -> Response:
        status = response.status_code
        if status >= 400:
            return response
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        endpoint = rule.endpoint if rule is not None else ""
        env = req.environ
        kind = COUNTED.get(endpoint)
        if kind is not None:
            if env["REQUEST_METHOD"] == "GET" and _whole(kind, status, env):
                ident = str(req.view_args.get("ident", "")).split(".", 1)[0]
                ua = env.get("HTTP_USER_AGENT", "")
                rec.record_file(ident, kind, env.get("REMOTE_ADDR") or "-", ua)
        elif endpoint in UPLOADS and status == 201 and response.location:
            rec.record_upload(response.location.rstrip("/").rsplit("/", 1)[-1])
        principal = g.get("pf_principal")
        if principal is not None:
            rec.record_user(principal.user_id)
        return response

    return count


def _whole(kind: str, status: int, env: dict[str, Any]) -> bool:
    """A Range continuation of a download is not another download."""
    if kind != "downloads" or status != 206:
        return True
    return str(env.get("HTTP_RANGE", "")).replace(" ", "").startswith("bytes=0-")
