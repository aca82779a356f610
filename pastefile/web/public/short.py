"""``GET /s/<code>``: a short link, redirected to the file's preview page or the
collection's page. One namespace, split by length (services/ids.py)."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.services.ids import is_collection_code
from pastefile.web.access import resolve_file
from pastefile.web.auth import caller
from pastefile.web.context import services

bp = Blueprint("short", __name__)


@bp.get("/s/<code>")
def short(code: str) -> BaseResponse:
    # The password is asked on the preview or collection page, not here.
    if is_collection_code(code):
        collection = services().collections.resolve(
            code, caller(), by_short_code=True, check_password=False
        )
        return redirect(url_for("collections.page", ident=collection.public_id), code=302)
    found = resolve_file(code, by_short_code=True, check_password=False)
    return redirect(url_for("preview.preview", ident=found.public_id), code=302)
