"""``/api/v1/requests``: file requests, the upload links a user hands to others
(create, list, read, change with If-Match, delete). Uploads through one go to
``POST /u/<code>`` (web/public/requests.py) or tus with ``request`` in Upload-Metadata."""

from __future__ import annotations

from flask import Response, request

from pastefile.db.file_requests import FileRequest
from pastefile.services.file_requests import RequestFields, allowed_types_of, is_open
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import if_match_version, json_body, no_content, respond
from pastefile.web.api.schemas import (
    RequestCreate,
    RequestLinks,
    RequestOut,
    RequestPatch,
)
from pastefile.web.auth import caller, principal, require_scope
from pastefile.web.context import base_url, services

bp = api_blueprint("requests", __name__)


def request_out(found: FileRequest) -> RequestOut:
    collection = services().requests.collection_of(found)
    return RequestOut(
        id=found.public_id,
        title=found.title,
        message=found.message,
        max_files=found.max_files,
        max_bytes=found.max_bytes,
        allowed_types=list(allowed_types_of(found)),
        expires_at=found.expires_at,
        password_protected=found.password_hash is not None,
        open=is_open(found),
        closed_at=found.closed_at,
        received_files=found.received_files,
        received_bytes=found.received_bytes,
        collection_id=collection.public_id if collection else None,
        created_at=found.created_at,
        updated_at=found.updated_at,
        links=RequestLinks(
            self=f"{base_url()}/api/v1/requests/{found.public_id}",
            upload=f"{base_url()}/u/{found.code}",
        ),
    )


def _validated(response: Response, found: FileRequest) -> Response:
    response.set_etag(f"{found.public_id}-v{found.version}")
    return response


@bp.post("/requests")
@require_scope("upload")
def create_request() -> Response:
    body = json_body(RequestCreate)
    fields = RequestFields(
        title=body.title,
        message=body.message,
        max_files=body.max_files,
        max_bytes=body.max_bytes,
        allowed_types=tuple(body.allowed_types),
        expires_in=body.expires_in,
        password=body.password,
    )
    made = services().requests.create(principal(), fields)
    out = request_out(made)
    response = _validated(respond(out, 201), made)
    response.headers["Location"] = out.links.self
    return response


@bp.get("/requests")
@require_scope("read")
def list_requests() -> Response:
    return respond([request_out(r) for r in services().requests.owned(principal().user_id)])


@bp.get("/requests/<ident>")
@require_scope("read")
def get_request(ident: str) -> Response:
    found = services().requests.get(ident, caller())
    response = _validated(respond(request_out(found)), found)
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.patch("/requests/<ident>")
@require_scope("upload")
def patch_request(ident: str) -> Response:
    svc = services().requests
    svc.get(ident, caller())  # 404 before any precondition talk
    version = if_match_version(ident, "request")
    changed = svc.update(ident, caller(), version, _changes(json_body(RequestPatch)))
    return _validated(respond(request_out(changed)), changed)


def _changes(patch: RequestPatch) -> RequestFields:
    sent = patch.model_fields_set
    nulls = {"message": "message", "max_files": "max_files", "max_bytes": "max_bytes"}
    nulls |= {"expires_in": "expires_at", "password": "password_hash"}
    clear = frozenset(col for f, col in nulls.items() if f in sent and getattr(patch, f) is None)
    return RequestFields(
        title=patch.title,
        message=patch.message,
        max_files=patch.max_files,
        max_bytes=patch.max_bytes,
        allowed_types=None if patch.allowed_types is None else tuple(patch.allowed_types),
        expires_in=patch.expires_in,
        password=patch.password,
        clear=clear,
        closed=patch.closed,
    )


@bp.delete("/requests/<ident>")
@require_scope("delete")
def delete_request(ident: str) -> Response:
    services().requests.delete(ident, caller())
    return no_content()
