"""``/api/v1/collections``: create, list yours; ``/api/v1/collections/<id>``: read, change
(If-Match), delete; ``/api/v1/collections/<id>/files``: add and remove files.

Reads go through the read gate (``CollectionService.resolve``); the files listed
are those the caller could read one by one. ``X-File-Password`` carries a
protected collection's password, ``X-Token`` an anonymous creator's token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Response, request

from pastefile.db.collections import Collection
from pastefile.services.access import Caller
from pastefile.services.collections import CollectionChanges, NewCollection
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import (
    created,
    if_match_version,
    json_body,
    no_content,
    paginate,
    query,
    respond,
    with_validators,
)
from pastefile.web.api.files import file_out
from pastefile.web.api.schemas import (
    CollectionCreate,
    CollectionCreated,
    CollectionFiles,
    CollectionLinks,
    CollectionOut,
    CollectionPatch,
    PageQuery,
)
from pastefile.web.auth import caller, principal, require_scope
from pastefile.web.context import base_url, services

bp = api_blueprint("collections", __name__)
NOUN = "collection"


def collection_out(
    collection: Collection, model: type[CollectionOut] = CollectionOut, **extra: object
) -> CollectionOut:
    svc = services().collections
    who = caller()
    files = svc.readable(collection, who)
    base = base_url()
    return model(
        id=collection.public_id,
        title=collection.title,
        description=collection.description,
        visibility=collection.visibility,  # type: ignore[arg-type]
        created_at=collection.created_at,
        updated_at=collection.updated_at,
        expires_at=collection.expires_at,
        max_downloads=collection.max_downloads,
        downloads=collection.downloads,
        password_protected=collection.password_hash is not None,
        owner_id=collection.owner_id,
        files=[file_out(f) for f in files],
        size=sum(f.size for f in files),
        zip_size=svc.zip_plan(collection, who).length,
        links=CollectionLinks(
            self=f"{base}/api/v1/collections/{collection.public_id}",
            page=f"{base}/c/{collection.public_id}",
            zip=f"{base}/c/{collection.public_id}.zip",
            short=f"{base}/s/{collection.short_code}",
        ),
        **extra,
    )


@bp.get("/collections")
@require_scope("read")
def list_my_collections() -> Response:
    params = query(PageQuery)
    found, total = services().collections.owned(principal().user_id, params.page, params.per_page)
    response = respond([collection_out(c) for c in found])
    return paginate(response, params.page, params.per_page, total)


@bp.post("/collections")
def create_collection() -> Response:
    body = json_body(CollectionCreate)
    asked = NewCollection(
        title=body.title,
        description=body.description,
        file_ids=tuple(body.files),
        expires_in=body.expires_in,
        max_downloads=body.max_downloads,
        password=body.password,
        visibility=body.visibility,
    )
    made = services().collections.create(caller(), asked)
    out = collection_out(made.collection, CollectionCreated, token=made.manage_token)
    response = created(out, out.links.self, 201, made.manage_token)
    return with_validators(response, made.collection)


@bp.get("/collections/<ident>")
def get_collection(ident: str) -> Response:
    found = services().collections.resolve(ident, caller())
    response = with_validators(respond(collection_out(found)), found)
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.patch("/collections/<ident>")
def patch_collection(ident: str) -> Response:
    svc = services()
    found = svc.collections.visible(ident, caller())  # 404 before any precondition talk
    version = if_match_version(ident, NOUN)
    patch = json_body(CollectionPatch)
    changes = CollectionChanges(
        title=patch.title, description=patch.description, **patch.rule_changes()
    )
    changed = svc.collections.update(ident, caller(), version, changes)
    if patch.order:
        changed = svc.collections.reorder(found, patch.order, caller())
    return with_validators(respond(collection_out(changed)), changed)


@bp.delete("/collections/<ident>")
def delete_collection(ident: str) -> Response:
    services().collections.delete(ident, caller())
    return no_content()


@bp.post("/collections/<ident>/files")
def add_files(ident: str) -> Response:
    return _change_files(ident, services().collections.add_files)


@bp.delete("/collections/<ident>/files")
def remove_files(ident: str) -> Response:
    return _change_files(ident, services().collections.remove_files)


def _change_files(
    ident: str, change: Callable[[Collection, Sequence[str], Caller], Collection]
) -> Response:
    found = services().collections.visible(ident, caller())
    changed = change(found, json_body(CollectionFiles).files, caller())
    return with_validators(respond(collection_out(changed)), changed)
