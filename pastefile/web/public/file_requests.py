"""``/u/<code>``: a file request's upload-only page (``GET``), an upload into it
(``POST``, multipart, one ``file`` part) and its password form (``POST /u/<code>/unlock``).

Whoever has the link uploads; the file is the request's owner's, and the answer
is a receipt (name, size, sha256), never a link (services/file_requests.py).
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.file_requests import FileRequest
from pastefile.errors import MissingFile, PasswordRequired, WrongPassword
from pastefile.services.file_requests import Receipt, allowed_types_of
from pastefile.web.access import unlock
from pastefile.web.api.schemas import ReceiptOut
from pastefile.web.auth import caller, check_csrf
from pastefile.web.context import services
from pastefile.web.negotiation import json_response, wants_html
from pastefile.web.uploading import spend_upload_budget

bp = Blueprint("file_requests", __name__)


@bp.get("/u/<code>")
def request_page(code: str) -> Response | str:
    try:
        found = services().requests.open(code, caller())
    except PasswordRequired as exc:
        if not wants_html():
            raise
        return _password_form(code, exc)
    if not wants_html():
        return json_response(_public(found))
    return _page(found)


@bp.post("/u/<code>")
def upload_to_request(code: str) -> Response | str:
    """One file into the request: the upload budget, the request's rules, the pipeline."""
    spend_upload_budget()  # before a byte of the body is read
    svc = services().requests
    found = svc.open(code, caller())
    svc.check_room(found, None)
    part = request.files.get("file")
    if part is None or not part.filename:
        raise MissingFile("send the file in a multipart field named 'file'")
    receipt = svc.take(found, part.stream, part.filename)  # type: ignore[arg-type]
    if wants_html():
        return _page(svc.open(code, caller()), receipt, status=201)  # type: ignore[return-value]
    return json_response(receipt_out(receipt).model_dump(mode="json"), status=201)


@bp.post("/u/<code>/unlock")
def unlock_request(code: str) -> BaseResponse:
    check_csrf()
    asked = replace(caller(), password=request.form.get("password") or None)
    try:
        found = services().requests.open(code, asked)
    except (PasswordRequired, WrongPassword) as exc:  # wrong ones are rate limited
        return _password_form(code, exc)
    unlock(found)
    return redirect(url_for("file_requests.request_page", code=code), code=303)


def receipt_out(receipt: Receipt) -> ReceiptOut:
    return ReceiptOut(
        filename=receipt.filename,
        size=receipt.size,
        sha256=receipt.sha256,
        received_at=receipt.received_at,
    )


def _public(found: FileRequest) -> dict[str, object]:
    """What anyone with the link may know: the request, not what others sent."""
    return {
        "title": found.title,
        "message": found.message,
        "allowed_types": list(allowed_types_of(found)),
        "files_left": _left(found.max_files, found.received_files),
        "bytes_left": _left(found.max_bytes, found.received_bytes),
        "expires_at": found.expires_at.isoformat() if found.expires_at else None,
        "max_upload_size": int(services().settings.max_upload_size),
    }


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(limit - used, 0)


def _page(found: FileRequest, receipt: Receipt | None = None, status: int = 200) -> Response:
    html = render_template(
        "request_upload.html",
        req=found,
        info=_public(found),
        receipt=receipt,
        code=found.code,
    )
    return Response(html, status=status, mimetype="text/html")


def _password_form(code: str, error: PasswordRequired | WrongPassword) -> Response:
    html = render_template(
        "unlock.html",
        ident=code,
        error=error.detail,
        heading="request",
        action=url_for("file_requests.unlock_request", code=code),
    )
    return Response(html, status=403, mimetype="text/html")
