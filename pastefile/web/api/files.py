"""``/api/v1/files``: upload (a body, or ``{"url": …}`` for a fetch job), list,
read, change, delete; ``/api/v1/files/<id>/removal``: moderation removal."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request

from pastefile.db.models import File
from pastefile.errors import InvalidInput, MissingFile
from pastefile.services.access import FileChanges
from pastefile.services.files import FileQuery
from pastefile.services.links import build_links
from pastefile.services.policy import PreparedUpload
from pastefile.services.uploads import UploadResult
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import (
    aware,
    created,
    if_match_version,
    json_body,
    no_content,
    paginate,
    query,
    respond,
    with_validators,
)
from pastefile.web.api.jobs import present
from pastefile.web.api.schemas import (
    FileCreated,
    FileLinks,
    FileListQuery,
    FileOut,
    FilePatch,
    ImageInfo,
    RemovalIn,
    RemovalOut,
)
from pastefile.web.auth import JOBS, admit, caller, check_csrf, principal, require_scope
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response
from pastefile.web.uploading import into_collection, prepare_upload, upload_request

bp = api_blueprint("files", __name__)


def file_out(file: File, model: type[FileOut] = FileOut, **extra: object) -> FileOut:
    links = build_links(file, base_url())
    image = ImageInfo(width=file.width, height=file.height) if file.width and file.height else None
    return model(
        id=file.public_id,
        filename=file.filename,
        size=file.size,
        mimetype=file.mimetype,
        type=file.mimetype.split("/", 1)[0],
        sha256=file.sha256,
        visibility=file.visibility,  # type: ignore[arg-type]
        created_at=file.created_at,
        updated_at=file.updated_at,
        expires_at=file.expires_at,
        max_downloads=file.max_downloads,
        downloads=file.downloads,
        password_protected=file.password_hash is not None,
        owner_id=file.owner_id,
        image=image,
        encrypted=bool(file.encrypted),
        links=FileLinks(
            self=f"{base_url()}/api/v1/files/{file.public_id}",
            raw=links.url_i,
            download=links.url_d,
            preview=links.url_p,
            short=links.url_s,
        ),
        **extra,
    )


@bp.get("/files")
@require_scope("read")
def list_my_files() -> Response:
    params = query(FileListQuery)
    wanted = FileQuery(
        page=params.page,
        per_page=params.per_page,
        sort=params.sort,
        order=params.order,
        type=params.type,
        created_after=aware(params.created_after),
        created_before=aware(params.created_before),
        q=params.q,
    )
    files, total = services().files.owned(principal().user_id, wanted)
    response = respond([file_out(f) for f in files])
    return paginate(response, params.page, params.per_page, total)


@bp.post("/files")
def create_file() -> Response:
    if request.is_json:  # {"url": …}: upload from a URL, a fetch_url job (202)
        return _fetch()
    svc = services()
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise MissingFile("send the file in a multipart field named 'file'")
        into = into_collection(request.form, prepare_upload(request.form))
        prepared = into.prepared
        result = svc.uploads.finish(part.stream, part.filename, options=prepared.options)  # type: ignore[arg-type]
    else:
        name = request.args.get("filename")
        if not name:
            raise MissingFile("send multipart/form-data, or a raw body with ?filename=")
        into = into_collection(request.args, prepare_upload(request.args))
        prepared = into.prepared
        result = svc.uploads.save_stream(request.stream, name, options=prepared.options)
    into.add(result)
    return _created(result, prepared)


def _created(result: UploadResult, prepared: PreparedUpload) -> Response:
    token = prepared.manage_token if result.created else None
    body = file_out(result.file, FileCreated, token=token)
    response = created(body, body.links.self, 201 if result.created else 200, token)
    return with_validators(response, result.file)


@bp.get("/files/<ident>")
def get_file(ident: str) -> Response:
    file = services().access.resolve(ident, caller())
    response = with_validators(respond(file_out(file)), file)
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.patch("/files/<ident>")
def patch_file(ident: str) -> Response:
    svc = services()
    svc.access.visible(ident, caller())  # 404 before any precondition talk
    version = if_match_version(ident, "file")
    file = svc.access.update(ident, caller(), version, _changes(json_body(FilePatch)))
    return with_validators(respond(file_out(file)), file)


def _changes(patch: FilePatch) -> FileChanges:
    return FileChanges(filename=patch.filename, **patch.rule_changes())


@bp.delete("/files/<ident>")
def delete_file(ident: str) -> Response:
    services().access.delete(ident, caller())
    return no_content()


@bp.post("/files/<ident>/removal")
@require_scope("admin", admin="moderation is for administrators")
def remove_file(ident: str) -> Response:
    """Moderation: remove every copy of this content and block re-uploads (451)."""
    who = principal()
    reason = json_body(RemovalIn).reason
    svc = services()
    sha = svc.access.visible(ident, caller()).sha256
    removed = svc.access.remove_for_abuse(ident, who, reason)
    return respond(RemovalOut(sha256=sha, removed=removed))


FETCH_FIELDS = frozenset({"url", "expires_in", "max_downloads", "password", "visibility"})


def _fetch() -> Response:
    """Upload from a URL: ``{"url": …}`` starts a ``fetch_url`` job and answers 202,
    with the job API's rules for the caller (pastefile/web/api/jobs.py)."""
    who = admit("upload", JOBS)
    check_csrf(api=True)
    body = _json_object()
    unknown = set(body) - FETCH_FIELDS
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}; send {sorted(FETCH_FIELDS)}")
    for field in ("password", "visibility"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise InvalidInput(f"{field} must be a string")
    prepared = services().policy.prepare(who, upload_request(body))
    job = services().jobs.fetch(body.get("url"), prepared.options)
    response = json_response(present([job], who)[0], status=202)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


def _json_object() -> dict[str, Any]:
    try:
        body = orjson.loads(request.get_data(cache=False) or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body
