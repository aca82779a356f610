"""``GET /p/<id>`` (the preview page, or the file's JSON for non-browsers),
``GET /p/<id>/row`` (the upload page's compact result row) and
``POST /p/<id>/unlock`` (the password prompt's form)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.models import File
from pastefile.errors import PasswordRequired, WrongPassword
from pastefile.web.access import resolve_file, strip_ext, unlock
from pastefile.web.auth import check_csrf
from pastefile.web.context import base_url
from pastefile.web.negotiation import json_response, wants_html
from pastefile.web.presenters import card_context, file_json, result_context

bp = Blueprint("preview", __name__)


@bp.get("/p/<ident>")
def preview(ident: str) -> Response | str:
    try:
        found = resolve_file(strip_ext(ident))
    except PasswordRequired as exc:
        if not wants_html():
            raise
        return password_form(strip_ext(ident), exc)
    if not wants_html():
        return json_response(file_json(found, base_url()))
    return file_page(found)


def file_page(file: File) -> str:
    """The file's card; for an encrypted file, the page that decrypts it in the browser
    with the key from the URL fragment (``/static/e2e/decrypt.js``): the server has
    nothing of it to show."""
    if file.encrypted:
        return render_template("e2e.html", file=file, data=file_json(file, base_url()))
    return render_template("preview.html", **card_context(file, base_url()))


@bp.get("/p/<ident>/row")
def result_row(ident: str) -> Response:
    """One compact result row for the upload page, under the file's read rules."""
    try:
        found = resolve_file(ident)
    except PasswordRequired:
        abort(403)
    html = render_template("_result_row.html", **result_context(found, base_url()))
    return Response(html, mimetype="text/html")


@bp.post("/p/<ident>/unlock")
def unlock_file(ident: str) -> BaseResponse:
    check_csrf()
    try:
        found = resolve_file(ident, password=request.form.get("password") or None)
    except (PasswordRequired, WrongPassword) as exc:  # wrong ones are rate limited
        return password_form(ident, exc, then=request.form.get("then", ""))
    unlock(found)
    then = AFTER_UNLOCK.get(request.form.get("then", ""), "preview.preview")
    return redirect(url_for(then, ident=found.public_id), code=303)


# Where the password form goes once the file is unlocked: only these, never a URL.
AFTER_UNLOCK = {"raw": "files.raw", "download": "files.download"}


def password_form(
    ident: str, error: PasswordRequired | WrongPassword, status: int = 403, then: str = ""
) -> Response:
    html = render_template("unlock.html", ident=ident, error=error.detail, then=then)
    return Response(html, status=status, mimetype="text/html")
