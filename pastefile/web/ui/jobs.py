"""``GET /jobs``: the job console, a table that follows the ``/api/v1/events``
WebSocket live and polls ``/api/v1/jobs`` without it (static/jobs.js)."""

from __future__ import annotations

from flask import Blueprint, render_template

from pastefile.db.jobs import STATUSES
from pastefile.jobs.kinds import KINDS
from pastefile.web.auth import csrf_token

bp = Blueprint("jobs_console", __name__)


@bp.get("/jobs")
def console() -> str:
    # The page itself shows nothing private: the API it calls checks the caller.
    return render_template("jobs.html", kinds=list(KINDS), statuses=STATUSES, csrf=csrf_token())
