"""/api/v1/users: user administration, for administrators only."""

from __future__ import annotations

from flask import Response

from pastefile.db.accounts import User
from pastefile.errors import Forbidden
from pastefile.services.accounts import Principal
from pastefile.web.api import bp
from pastefile.web.api.common import json_body, paginate, query, require, respond, row_id
from pastefile.web.api.schemas import PageQuery, UserOut, UserPatch
from pastefile.web.identity import services


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        roles=user.roles,
        disabled=user.disabled,
        created_at=user.created_at,
    )


def _admin() -> Principal:
    who = require("admin")
    if not who.is_admin:
        raise Forbidden("user administration is for administrators")
    return who


@bp.get("/users")
def list_users() -> Response:
    _admin()
    page = query(PageQuery)
    users, total = services().accounts.list_users((page.page - 1) * page.per_page, page.per_page)
    return paginate(respond([user_out(u) for u in users]), page.page, page.per_page, total)


@bp.get("/users/<int:user_id>")
def get_user(user_id: int) -> Response:
    _admin()
    return respond(user_out(services().accounts.get_user(row_id(user_id))))


@bp.patch("/users/<int:user_id>")
def patch_user(user_id: int) -> Response:
    who = _admin()
    user_id = row_id(user_id)
    patch = json_body(UserPatch)
    if user_id == who.user_id and (patch.disabled or patch.roles is not None):
        raise Forbidden("administrators cannot disable or demote themselves")
    user = services().accounts.update_user(user_id, disabled=patch.disabled, roles=patch.roles)
    return respond(user_out(user))
