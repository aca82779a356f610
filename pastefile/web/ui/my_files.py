"""My files: ``GET /me/files`` (grid or list, search, sort, pages),
``POST /me/files/delete``, ``POST /me/files/<id>/edit`` and
``GET /me/files/status`` (polled while files are being processed)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.models import File
from pastefile.services.access import Caller, FileChanges
from pastefile.services.files import FileQuery
from pastefile.web.auth import check_csrf, login_required, principal
from pastefile.web.context import services
from pastefile.web.ui.cards import icon_for

bp = Blueprint("my_files", __name__)

PER_PAGE = 24
SORTS = {"new": ("created_at", "desc"), "old": ("created_at", "asc"), "name": ("filename", "asc")}
SORTS |= {"big": ("size", "desc")}
EXPIRIES = {"": None, "3600": 3600, "86400": 86400, "604800": 604800, "2592000": 2592000}


# The query a page keeps across its forms; anything else a client adds is dropped.
KEPT_ARGS = ("q", "sort", "page", "view")


def back_to(endpoint: str) -> BaseResponse:
    """After a form: the page it came from, with its query (search, sort, page)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in KEPT_ARGS}
    return redirect(url_for(endpoint, **args), code=303)


def grid_thumb(file: File) -> str | None:
    """An image's thumbnail from the pipeline (the card's), else the raw file; None otherwise."""
    if not file.mimetype.startswith("image/") or file.mimetype == "image/svg+xml":
        return None
    raw = url_for("files.raw", ident=file.public_id)
    thumb = services().images.card_thumbnail(file, raw)
    return thumb.src if thumb else raw


@bp.get("/me/files")
@login_required
def my_files() -> str:
    sort = request.args.get("sort", "new")
    field, order = SORTS.get(sort, SORTS["new"])
    page = max(1, request.args.get("page", 1, type=int) or 1)
    q = request.args.get("q", "").strip() or None
    wanted = FileQuery(page=page, per_page=PER_PAGE, sort=field, order=order, q=q)
    files, total = services().files.owned(principal().user_id, wanted)
    pages = max(1, -(-total // PER_PAGE))
    view = "list" if request.args.get("view") == "list" else "grid"
    return render_template(
        "my_files.html", files=files, total=total, page=page, pages=pages, q=q or "", sort=sort,
        view=view, sorts=list(SORTS), expiries=EXPIRIES, grid_thumb=grid_thumb, icon_for=icon_for,
    )  # fmt: skip


@bp.post("/me/files/delete")
@login_required
def delete_files() -> BaseResponse:
    check_csrf()
    me = Caller(principal=principal())
    for ident in request.form.getlist("ids")[:100]:
        services().access.delete(ident, me)
    return back_to("my_files.my_files")


@bp.post("/me/files/<ident>/edit")
@login_required
def edit_file(ident: str) -> BaseResponse:
    check_csrf()
    svc, me = services(), Caller(principal=principal())
    file = svc.access.visible(ident, me)
    changes = _changes(request.form)
    svc.access.update(ident, me, file.version, changes)
    return back_to("my_files.my_files")


def _changes(form: Any) -> FileChanges:
    visibility = form.get("visibility") or None
    expiry = form.get("expires_in", "keep")
    if expiry == "keep":
        return FileChanges(visibility=visibility)
    if expiry == "never":
        return FileChanges(visibility=visibility, clear_expiry=True)
    seconds = EXPIRIES.get(expiry)
    return FileChanges(visibility=visibility, expires_at=services().policy.expiry(seconds))


@bp.get("/me/files/status")
@login_required
def file_status() -> Response:
    """Polled by My files: each listed file's processing status."""
    ids = request.args.getlist("id")[:PER_PAGE]
    body = services().files.statuses(principal().user_id, ids)
    return Response(json.dumps(body), mimetype="application/json")
