"""How every ``/api/v1`` blueprint of the REST API behaves.

Only JSON comes out (406 for an Accept that rules it out), responses are
``no-cache`` and vary on ``Authorization``, a 401 names the Bearer scheme, and
every route shares one rate-limit budget per caller (ratelimit.py). The job API
(jobs.py, events.py) predates these rules and keeps its own headers.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed, NotAcceptable, NotFound

PREFIX = "/api/v1"
# Blueprint names of the REST API start with this (the job API's do not).
NAME_PREFIX = "api_v1_"
PRODUCES = ("application/json", "application/problem+json", "application/offset+octet-stream")
# The one HTML page of the API.
HTML_ENDPOINTS = frozenset({"api_v1_docs.docs"})


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A REST API blueprint named ``api_v1_<name>`` under ``/api/v1``."""
    bp = Blueprint(NAME_PREFIX + name, import_name, url_prefix=PREFIX)
    bp.before_request(_negotiate)
    bp.after_request(_api_headers)
    return bp


def _negotiate() -> None:
    accept = request.accept_mimetypes
    if request.endpoint in HTML_ENDPOINTS:
        return
    if request.headers.get("Accept") and not any(accept[m] for m in PRODUCES):
        raise NotAcceptable("this API produces application/json only")


def _api_headers(response: Response) -> Response:
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="pastefile"')
    response.headers.setdefault("Cache-Control", "no-cache")
    response.vary.add("Authorization")
    return response


def no_upload_fallthrough() -> None:
    """``PUT /<filename>`` (the raw upload) matches every path, so a PUT to an
    API URL would become a file named after it; answer 405 (or 404) instead."""
    if not request.path.startswith(PREFIX + "/") or request.endpoint != "upload.upload_raw":
        return
    adapter = request.url_rule.map.bind_to_environ(request.environ) if request.url_rule else None
    allowed: set[str] = set()
    if adapter is not None:
        for method in ("GET", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            try:
                endpoint, _ = adapter.match(request.path, method=method)
            except Exception:  # noqa: S112 - no route for this method: try the next
                continue
            if endpoint.startswith(NAME_PREFIX):
                allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise NotFound("no such API resource")
