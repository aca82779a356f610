"""``GET /help`` (curl recipes) and ``POST /help/sharex.sxcu`` (a ShareX
uploader config with a new upload-only token of the signed-in user)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template

from pastefile.web.auth import check_csrf, login_required, principal
from pastefile.web.context import base_url, services

bp = Blueprint("help", __name__)


@bp.get("/help")
def help_page() -> str:
    return render_template("help.html", base=base_url())


@bp.post("/help/sharex.sxcu")
@login_required
def sharex() -> Response:
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
