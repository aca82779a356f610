"""English, Simplified Chinese and Spanish with Flask-Babel.

The language is the ``lang`` cookie set by the switcher (pastefile/web/ui/language.py),
else the best match of ``Accept-Language``. Catalogues live in ``pastefile/web/translations``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = {"en": "English", "zh": "简体中文", "es": "Español"}
COOKIE = "lang"
TRANSLATIONS = Path(__file__).with_name("translations")


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(languages=LANGUAGES, html_lang=html_lang)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def html_lang() -> str:
    locale = str(get_locale())
    return "zh-CN" if locale == "zh" else locale if locale in LANGUAGES else "en"
