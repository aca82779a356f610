"""``GET|POST /r/<id>?w=&h=``: a crop-resized copy of an image, stored as a new file."""

from __future__ import annotations

from flask import Blueprint, Response, request

from pastefile.web.access import resolve_file, strip_ext
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response
from pastefile.web.presenters import file_json, with_location
from pastefile.web.uploading import derived_options, requested_size

bp = Blueprint("resize", __name__)


@bp.route("/r/<ident>", methods=["GET", "POST"])
def resize(ident: str) -> Response:
    size = requested_size(request.values, required=True)
    assert size is not None
    source = resolve_file(strip_ext(ident))
    # A restricted source's copy keeps its owner and rules; only its manager makes one.
    copy_options = derived_options(source)
    result = services().uploads.resize_existing(
        source, size, copy_options, request.remote_addr or "-"
    )
    body = file_json(result.file, base_url())
    status = 201 if result.created else 200
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "text/plain":
        return Response(body["url_i"], mimetype="text/plain", status=status)
    return with_location(json_response(body, status), result.file)
