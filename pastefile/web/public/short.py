"""``GET /s/<code>``: a short link, redirected to the file's preview page."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from pastefile.web.access import resolve_file

bp = Blueprint("short", __name__)


@bp.get("/s/<code>")
def short(code: str) -> BaseResponse:
    # The password is asked on the preview page, not here.
    found = resolve_file(code, by_short_code=True, check_password=False)
    return redirect(url_for("preview.preview", ident=found.public_id), code=302)
