"""``GET /lang/<en|zh|es>?next=/path``: the language switch (a cookie), back to the page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from pastefile.web.i18n import COOKIE, LANGUAGES

bp = Blueprint("language", __name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative URL.

    Browsers drop tabs and newlines from a Location and read a backslash as a
    slash, so ``/%09/evil.example`` would lead off-site: any control character,
    whitespace or backslash sends the visitor home instead.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(ch.isspace() or ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@bp.get("/lang/<code>")
def switch(code: str) -> BaseResponse:
    response = redirect(safe_next(request.args.get("next")), code=303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
