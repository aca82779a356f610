"""The stats counting hook: after each request, count views, hits, downloads,
uploads and active users into in-process buffers (pastefile/stats/counting.py).

It runs on every request, so it reads the WSGI environ directly (Werkzeug's
proxies and header objects cost more than the count itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

from pastefile.stats.counting import StatsRecorder

# endpoint -> the counter it feeds
COUNTED = {"preview.preview": "views", "files.raw": "hits", "files.download": "downloads"}
UPLOADS = frozenset({"upload.upload", "upload.upload_raw", "api_v1_files.create_file"})


def init_counting(app: Flask, recorder: StatsRecorder, enabled: bool) -> None:
    if enabled:
        app.after_request(_counter(recorder))


def _counter(rec: StatsRecorder) -> Callable[[Response], Response]:
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
