"""``GET /`` (the upload page), ``POST /`` (a multipart upload) and
``PUT /<filename>`` (a raw body, as 0x0.st)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from pastefile.errors import MissingFile
from pastefile.services.uploads import UploadResult
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response, wants_html
from pastefile.web.presenters import card_context, file_json, with_location
from pastefile.web.uploading import (
    into_collection,
    prepare_upload,
    requested_size,
    spend_upload_budget,
)

bp = Blueprint("upload", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html", max_upload=services().settings.max_upload_size)


@bp.post("/")
def upload() -> Response:
    spend_upload_budget()  # before a byte of the body is read
    resize = requested_size(request.form)
    part = request.files.get("file")
    if part is None or not part.filename:
        raise MissingFile("send the file in a multipart field named 'file'")
    into = into_collection(request.form, prepare_upload(request.form))
    prepared = into.prepared
    result = services().uploads.finish(part.stream, part.filename, resize, prepared.options)  # type: ignore[arg-type]
    into.add(result)
    return _upload_response(result, prepared.manage_token if result.created else None)


@bp.put("/<path:filename>")
def upload_raw(filename: str) -> Response:
    spend_upload_budget()
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


def _upload_response(result: UploadResult, token: str | None = None) -> Response:
    status = 201 if result.created else 200
    if wants_html():
        html = render_template("preview.html", **card_context(result.file, base_url()))
        return with_location(Response(html, status=status, mimetype="text/html"), result.file)
    body = file_json(result.file, base_url())
    if result.job_ids:
        body["jobs"] = result.job_ids  # the background jobs this upload started
    if token:  # an anonymous upload's management token, as 0x0.st
        body["token"] = token
    response = with_location(json_response(body, status), result.file)
    if token:
        response.headers["X-Token"] = token
    return response
