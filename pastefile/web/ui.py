"""Wiring of the web UI: i18n, the pages blueprint, template filters, scripts."""

from __future__ import annotations

from functools import cache

from flask import Flask, Response
from flask_babel import ngettext

from pastefile.services.humanize import humanize_bytes
from pastefile.web.cards import pygments_css
from pastefile.web.i18n import install_i18n

# Files above this go through tus (/api/v1/uploads) from the upload page.
TUS_THRESHOLD = 32 * 1024 * 1024


def ago(amount_unit: tuple[int, str]) -> str:
    amount, unit = amount_unit
    texts = {
        "days": ngettext("%(num)d day ago", "%(num)d days ago", amount),
        "hours": ngettext("%(num)d hour ago", "%(num)d hours ago", amount),
        "minutes": ngettext("%(num)d minute ago", "%(num)d minutes ago", amount),
        "seconds": ngettext("%(num)d second ago", "%(num)d seconds ago", amount),
    }
    return str(texts[unit])


@cache
def _code_css() -> str:
    return pygments_css()


def code_css() -> Response:
    response = Response(_code_css(), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def install_ui(app: Flask) -> None:
    from pastefile.web.pages import bp

    install_i18n(app)
    app.register_blueprint(bp)
    app.add_url_rule("/ui/code.css", "code_css", code_css)
    app.jinja_env.filters["filesize"] = humanize_bytes
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals["tus_threshold"] = TUS_THRESHOLD
