"""The signed-in pages and the upload page's helpers: the card fragment,
My files, Admin, Help and the ShareX config.

Every POST checks the session's CSRF token; Admin needs ADMINISTER.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.models import File
from pastefile.errors import Forbidden, PasswordRequired
from pastefile.services.access import Caller, FileChanges, FileQuery, list_files
from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER
from pastefile.web.access import resolve_file
from pastefile.web.auth import admin_required, caller, check_csrf, login_required, principal
from pastefile.web.cards import icon_for
from pastefile.web.context import base_url, services
from pastefile.web.presenters import card_context

bp = Blueprint("pages", __name__)

PER_PAGE = 24
SORTS = {"new": ("created_at", "desc"), "old": ("created_at", "asc"), "name": ("filename", "asc")}
SORTS |= {"big": ("size", "desc")}
EXPIRIES = {"": None, "3600": 3600, "86400": 86400, "604800": 604800, "2592000": 2592000}


def _back(endpoint: str) -> BaseResponse:
    args: dict[str, Any] = request.args.to_dict()
    return redirect(url_for(endpoint, **args), code=303)


# --- the upload page's card fragment ------------------------------------------------


@bp.get("/p/<ident>/card")
def card_fragment(ident: str) -> Response:
    """The card alone, for the upload page to drop in place (the same template)."""
    try:
        found = resolve_file(ident)
    except PasswordRequired:
        abort(403)
    html = render_template("_card.html", **card_context(found, base_url()))
    return Response(html, mimetype="text/html")


# --- My files ------------------------------------------------------------------------


def grid_thumb(file: File) -> str | None:
    """An image's thumbnail from the pipeline (the card's), else the raw file; None otherwise."""
    if not file.mimetype.startswith("image/") or file.mimetype == "image/svg+xml":
        return None
    raw = url_for("core.raw", ident=file.public_id)
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
    files, total = list_files(services().db, principal().user_id, wanted)
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
    return _back("pages.my_files")


@bp.post("/me/files/<ident>/edit")
@login_required
def edit_file(ident: str) -> BaseResponse:
    check_csrf()
    svc, me = services(), Caller(principal=principal())
    file = svc.access.visible(ident, me)
    changes = _changes(request.form)
    svc.access.update(ident, me, file.version, changes)
    return _back("pages.my_files")


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


# --- Admin ---------------------------------------------------------------------------


@bp.get("/admin")
@admin_required()
def admin() -> str:
    svc = services()
    q = request.args.get("q", "").strip()
    users, user_count = svc.accounts.list_users(0, 200)
    storage = {**svc.files.storage_summary(), "users": user_count}
    return render_template(
        "admin.html", users=users, files=svc.files.search_all(q), q=q, storage=storage,
        admin_ids={u.id for u in users if u.roles & ROLE_ADMIN == ROLE_ADMIN},
    )  # fmt: skip


@bp.post("/admin/users/<int:user_id>")
@admin_required()
def admin_user(user_id: int) -> BaseResponse:
    check_csrf()
    action = request.form.get("action")
    if user_id == principal().user_id and action in ("disable", "demote"):
        raise Forbidden("you cannot disable or demote yourself")
    actions: dict[str, dict[str, Any]] = {
        "disable": {"disabled": True},
        "enable": {"disabled": False},
        "promote": {"roles": ROLE_ADMIN},
        "demote": {"roles": ROLE_USER},
    }
    changes = actions.get(action or "", {})
    if changes:
        services().accounts.update_user(user_id, **changes)
    return _back("pages.admin")


@bp.post("/admin/files/<ident>/delete")
@admin_required()
def admin_delete(ident: str) -> BaseResponse:
    check_csrf()
    services().access.delete(ident, caller())
    return _back("pages.admin")


# --- Help and ShareX -----------------------------------------------------------------


@bp.get("/help")
def help_page() -> str:
    return render_template("help.html", base=base_url())


@bp.post("/help/sharex.sxcu")
@login_required
def sharex() -> Response:
    """A ShareX custom uploader with a new upload-only token of the signed-in user."""
    check_csrf()
    _, token = services().accounts.create_token(principal(), "ShareX", ["upload"])
    body = json.dumps(sharex_config(base_url(), token), indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="pastefile.sxcu"'
    return response


def sharex_config(base: str, token: str) -> dict[str, Any]:
    return {
        "Version": "15.0.0",
        "Name": "pastefile",
        "DestinationType": "ImageUploader, TextUploader, FileUploader",
        "RequestMethod": "POST",
        "RequestURL": f"{base}/api/v1/files",
        "Headers": {"Authorization": f"Bearer {token}"},
        "Body": "MultipartFormData",
        "FileFormName": "file",
        "URL": "{json:links.raw}",
        "ThumbnailURL": "{json:links.raw}",
        "DeletionURL": "{json:links.self}",
    }
