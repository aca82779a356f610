"""One error shape for the whole HTTP surface: RFC 9457 problem+json.

Browsers get the same information as an HTML page.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)

from pastefile import errors
from pastefile.web.negotiation import json_response, wants_html

log = logging.getLogger("pastefile.error")

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type[errors.PasteFileError], int]] = [
    (errors.InvalidInput, 400),
    (errors.NotFound, 404),
    (errors.TooLarge, 413),
    (errors.UnsupportedType, 415),
    (errors.CorruptImage, 422),
    (errors.TransformForbidden, 403),
    (errors.StorageFull, 507),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.Damaged, 500),  # restorable from a backup, so never 410 (docs/api.md)
    (errors.PreconditionFailed, 412),
    (errors.PreconditionRequired, 428),
    (errors.Blocked, 451),
    (errors.QuotaExceeded, 507),
    (errors.FetchFailed, 502),
    (errors.ServiceBusy, 503),
    (errors.NotReady, 503),
    (errors.Unavailable, 503),
    (errors.TooManyAttempts, 429),
    (errors.ChecksumMismatch, 460),  # tus' checksum extension
]


def status_for(error: errors.PasteFileError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def problem(status: int, code: str, title: str, detail: str, **extra: object) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "code": code}
    body["detail"] = detail
    body.update(extra)
    if wants_html():
        html = render_template("error.html", problem=body)
        return Response(html, status=status, mimetype="text/html")
    return json_response(body, status=status, mimetype="application/problem+json")


def _from_service(error: errors.PasteFileError) -> Response:
    status = status_for(error)
    if status >= 500:
        log.error("service error on %s: %s", request.path, error.detail)
    response = problem(status, error.code, error.title, error.detail, **error.extra)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _from_http(error: HTTPException) -> Response:
    if _only_the_upload_route_matched(error):
        error = NotFound("no such file or page")
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    if isinstance(error, RequestEntityTooLarge):
        code = errors.TooLarge.code
    response = problem(status, code, error.name, error.description or error.name)
    # 405 says what is allowed, 416 the real length, 429/503 when to come back.
    original = error.get_response().headers
    for name in ("Allow", "Retry-After", "Content-Range"):
        if original.get(name):
            response.headers[name] = original[name]
    return response


def _only_the_upload_route_matched(error: HTTPException) -> bool:
    """``PUT /<filename>`` matches every path, so a GET of a path that does not
    exist would otherwise be a 405 that offers PUT instead of a 404."""
    if not isinstance(error, MethodNotAllowed):
        return False
    return set(error.valid_methods or ()) <= {"PUT", "OPTIONS"}


def _from_crash(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(
        500, "internal_error", "Internal Server Error", "something went wrong on our side"
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.PasteFileError, _from_service)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, _from_crash)
