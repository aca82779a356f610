"""``/api/v1/users``: user administration (list, read, change), for administrators only."""

from __future__ import annotations

import re

from flask import Response, request

from pastefile.db.users import User
from pastefile.errors import PreconditionFailed, PreconditionRequired
from pastefile.services.accounts import user_version
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import json_body, paginate, query, respond, row_id
from pastefile.web.api.schemas import PageQuery, UserOut, UserPatch
from pastefile.web.auth import principal, require_scope
from pastefile.web.context import services

bp = api_blueprint("users", __name__)
ADMINS_ONLY = require_scope("admin", admin="user administration is for administrators")

_ETAG = re.compile(r'^(?:W/)?"u([0-9]{1,10})-([0-9a-f]{20})"$')


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        roles=user.roles,
        disabled=user.disabled,
        created_at=user.created_at,
    )


@bp.get("/users")
@ADMINS_ONLY
def list_users() -> Response:
    page = query(PageQuery)
    users, total = services().accounts.list_users((page.page - 1) * page.per_page, page.per_page)
    return paginate(respond([user_out(u) for u in users]), page.page, page.per_page, total)


def _with_etag(user: User) -> Response:
    response = respond(user_out(user))
    response.set_etag(f"u{user.id}-{user_version(user)}")
    return response


@bp.get("/users/<int:user_id>")
@ADMINS_ONLY
def get_user(user_id: int) -> Response:
    response = _with_etag(services().accounts.get_user(row_id(user_id)))
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.patch("/users/<int:user_id>")
@ADMINS_ONLY
def patch_user(user_id: int) -> Response:
    """Like files: If-Match with the ETag from GET, 428 without it, 412 when stale."""
    who = principal()
    user_id = row_id(user_id)
    services().accounts.get_user(user_id)  # 404 before any precondition talk
    version = _if_match_version(user_id)
    patch = json_body(UserPatch)
    user = services().accounts.update_user(
        user_id, patch.disabled, patch.roles, if_version=version, actor_id=who.user_id
    )
    return _with_etag(user)


def _if_match_version(user_id: int) -> str:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired("PATCH needs If-Match with the user's current ETag")
    match = _ETAG.match(header.strip())
    if match is None or int(match.group(1)) != user_id:
        raise PreconditionFailed("If-Match does not name this user's current version")
    return match.group(2)
