"""My files: ``GET /me/files`` (grid or a sortable table, search, pages, an edit drawer at
``?edit=<id>``), ``POST /me/files/delete``, ``POST /me/files/<id>/edit`` and
``GET /me/files/status`` (polled while files are being processed)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.models import File
from pastefile.errors import PasteFileError
from pastefile.services.access import Caller, FileChanges
from pastefile.services.files import FileQuery
from pastefile.services.links import build_links
from pastefile.web.auth import check_csrf, login_required, principal
from pastefile.web.context import base_url, services
from pastefile.web.ui.cards import icon_for, poster_url

bp = Blueprint("my_files", __name__)

PER_PAGE = 24
# The table's columns, by their name in the query string, and the service's sort field.
COLUMNS = {"name": "filename", "type": "mimetype", "size": "size", "visibility": "visibility"}
COLUMNS |= {"expiry": "expires_at", "downloads": "downloads", "created": "created_at"}
# The grid's sort menu: a column and a direction each.
PRESETS = {"new": ("created", "desc"), "old": ("created", "asc"), "name": ("name", "asc")}
PRESETS |= {"big": ("size", "desc")}
EXPIRIES = {"": None, "3600": 3600, "86400": 86400, "604800": 604800, "2592000": 2592000}
# At most this many files in one bulk delete (the selection can span pages).
BULK_LIMIT = 100


# The query a page keeps across its forms; anything else a client adds is dropped.
KEPT_ARGS = ("q", "sort", "dir", "page", "view")


def _kept() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if k in KEPT_ARGS}


def back_to(endpoint: str) -> BaseResponse:
    """After a form: the page it came from, with its query (search, sort, page)."""
    return redirect(url_for(endpoint, **_kept()), code=303)


def grid_thumb(file: File) -> str | None:
    """An image's thumbnail from the pipeline (the card's), a video's poster once the
    thumbnail job made it; None otherwise."""
    raw = url_for("files.raw", ident=file.public_id)
    if file.mimetype.startswith("video/"):
        return poster_url(file, raw)
    if not file.mimetype.startswith("image/") or file.mimetype == "image/svg+xml":
        return None
    thumb = services().images.card_thumbnail(file, raw)
    return thumb.src if thumb else raw


def sorting() -> tuple[str, str]:
    """The column and direction asked for: a preset of the menu, or a column header."""
    sort = request.args.get("sort", "new")
    if sort in PRESETS:
        return PRESETS[sort]
    if sort in COLUMNS:
        return sort, "asc" if request.args.get("dir") == "asc" else "desc"
    return PRESETS["new"]


# Collections shown as folders above the files (the newest; all are in the API).
FOLDERS = 50


@bp.get("/me/files")
@login_required
def my_files() -> BaseResponse | str:
    column, order = sorting()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    q = request.args.get("q", "").strip() or None
    wanted = FileQuery(page=page, per_page=PER_PAGE, sort=COLUMNS[column], order=order, q=q)
    files, total = services().files.owned(principal().user_id, wanted)
    last = max(1, -(-total // PER_PAGE))
    if page > last:  # after a delete emptied the last page: the new last one
        return redirect(url_for("my_files.my_files", **{**_kept(), "page": last}))
    view = "list" if request.args.get("view") == "list" else "grid"
    state = {"q": q or "", "sort": request.args.get("sort", "new"), "view": view, "page": page}
    if state["sort"] in COLUMNS:
        state["dir"] = order
    folders, _ = services().collections.owned(principal().user_id, 1, FOLDERS)
    return render_template(
        "my_files.html", files=files, total=total, pages=last,
        folders=folders, folder_counts=services().collections.counts(folders),
        state=state, column=column, order=order, presets=list(PRESETS), columns=list(COLUMNS),
        editing=_editing(files), expiries=EXPIRIES, grid_thumb=grid_thumb, icon_for=icon_for,
        short_link=lambda f: build_links(f, base_url()).url_s, bulk_limit=BULK_LIMIT,
    )  # fmt: skip


def _editing(files: list[File]) -> File | None:
    """The file whose edit drawer is open (``?edit=<id>``), when it is on this page."""
    wanted = request.args.get("edit")
    return next((f for f in files if f.public_id == wanted), None)


@bp.post("/me/files/delete")
@login_required
def delete_files() -> BaseResponse:
    check_csrf()
    me = Caller(principal=principal())
    deleted = 0
    for ident in dict.fromkeys(request.form.getlist("ids")[:BULK_LIMIT]):
        try:
            services().access.delete(ident, me)
        except PasteFileError:
            continue  # already gone, or not this caller's: the others still go
        deleted += 1
    if deleted:
        flash(ngettext("Deleted %(num)d file.", "Deleted %(num)d files.", deleted), "ok")
    return back_to("my_files.my_files")


@bp.post("/me/files/<ident>/edit")
@login_required
def edit_file(ident: str) -> BaseResponse:
    check_csrf()
    svc, me = services(), Caller(principal=principal())
    file = svc.access.visible(ident, me)
    changes = _changes(request.form)
    updated = svc.access.update(ident, me, file.version, changes)
    flash(_("Saved %(name)s.", name=getattr(updated, "filename", file.filename)), "ok")
    return back_to("my_files.my_files")


def _changes(form: Any) -> FileChanges:
    visibility = form.get("visibility") or None
    filename = form.get("filename", "").strip() or None
    expiry = form.get("expires_in", "keep")
    if expiry == "keep":
        return FileChanges(filename=filename, visibility=visibility)
    if expiry == "never":
        return FileChanges(filename=filename, visibility=visibility, clear_expiry=True)
    seconds = EXPIRIES.get(expiry)  # an unknown choice keeps the expiry
    return FileChanges(filename=filename, visibility=visibility, expires_in=seconds)


@bp.get("/me/files/status")
@login_required
def file_status() -> Response:
    """Polled by My files: each listed file's processing status."""
    ids = request.args.getlist("id")[:PER_PAGE]
    body = services().files.statuses(principal().user_id, ids)
    return Response(json.dumps(body), mimetype="application/json")
