"""Sending a collection's zip (``GET /c/<id>.zip``): its bytes are fixed in advance
(services/collection_zip.py), so it has a ``Content-Length`` and a strong ETag and
answers ``Range`` (one range, 206) and ``If-Range`` like a stored file.

A download is counted as files' are (web/access.py): when the response carries
the zip's first byte; a resumed download (a range starting later) is the same
download going on.
"""

from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header

from pastefile.db.collections import Collection
from pastefile.services.collection_zip import ZipPlan
from pastefile.services.names import sanitize_filename
from pastefile.web.context import services
from pastefile.web.serving import set_disposition


def send_zip(collection: Collection, plan: ZipPlan) -> Response:
    svc = services()
    wanted = _wanted_range(plan)
    tail = svc.collections.zip_tail_soon(plan) if request.method == "GET" else _no_tail
    if wanted is None:
        body = plan.byte_range(0, plan.length, svc.storage.open, tail)
        response = Response(body, status=200, mimetype="application/zip", direct_passthrough=True)
        response.content_length = plan.length
    else:
        start, stop = wanted
        body = plan.byte_range(start, stop, svc.storage.open, tail)
        response = Response(body, status=206, mimetype="application/zip", direct_passthrough=True)
        response.content_length = stop - start
        response.content_range = f"bytes {start}-{stop - 1}/{plan.length}"  # type: ignore[assignment]
    response.set_etag(plan.etag)
    response.accept_ranges = "bytes"  # type: ignore[assignment]
    # The members depend on who asks (the owner sees private files): never shared.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
    response.vary.add("Authorization")
    name = sanitize_filename(f"{collection.title}.zip", "zip")
    set_disposition(response, name, attachment=True)
    if request.if_none_match.contains(plan.etag) and wanted is None:
        return _not_modified(response)
    if request.method == "GET" and (wanted is None or wanted[0] == 0):
        svc.collections.count_download(collection)  # 410 past the limit
    return response


def _no_tail() -> bytes:
    raise AssertionError("a HEAD or 304 sends no body")


def _wanted_range(plan: ZipPlan) -> tuple[int, int] | None:
    """The one range asked for and still valid (If-Range), or None for the whole zip.

    Several ranges, a Range of another unit or one that does not parse: the whole
    zip (RFC 9110 lets a server ignore them). A range past the end: 416.
    """
    header = request.headers.get("Range")
    if not header or request.method not in ("GET", "HEAD"):
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != f'"{plan.etag}"':
        return None  # the zip changed (or a date was sent): start again
    parsed = parse_range_header(header)
    if parsed is None or len(parsed.ranges) != 1:
        return None
    bounds = parsed.range_for_length(plan.length)
    if bounds is None:
        raise RequestedRangeNotSatisfiable(length=plan.length)
    return bounds


def _not_modified(response: Response) -> Response:
    response.status_code = 304
    response.response = []
    response.headers.pop("Content-Length", None)
    response.headers.pop("Content-Disposition", None)
    return response
