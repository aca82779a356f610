"""What every template gets (filters, globals) and ``GET /ui/code.css``,
the code highlighting styles of the file card."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Flask, Response
from flask_babel import ngettext

from pastefile.services.humanize import format_size
from pastefile.web.auth import csrf_token, current_principal
from pastefile.web.ui.cards import pygments_css
from pastefile.web.ui.dashboards import stats_panel

# Files above this go through tus (/api/v1/uploads) from the upload page.
TUS_THRESHOLD = 32 * 1024 * 1024
# Thumbnails a grid shows before any scroll (a row at 1440 px): loaded at once, since the
# largest of them is what the page is judged by; the rest only when scrolled to.
FIRST_SCREEN = 6

bp = Blueprint("templating", __name__)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals.update(
        tus_threshold=TUS_THRESHOLD,
        first_screen=FIRST_SCREEN,
        csrf_token=csrf_token,
        current_user=current_principal,
        stats_panel=stats_panel,
    )


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


@bp.get("/ui/code.css")
def code_css() -> Response:
    response = Response(_code_css(), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
