"""Who is asking, for the job API, over the REST API's identity helper.

``pastefile.web.identity.current_principal`` reads a bearer token or the
logged-in session. Browsers cannot set headers on a WebSocket, so there the
token may also come as ``?access_token=``. Session-authenticated changes need
the session's CSRF token (``X-CSRF-Token``), as everywhere in the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from pastefile.errors import Forbidden, Unauthorized
from pastefile.services.accounts import Permission, Principal
from pastefile.web import identity
from pastefile.web.context import services


@dataclass(frozen=True)
class Viewer:
    user_id: int
    operator: bool
    by_session: bool

    def may_see(self, owner_id: int | None) -> bool:
        return self.operator or owner_id == self.user_id


def _websocket_token() -> str | None:
    if request.environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        return None
    return request.args.get("access_token") or None


def _principal() -> Principal | None:
    token = _websocket_token()
    if token and "Authorization" not in request.headers:
        return services().accounts.principal_for_token(token)
    return identity.current_principal()


def current_viewer(scope: str = "read") -> Viewer:
    principal = _principal()
    if principal is None:
        raise Unauthorized("log in, or send an API token as 'Authorization: Bearer …'")
    if not principal.has_scope(scope):
        raise Forbidden(f"the token lacks the {scope!r} scope")
    by_session = principal.token_id is None
    return Viewer(principal.user_id, principal.can(Permission.OPERATOR), by_session)


def check_csrf(viewer: Viewer) -> None:
    """Cookie-authenticated changes must carry the session's CSRF token."""
    if viewer.by_session and not identity.csrf_valid():
        raise Forbidden("send the session's CSRF token as X-CSRF-Token")
