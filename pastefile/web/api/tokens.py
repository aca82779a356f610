"""``/api/v1/me`` (the caller's account and usage) and ``/api/v1/tokens``
(personal API tokens: list, create, read, revoke)."""

from __future__ import annotations

from flask import Response

from pastefile.db.users import ApiToken, User
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import json_body, no_content, respond, row_id
from pastefile.web.api.ratelimit import spend_login_budget
from pastefile.web.api.schemas import (
    Me,
    TokenCreate,
    TokenCreated,
    TokenExchange,
    TokenOut,
    Usage,
)
from pastefile.web.auth import admit, current_principal, principal, require_scope
from pastefile.web.context import base_url, services

bp = api_blueprint("tokens", __name__)


def token_out(row: ApiToken, model: type[TokenOut] = TokenOut, **extra: object) -> TokenOut:
    return model(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=row.scopes.split(),  # type: ignore[arg-type]
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        **extra,
    )


@bp.get("/me")
@require_scope("read")
def me() -> Response:
    who = principal()
    svc = services()
    user: User = svc.accounts.get_user(who.user_id)
    count, used = svc.policy.usage(who.user_id)
    quota_bytes, quota_files = svc.policy.quota(who.user_id)
    usage = Usage(
        files=count,
        bytes=used,
        quota_files=quota_files or None,
        quota_bytes=int(quota_bytes) or None,
    )
    return respond(
        Me(
            id=user.id,
            username=user.username,
            roles=user.roles,
            disabled=user.disabled,
            created_at=user.created_at,
            scopes=sorted(who.scopes),  # type: ignore[arg-type]
            usage=usage,
        )
    )


@bp.get("/tokens")
@require_scope("read")
def list_tokens() -> Response:
    rows = services().accounts.list_tokens(principal().user_id)
    return respond([token_out(row) for row in rows])


@bp.post("/tokens")
def create_token() -> Response:
    """A new token: for the caller (a token or a session), or, from nobody, in exchange
    for a username and password under the login budget (docs/api.md)."""
    if current_principal() is None:
        spend_login_budget()  # every try at a password costs, as on the login form
        asked = json_body(TokenExchange)
        row, value = services().accounts.exchange_password(
            asked.username, asked.password, asked.name, list(asked.scopes)
        )
    else:
        wanted = json_body(TokenCreate)
        row, value = services().accounts.create_token(
            admit("read"), wanted.name, list(wanted.scopes)
        )
    response = respond(token_out(row, TokenCreated, token=value), 201)
    response.headers["Location"] = f"{base_url()}/api/v1/tokens/{row.id}"
    return response


@bp.get("/tokens/<int:token_id>")
@require_scope("read")
def get_token(token_id: int) -> Response:
    found = services().accounts.get_token(principal().user_id, row_id(token_id))
    return respond(token_out(found))


@bp.delete("/tokens/<int:token_id>")
@require_scope("read")
def revoke_token(token_id: int) -> Response:
    services().accounts.revoke_token(principal().user_id, row_id(token_id))
    return no_content()
