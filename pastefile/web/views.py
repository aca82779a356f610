"""The book's public routes: upload, raw, download, preview, short links, resize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from pastefile.db.models import File
from pastefile.errors import MissingFile, PasswordRequired
from pastefile.services.imaging.params import wants_transform
from pastefile.services.uploads import UploadResult
from pastefile.web.access import count_download, resolve_file, strip_ext
from pastefile.web.accounts import password_form
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response, wants_html
from pastefile.web.presenters import card_context, file_json
from pastefile.web.serving import apply_cache_policy, send_rendition, send_stored
from pastefile.web.uploading import derived_options, prepare_upload, requested_size

bp = Blueprint("core", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html", max_upload=services().settings.max_upload_size)


@bp.post("/")
def upload() -> Response:
    resize = requested_size(request.form)
    part = request.files.get("file")
    if part is None or not part.filename:
        raise MissingFile("send the file in a multipart field named 'file'")
    prepared = prepare_upload(request.form)
    result = services().uploads.finish(part.stream, part.filename, resize, prepared.options)  # type: ignore[arg-type]
    return _upload_response(result, prepared.manage_token if result.created else None)


@bp.put("/<path:filename>")
def upload_raw(filename: str) -> Response:
    prepared = prepare_upload(request.args)
    result = services().uploads.save_stream(
        request.stream, filename, requested_size(request.args), prepared.options
    )
    links = file_json(result.file, base_url())
    response = Response(links["url_p"] + "\n", status=201 if result.created else 200)
    response.mimetype = "text/plain"
    response.headers["Location"] = links["url_p"]
    if result.created and prepared.manage_token:
        response.headers["X-Token"] = prepared.manage_token  # as 0x0.st: manage it later
    return response


@bp.get("/i/<ident>")
def raw(ident: str) -> Response:
    svc = services()
    found = resolve_file(strip_ext(ident))
    if wants_transform(request.args):
        # ?w=&h=&fit=&fmt=&q=: a derived image from the pipeline (docs/images.md).
        return apply_cache_policy(found, send_rendition(svc.images.render(found, request.args)))
    count_download(found)
    return apply_cache_policy(found, send_stored(found, svc.storage, as_attachment=False))


@bp.get("/d/<ident>")
def download(ident: str) -> Response:
    svc = services()
    found = resolve_file(strip_ext(ident))
    count_download(found)
    return apply_cache_policy(found, send_stored(found, svc.storage, as_attachment=True))


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
    return render_template("preview.html", **card_context(found, base_url()))


@bp.get("/s/<code>")
def short(code: str) -> Any:
    found = resolve_file(code, by_short_code=True, check_password=False)
    return redirect(url_for("core.preview", ident=found.public_id), code=302)


@bp.route("/r/<ident>", methods=["GET", "POST"])
def resize(ident: str) -> Response:
    svc = services()
    size = requested_size(request.values, required=True)
    assert size is not None
    source = resolve_file(strip_ext(ident))
    # A restricted source's copy keeps its owner and rules; only its manager makes one.
    result = svc.uploads.resize_existing(source, size, derived_options(source))
    body = file_json(result.file, base_url())
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "text/plain":
        return Response(body["url_i"], mimetype="text/plain", status=201 if result.created else 200)
    return _created(json_response(body, 201 if result.created else 200), result.file)


def _upload_response(result: UploadResult, token: str | None = None) -> Response:
    status = 201 if result.created else 200
    if wants_html():
        html = render_template("preview.html", **card_context(result.file, base_url()))
        return _created(Response(html, status=status, mimetype="text/html"), result.file)
    body = file_json(result.file, base_url())
    if result.job_ids:
        body["jobs"] = result.job_ids  # the background jobs this upload started
    if token:  # an anonymous upload's management token, as 0x0.st
        body["token"] = token
    response = _created(json_response(body, status), result.file)
    if token:
        response.headers["X-Token"] = token
    return response


def _created(response: Response, file: File) -> Response:
    response.headers["Location"] = f"{base_url()}/p/{file.public_id}"
    return response
