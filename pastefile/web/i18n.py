"""English and Simplified Chinese with Flask-Babel.

The language is the ``lang`` cookie set by the switcher, else the best match of
``Accept-Language``. Catalogues live in ``pastefile/web/translations``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response as BaseResponse

LANGUAGES = {"en": "English", "zh": "简体中文"}
COOKIE = "lang"
TRANSLATIONS = Path(__file__).with_name("translations")

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@bp.get("/lang/<code>")
def switch(code: str) -> BaseResponse:
    response = redirect(safe_next(request.args.get("next")), code=303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def html_lang() -> str:
    return "zh-CN" if str(get_locale()) == "zh" else "en"


def install_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(languages=LANGUAGES, html_lang=html_lang)
