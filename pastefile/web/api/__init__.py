"""The REST API, version 1, at ``/api/v1`` (docs/api.md).

The book's rules: nouns in URIs, 201 + Location, 204 on DELETE, 405 with
Allow, 406 for an Accept we cannot produce, 410 for gone, Link pagination
with X-Total-Count, ETag/Last-Modified with 304, If-Match on PATCH (428/412),
429 with X-RateLimit-* headers, and bodies that are never wrapped.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_limiter import Limiter
from werkzeug.exceptions import MethodNotAllowed, NotAcceptable, NotFound

from pastefile.web.api.ratelimit import build_limiter
from pastefile.web.context import PasteFileApp

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
PREFIX = "/api/v1"
PRODUCES = ("application/json", "application/problem+json", "application/offset+octet-stream")


@bp.before_request
def _negotiate() -> None:
    # Only JSON comes out of this API: an Accept that rules it out gets 406.
    accept = request.accept_mimetypes
    if request.endpoint == "api_v1.docs":
        return  # the one HTML page
    if request.headers.get("Accept") and not any(accept[m] for m in PRODUCES):
        raise NotAcceptable("this API produces application/json only")


@bp.after_request
def _api_headers(response: Response) -> Response:
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="pastefile"')
    response.headers.setdefault("Cache-Control", "no-cache")
    response.vary.add("Authorization")
    return response


def _no_core_fallthrough() -> None:
    """``PUT /<filename>`` (the book's raw upload) matches every path, so a PUT
    to an API URL would become a file named after it; answer 405 (or 404) instead."""
    if not request.path.startswith(PREFIX + "/") or request.endpoint != "core.upload_raw":
        return
    adapter = request.url_rule.map.bind_to_environ(request.environ) if request.url_rule else None
    allowed: set[str] = set()
    if adapter is not None:
        for method in ("GET", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            try:
                endpoint, _ = adapter.match(request.path, method=method)
            except Exception:  # noqa: S112 - no route for this method: try the next
                continue
            if endpoint.startswith("api_v1."):
                allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise NotFound("no such API resource")


def install_api(app: PasteFileApp) -> Limiter:
    """Register the API, the rate limiter and the account pages on ``app``."""
    from pastefile.web.accounts import install_accounts
    from pastefile.web.api import files, openapi, tokens, tus, users  # noqa: F401  (routes)

    limiter = build_limiter(app)
    app.register_blueprint(bp)
    app.before_request(_no_core_fallthrough)
    install_accounts(app)
    return limiter
