"""Who is asking, and the guards routes put in front of themselves.

A bearer token (``Authorization: Bearer pf_…``) or a logged-in session names a
``Principal``; ``caller()`` adds what a request can prove about a file (an
``X-Token``, an ``X-File-Password``, files unlocked in this session). Sessions
are Flask's signed cookies; forms and session-authenticated API calls carry
the session's CSRF token, checked by ``check_csrf``.

Routes guard themselves with ``login_required``, ``admin_required`` or
``require_scope(scope)`` and then read the admitted caller with ``principal()``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, abort, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from pastefile.errors import Forbidden, InsufficientScope, Unauthorized
from pastefile.services.access import Caller
from pastefile.services.accounts import Principal
from pastefile.web.context import base_url, services

# The cookie (Flask's, signed) holds the id of a server-side session record, so
# a session ends for good when its record goes: at logout, "log out everywhere",
# or when the account is disabled.
SESSION_ID = "sid"
SESSION_UNLOCKED = "unlocked"
SESSION_CSRF = "csrf"

P = ParamSpec("P")
R = TypeVar("R")


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever this request came over HTTPS
    (directly, or as trusted proxies say), not only when the base URL says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Most requests carry no cookie (files, short links, the API, health checks):
        # they get an empty session without a signer being built for them.
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


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
    session_id = session.get(SESSION_ID)
    if not isinstance(session_id, str):
        return None
    user = services().accounts.session_user(session_id)
    if user is None:  # logged out elsewhere, disabled or deleted: the session ends now
        session.clear()
        return None
    return services().accounts.session_principal(user)


def socket_principal() -> Principal | None:
    """Browsers cannot set headers on a WebSocket, so there the token may come
    as ``?access_token=``; everything else is ``current_principal``."""
    upgrade = request.environ.get("HTTP_UPGRADE", "").lower() == "websocket"
    token = request.args.get("access_token") if upgrade else None
    if token and "Authorization" not in request.headers:
        return services().accounts.principal_for_token(token)
    return current_principal()


def authenticated_by_session() -> bool:
    return "Authorization" not in request.headers and SESSION_ID in session


def caller() -> Caller:
    """Everything this request proves, for the service layer's read rules."""
    return Caller(
        principal=current_principal(),
        manage_token=request.headers.get("X-Token") or None,
        password=request.headers.get("X-File-Password") or None,
        unlocked=frozenset(session.get(SESSION_UNLOCKED, ())),
        client=request.remote_addr or "-",
    )


def log_in(user_id: int) -> None:
    # A fresh session on login: nothing from before (a planted CSRF token) survives.
    log_out()
    session[SESSION_ID] = services().accounts.open_session(user_id)
    session.permanent = True


def log_out() -> None:
    """End this browser's session on the server too: its cookie is worthless after."""
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        services().accounts.end_session(session_id)
    session.clear()


def log_out_everywhere(user_id: int) -> int:
    """End every session of the user, this one included."""
    ended = services().accounts.end_all_sessions(user_id)
    session.clear()
    return ended


def rate_key() -> str:
    """Whose budget a request spends: its bearer token, else its client address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # Keyed by a digest, so the token itself never reaches the limiter's storage.
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "-")


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


def same_origin() -> bool:
    """Whether the request's ``Origin`` (when a browser sent one) is this site.

    Hosts are compared, not schemes: behind a proxy that ends TLS the app may see
    ``http`` while the browser says ``https``, and that is still this site.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser's cross-origin request: curl, or an old browser
    ours = {request.host.lower(), urlsplit(base_url()).netloc.lower()}
    return urlsplit(origin.strip()).netloc.lower() in ours


def check_csrf(api: bool = False) -> None:
    """The one CSRF check: the session's token and a same-site ``Origin``.

    Pages: a POST without them is a 400. API calls: only those the session cookie
    authenticates need them (a browser never sends a bearer token on its own),
    else 403."""
    if api and not authenticated_by_session():
        return  # a bearer token, or nobody: no cookie was involved
    if csrf_valid() and same_origin():
        return
    if api:
        raise Forbidden("send the session's CSRF token as X-CSRF-Token, from this site")
    abort(400, "the form expired or did not come from this site; reload and try again")


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Uploads that arrive with a session but without its token are taken as anonymous
# instead of refused (``uploading.uploader``): a forged form gains nothing by them.
_FORGED_UPLOADS_ARE_ANONYMOUS = frozenset(
    {
        "upload.upload",
        "upload.upload_raw",
        "resize.resize",
        "api_v1_files.create_file",
        "api_v1_uploads.tus_create",
        "api_v1_uploads.tus_patch",
        "api_v1_uploads.tus_delete",
        "api_v1_uploads.tus_nowhere",
    }
)


def protect_session_changes() -> None:
    """Before every request: a change the session cookie authenticates needs the
    CSRF token and a same-site Origin, on every route, pages and API alike."""
    if request.method not in UNSAFE_METHODS or not authenticated_by_session():
        return
    if request.endpoint in _FORGED_UPLOADS_ARE_ANONYMOUS:
        return
    check_csrf(api=request.path.startswith("/api/"))


# --- guards ----------------------------------------------------------------------


@dataclass(frozen=True)
class Realm:
    """How a family of routes finds the caller and refuses one."""

    login: str  # the 401's detail
    lacking: type[Forbidden]  # a caller without the scope...
    lacking_detail: str  # ...and what it is told, with {scope}
    find: Callable[[], Principal | None] = current_principal


API = Realm(
    "send 'Authorization: Bearer <token>'",
    InsufficientScope,
    "this needs a token with the '{scope}' scope",
)
# The job API and its WebSocket answer a missing scope with a plain 403 (docs/jobs.md).
JOBS = Realm(
    "log in, or send an API token as 'Authorization: Bearer …'",
    Forbidden,
    "the token lacks the '{scope}' scope",
    socket_principal,
)


def admit(scope: str, realm: Realm = API, admin: str | None = None) -> Principal:
    """The caller, who must hold ``scope`` (and be an administrator when ``admin``
    gives the refusal); remembered for ``principal()``."""
    who = realm.find()
    if who is None:
        raise Unauthorized(realm.login)
    if not who.has_scope(scope):
        raise realm.lacking(realm.lacking_detail.format(scope=scope))
    if admin is not None and not who.is_admin:
        raise Forbidden(admin)
    g.pf_admitted = who
    return who


def signed_in(admin: str | None = None) -> Principal:
    """Pages: a session or a token, else 401 (and an administrator when ``admin``)."""
    who = current_principal()
    if who is None:
        raise Unauthorized("log in first")
    if admin is not None and not who.is_admin:
        raise Forbidden(admin)
    g.pf_admitted = who
    return who


def principal() -> Principal:
    """The caller a guard admitted for this request."""
    who: Principal | None = g.get("pf_admitted")
    if who is None:
        raise Unauthorized("log in first")
    return who


def _guarded(check: Callable[[], object]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            check()
            return view(*args, **kwargs)

        return guarded

    return decorate


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    return _guarded(signed_in)(view)


def admin_required(
    detail: str = "this page is for administrators",
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return _guarded(functools.partial(signed_in, admin=detail))


def require_scope(
    scope: str, *, admin: str | None = None, realm: Realm = API
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return _guarded(functools.partial(admit, scope, realm, admin))
