"""The requests page: ``GET /account/requests`` (your file requests and a form to
ask for files), ``POST /account/requests`` (create), ``POST /account/requests/<id>/close``
and ``.../open``. The API (``/api/v1/requests``) does the same for programs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pastefile.errors import PasteFileError
from pastefile.services.access import Caller
from pastefile.services.file_requests import RequestFields, allowed_types_of, is_open
from pastefile.web.auth import check_csrf, login_required, principal
from pastefile.web.context import base_url, services
from pastefile.web.uploading import whole_number

bp = Blueprint("request_pages", __name__)
EXPIRIES = ("", "86400", "604800", "2592000")
MB = 1000 * 1000


@bp.get("/account/requests")
@login_required
def requests_page() -> tuple[str, int]:
    return _page()


def _page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    rows = services().requests.owned(principal().user_id)
    html = render_template(
        "requests.html",
        rows=rows,
        error=error,
        link=lambda r: f"{base_url()}/u/{r.code}",
        is_open=is_open,
        types_of=allowed_types_of,
        form=request.form if request.method == "POST" else {},
    )
    return html, status


@bp.post("/account/requests")
@login_required
def create_request() -> BaseResponse | tuple[str, int]:
    check_csrf()
    try:
        fields = _fields(request.form)
        made = services().requests.create(principal(), fields)
    except PasteFileError as exc:
        return _page(exc.detail, 400)
    flash(
        _(
            "Created the request %(title)s. Send its link to whoever should upload.",
            title=made.title,
        ),
        "ok",
    )
    return redirect(url_for("request_pages.requests_page"), code=303)


def _fields(form: Any) -> RequestFields:
    megabytes = whole_number(form, "max_megabytes")
    expiry = form.get("expires_in", "")
    return RequestFields(
        title=form.get("title", ""),
        message=form.get("message") or None,
        max_files=whole_number(form, "max_files"),
        max_bytes=megabytes * MB if megabytes is not None else None,
        allowed_types=tuple(form.get("allowed_types", "").replace(",", " ").split()),
        expires_in=int(expiry) if expiry in EXPIRIES and expiry else None,
        password=form.get("password") or None,
    )


@bp.post("/account/requests/<ident>/<any(close, open):action>")
@login_required
def close_or_open(ident: str, action: str) -> BaseResponse:
    check_csrf()
    svc, me = services().requests, Caller(principal=principal())
    found = svc.get(ident, me)
    svc.update(ident, me, found.version, RequestFields(closed=action == "close"))
    if action == "close":
        flash(
            _("Closed the request %(title)s: its link takes no more files.", title=found.title),
            "ok",
        )
    else:
        flash(_("Opened the request %(title)s again.", title=found.title), "ok")
    return redirect(url_for("request_pages.requests_page"), code=303)
