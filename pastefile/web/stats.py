"""Stats in the web adapter: the counting hook, the stats API and the dashboards.

The hook runs after each request and only touches in-process buffers
(pastefile/stats/counting.py); views.py is not edited for it.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from pastefile.stats.counting import StatsRecorder
from pastefile.stats.store import make_store
from pastefile.web import stats_pages
from pastefile.web.api import stats as _api  # noqa: F401  (routes, before the API is registered)

# endpoint -> the counter it feeds
COUNTED = {"core.preview": "views", "core.raw": "hits", "core.download": "downloads"}
UPLOADS = frozenset({"core.upload", "core.upload_raw", "api_v1.create_file"})
EXTENSION = "pastefile_stats"


def install_stats(app: Flask) -> None:
    """Register the counting hook (when enabled), the API routes and the pages."""
    services = app.extensions["pastefile"]
    settings = services.settings
    store = make_store(services.db, settings.redis_url, settings.stats_redis_prefix)
    app.extensions[EXTENSION] = StatsRecorder(services.db, store, settings.stats_flush_seconds)
    app.extensions["pastefile_stats_store"] = store
    if settings.stats_enabled:
        app.after_request(_count)
    app.register_blueprint(stats_pages.bp)
    app.jinja_env.globals["stats_panel"] = stats_pages.stats_panel


def recorder() -> StatsRecorder:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _count(response: Response) -> Response:
    status = response.status_code
    if status >= 400 or request.method not in ("GET", "POST", "PUT"):
        return response
    endpoint = request.endpoint or ""
    kind = COUNTED.get(endpoint)
    if kind is not None and request.method == "GET" and _whole(kind, status):
        ident = str((request.view_args or {}).get("ident", "")).split(".", 1)[0]
        ua = request.headers.get("User-Agent", "")
        recorder().record_file(ident, kind, request.remote_addr or "-", ua)
    elif endpoint in UPLOADS and status == 201 and response.location:
        recorder().record_upload(response.location.rstrip("/").rsplit("/", 1)[-1])
    principal = g.get("pf_principal")
    if principal is not None:
        recorder().record_user(principal.user_id)
    return response


def _whole(kind: str, status: int) -> bool:
    """A Range continuation of a download is not another download."""
    if kind != "downloads" or status != 206:
        return True
    return request.headers.get("Range", "").replace(" ", "").startswith("bytes=0-")
