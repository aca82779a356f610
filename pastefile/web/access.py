"""Which file a request may have: every serving route resolves files here,
and this hands the request's proof to the service layer's read gate
(``FileAccess.resolve``), which also limits wrong passwords per client and file.

A browser that gave the right password remembers it in its session.
"""

from __future__ import annotations

from dataclasses import replace

from flask import request, session

from pastefile.db.models import File
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
    if not check_password:
        who = replace(who, password=None, unlocked=frozenset({ident}))
    return services().access.resolve(ident, who, by_short_code=by_short_code)


def unlock(ident: str) -> None:
    """Remember in the session that this browser gave the right password."""
    unlocked = [i for i in session.get(SESSION_UNLOCKED, []) if i != ident]
    session[SESSION_UNLOCKED] = [*unlocked[-(MAX_UNLOCKED - 1) :], ident]


def count_download(file: File) -> None:
    """A GET of the bytes from the start is a download; Range continuations are not."""
    if request.method != "GET":
        return
    ranges = request.headers.get("Range", "")
    if ranges and not ranges.replace(" ", "").startswith("bytes=0-"):
        return
    services().access.count_download(file)


def strip_ext(ident: str) -> str:
    # /i/<id>.<ext>: the extension is decoration; the id alone decides.
    return ident.split(".", 1)[0]
