"""Which file a request may have: every serving route resolves files here,
so the same read rules (pastefile/services/access.py) hold on every route.

Wrong passwords are rate limited per client and file; a browser that gave
the right one remembers it in its session.
"""

from __future__ import annotations

from flask import abort, request, session
from limits import parse

from pastefile.db.models import File
from pastefile.errors import WrongPassword
from pastefile.services.access import Caller
from pastefile.web.auth import SESSION_UNLOCKED, caller
from pastefile.web.context import limiter, services

MAX_UNLOCKED = 50


def resolve_file(
    ident: str,
    by_short_code: bool = False,
    check_password: bool = True,
    password: str | None = None,
) -> File:
    """The file if this request may have it; wrong passwords are rate limited."""
    who = caller()
    if password is not None:
        who = Caller(who.principal, who.manage_token, password, who.unlocked)
    if not check_password:
        who = Caller(who.principal, who.manage_token, None, frozenset({ident}))
    if who.password:
        _password_attempts(ident, hit=False)
    try:
        return services().access.resolve(ident, who, by_short_code=by_short_code)
    except WrongPassword:
        _password_attempts(ident, hit=True)
        raise


def _password_attempts(ident: str, hit: bool) -> None:
    item = parse(services().settings.password_rate_limit)
    keys = ("password", request.remote_addr or "-", ident)
    strategy = limiter().limiter
    if hit:
        strategy.hit(item, *keys)
    elif not strategy.test(item, *keys):
        abort(429, "too many wrong passwords for this file; wait and try again")


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
