"""Who is asking, for the pages and the API alike, and what they may reach.

A bearer token (``Authorization: Bearer pf_…``) or a logged-in session names a
principal; ``X-Token`` carries an anonymous upload's management token and
``X-File-Password`` a file's password. Every serving route resolves files
through ``resolve_file`` so the same rules hold on every route.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import abort, g, request, session
from limits import parse

from pastefile.db.models import File
from pastefile.errors import InvalidInput, Unauthorized, WrongPassword
from pastefile.services.access import Caller
from pastefile.services.accounts import Principal
from pastefile.services.policy import PreparedUpload, UploadRequest
from pastefile.services.upload_options import UploadOptions
from pastefile.web.context import limiter, services

SESSION_USER = "uid"
SESSION_UNLOCKED = "unlocked"
SESSION_CSRF = "csrf"
MAX_UNLOCKED = 50


# --- principals ----------------------------------------------------------------


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    return value.strip()


def current_principal() -> Principal | None:
    """The caller: a bearer token first, else the session's user; cached per request."""
    if "pf_principal" in g:
        return g.pf_principal  # type: ignore[no-any-return]
    token = bearer_token()
    if token is not None:
        principal: Principal | None = services().accounts.principal_for_token(token)
    else:
        principal = session_principal()
    g.pf_principal = principal
    return principal


def session_principal() -> Principal | None:
    user_id = session.get(SESSION_USER)
    if user_id is None:
        return None
    user = services().accounts.active_user(int(user_id))
    if user is None:  # disabled or deleted since login: the session ends now
        session.clear()
        return None
    return services().accounts.session_principal(user)


def authenticated_by_session() -> bool:
    return "Authorization" not in request.headers and SESSION_USER in session


def caller() -> Caller:
    return Caller(
        principal=current_principal(),
        manage_token=request.headers.get("X-Token") or None,
        password=request.headers.get("X-File-Password") or None,
        unlocked=frozenset(session.get(SESSION_UNLOCKED, ())),
    )


# --- CSRF -------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token, made on first use; every form embeds it."""
    token = session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF] = token
    return str(token)


def csrf_valid() -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get(SESSION_CSRF) or ""
    return bool(expected) and hmac.compare_digest(str(sent), str(expected))


def require_csrf() -> None:
    if not csrf_valid():
        abort(400, "the form expired or did not come from this site; reload and try again")


# --- files ------------------------------------------------------------------------


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


# --- uploads ------------------------------------------------------------------------


def upload_request(values: Any) -> UploadRequest:
    """The upload options from a form or a query string."""
    return UploadRequest(
        expires_in=_int(values, "expires_in"),
        max_downloads=_int(values, "max_downloads"),
        password=values.get("password") or None,
        visibility=values.get("visibility") or None,
    )


def _int(values: Any, name: str) -> int | None:
    raw = values.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None


def uploader() -> Principal | None:
    """The upload's owner. A session counts only with a valid CSRF token;
    without one the upload is anonymous, so a forged form gains nothing."""
    if authenticated_by_session() and not csrf_valid():
        return None
    return current_principal()


def prepare_upload(values: Any) -> PreparedUpload:
    return services().policy.prepare(uploader(), upload_request(values))


def derived_options(source: File) -> UploadOptions | None:
    """The options of a copy of ``source`` (``/r/``); 403 for a restricted source
    unless the caller manages it. A session counts only with a CSRF token."""
    who = Caller(principal=uploader(), manage_token=request.headers.get("X-Token") or None)
    return services().access.derived_options(source, who)
