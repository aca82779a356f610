"""Which file a request may have: every serving route resolves files here,
and this hands the request's proof to the service layer's read gate
(``FileAccess.resolve``), which also limits wrong passwords per client and file.

A browser that gave the right password remembers it in its session, bound to
that password (``unlock_key``): once the password changes or goes, so does the unlock.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Response, request, session
from werkzeug.http import parse_range_header

from pastefile.db.models import File
from pastefile.errors import Gone
from pastefile.services.access import unlock_key
from pastefile.services.file_rules import Guarded
from pastefile.web.auth import SESSION_UNLOCKED, caller
from pastefile.web.context import services

MAX_UNLOCKED = 50


def resolve_file(
    ident: str,
    by_short_code: bool = False,
    check_password: bool = True,
    password: str | None = None,
) -> File:
    """The file if this request may have it (the read gate decides)."""
    who = caller()
    if password is not None:
        who = replace(who, password=password)
    return services().access.resolve(
        ident, who, by_short_code=by_short_code, check_password=check_password
    )


def unlock(item: Guarded) -> None:
    """Remember in the session that this browser gave the right password for ``item``
    (a file or a collection)."""
    key = unlock_key(item)
    mine = f"{item.public_id}:"
    unlocked = [i for i in session.get(SESSION_UNLOCKED, []) if not str(i).startswith(mine)]
    session[SESSION_UNLOCKED] = [*unlocked[-(MAX_UNLOCKED - 1) :], key]


def counted(file: File, response: Response) -> Response:
    """The download rule: a GET whose response carries the file's first byte is one
    download, of the file itself or of a variant or poster made from it.

    What counts is decided from the response that is about to be sent, so no way of
    spelling a Range (``bytes=-<size>``, ``bytes=00-``, odd case or spaces) gets the
    whole file for free; a 304, a HEAD or a range that starts later is not a download.
    Past the limit the prepared response is dropped and the answer is 410.
    """
    if request.method != "GET" or not _carries_first_byte(file, response):
        return response
    try:
        services().access.count_download(file, request.remote_addr or "-")
    except Gone:
        response.close()
        raise
    return response


def _carries_first_byte(file: File, response: Response) -> bool:
    status = response.status_code
    if status == 206:
        content_range = response.content_range
        return content_range is not None and content_range.start == 0
    if status not in (200, 302):  # 302: a presigned redirect hands the bytes out
        return False
    if response.headers.get("X-Accel-Redirect"):
        return _asked_from_the_start(file.size)  # nginx answers the Range itself
    return True


def _asked_from_the_start(size: int) -> bool:
    ranges = parse_range_header(request.headers.get("Range"))
    if ranges is None:
        return True  # no Range, or one nginx will ignore: the whole file
    bounds = ranges.range_for_length(size)  # None for several ranges: not counted
    return bounds is not None and bounds[0] == 0


def strip_ext(ident: str) -> str:
    # /i/<id>.<ext>: the extension is decoration; the id alone decides.
    return ident.split(".", 1)[0]
