"""``GET /c/<id>`` (the collection page, or its JSON for non-browsers),
``GET /c/<id>.zip`` (every file the caller may read, as one resumable zip) and
``POST /c/<id>/unlock`` (the password form, the files' unlock flow).

The collection goes through the read gate (``CollectionService.resolve``); the
page and the zip hold only the files the caller could read one by one.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.collections import Collection
from pastefile.errors import PasswordRequired, WrongPassword
from pastefile.web.access import unlock
from pastefile.web.api.collections import collection_out
from pastefile.web.auth import caller, check_csrf
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response, wants_html
from pastefile.web.presenters import EDIT_LIMITS, can_manage
from pastefile.web.ui.cards import icon_for
from pastefile.web.ui.my_files import grid_thumb
from pastefile.web.zips import send_zip

bp = Blueprint("collections", __name__)


def _resolve(ident: str, password: str | None = None) -> Collection:
    who = caller()
    if password is not None:
        who = replace(who, password=password)
    return services().collections.resolve(ident, who)


@bp.get("/c/<ident>.zip")
def zip_download(ident: str) -> Response:
    try:
        found = _resolve(ident)
    except PasswordRequired as exc:
        if not wants_html():
            raise
        return password_form(ident, exc, then="zip")
    return send_zip(found, services().collections.zip_plan(found, caller()))


@bp.get("/c/<ident>")
def page(ident: str) -> Response | str:
    try:
        found = _resolve(ident)
    except PasswordRequired as exc:
        if not wants_html():
            raise
        return password_form(ident, exc)
    if not wants_html():
        return json_response(collection_out(found).model_dump(mode="json"))
    svc = services().collections
    files = svc.readable(found, caller())
    return render_template(
        "collection.html",
        collection=found,
        files=files,
        zip_size=svc.zip_plan(found, caller()).length,
        short_url=f"{base_url()}/s/{found.short_code}",
        page_url=f"{base_url()}/c/{found.public_id}",
        grid_thumb=grid_thumb,
        icon_for=icon_for,
        edit_limits=EDIT_LIMITS,
        **_management(found),
    )


def _management(found: Collection) -> dict[str, bool]:
    """Who gets the Edit form: ``can_manage`` for a signed-in owner or admin; for an
    anonymous collection the page carries it hidden and the script shows it when this
    browser holds the management token."""
    manager = can_manage(found, "collection")
    return {"can_manage": manager, "manageable": manager or found.owner_id is None}


@bp.post("/c/<ident>/unlock")
def unlock_collection(ident: str) -> BaseResponse:
    check_csrf()
    then = request.form.get("then", "")
    try:
        found = _resolve(ident, password=request.form.get("password") or None)
    except (PasswordRequired, WrongPassword) as exc:  # wrong ones are rate limited
        return password_form(ident, exc, then=then)
    unlock(found)
    target = "collections.zip_download" if then == "zip" else "collections.page"
    return redirect(url_for(target, ident=found.public_id), code=303)


def password_form(ident: str, error: PasswordRequired | WrongPassword, then: str = "") -> Response:
    html = render_template(
        "unlock.html",
        ident=ident,
        error=error.detail,
        then=then,
        action=url_for("collections.unlock_collection", ident=ident),
        heading="collection",
    )
    return Response(html, status=403, mimetype="text/html")
