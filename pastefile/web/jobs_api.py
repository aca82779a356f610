"""The job console over HTTP: ``/api/v1/jobs``, upload-from-URL, live events, a page.

Users see their own jobs; operators (the OPERATOR permission) see everyone's
and also get the traceback. Events arrive over the WebSocket
``/api/v1/events``; the page falls back to polling when it cannot connect.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Response, render_template, request
from flask_sock import Sock

from pastefile.db.jobs import STATUSES, Job
from pastefile.errors import InvalidInput, NotFound, PasteFileError
from pastefile.jobs.kinds import KINDS
from pastefile.jobs.presenters import job_json
from pastefile.jobs.service import JobQuery, JobService
from pastefile.services.accounts import Permission, Principal
from pastefile.web.auth import JOBS, admit, check_csrf, csrf_token, principal, require_scope
from pastefile.web.context import PasteFileApp, services
from pastefile.web.negotiation import json_response
from pastefile.web.posters import bp as posters_bp

log = logging.getLogger(__name__)

bp = Blueprint("jobs", __name__)
files_bp = Blueprint("jobs_files", __name__)
sock = Sock()
MAX_PER_PAGE = 200
_PING_SECONDS = 15.0


def _jobs() -> JobService:
    return services().jobs


def _visible_job(job_id: int, who: Principal) -> Job:
    job = _jobs().get(job_id)
    if not (who.can(Permission.OPERATOR) or job.owner_id == who.user_id):
        raise NotFound("no such job")  # someone else's job does not exist for you
    return job


def _present(jobs: list[Job], who: Principal) -> list[dict[str, Any]]:
    names = _jobs().file_public_ids(jobs)
    operator = who.can(Permission.OPERATOR)
    return [job_json(j, names.get(j.file_id or 0), operator) for j in jobs]


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _file_id(public_id: str | None) -> int | None:
    if not public_id:
        return None
    found = services().files.row_id(public_id)
    return found if found is not None else -1  # an unknown file matches nothing


def _query(who: Principal) -> JobQuery:
    status, kind = request.args.get("status"), request.args.get("kind")
    if status and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    if kind and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    everyone = who.can(Permission.OPERATOR) and request.args.get("owner") != "me"
    return JobQuery(
        status=status or None,
        kind=kind or None,
        file_id=_file_id(request.args.get("file")),
        owner_id=None if everyone else who.user_id,
        page=_int_arg("page", 1, 1, 1_000_000),
        per_page=_int_arg("per_page", 50, 1, MAX_PER_PAGE),
    )


@bp.get("/api/v1/jobs")
@require_scope("read", realm=JOBS)
def list_jobs() -> Response:
    who = principal()
    query = _query(who)
    jobs, total = _jobs().search(query)
    response = json_response(_present(jobs, who))
    response.headers["X-Total-Count"] = str(total)
    _link_header(response, query, total)
    return response


def _link_header(response: Response, query: JobQuery, total: int) -> None:
    last = max(1, -(-total // query.per_page))
    pages = {"first": 1, "last": last}
    if query.page > 1:
        pages["prev"] = query.page - 1
    if query.page < last:
        pages["next"] = query.page + 1
    args = {k: v for k, v in request.args.items() if k != "page"}
    links = []
    for rel, page in pages.items():
        params = "&".join(f"{k}={v}" for k, v in {**args, "page": page}.items())
        links.append(f'<{request.base_url}?{params}>; rel="{rel}"')
    response.headers["Link"] = ", ".join(links)


@bp.get("/api/v1/jobs/<int:job_id>")
@require_scope("read", realm=JOBS)
def get_job(job_id: int) -> Response:
    who = principal()
    return json_response(_present([_visible_job(job_id, who)], who)[0])


@bp.post("/api/v1/jobs/<int:job_id>/cancel")
@require_scope("upload", realm=JOBS)
def cancel_job(job_id: int) -> Response:
    check_csrf(api=True)
    who = principal()
    _visible_job(job_id, who)
    return json_response(_present([_jobs().cancel(job_id)], who)[0])


@bp.post("/api/v1/jobs/<int:job_id>/retry")
@require_scope("upload", realm=JOBS)
def retry_job(job_id: int) -> Response:
    check_csrf(api=True)
    who = principal()
    _visible_job(job_id, who)
    job = _jobs().retry(job_id)
    return json_response(_present([job], who)[0], status=202)


@files_bp.post("/api/v1/files")
def fetch_file() -> Response:
    """Upload from a URL: ``{"url": …}`` starts a ``fetch_url`` job and answers 202.

    The REST API's ``POST /api/v1/files`` hands JSON bodies here.
    """
    who = admit("upload", JOBS)
    check_csrf(api=True)
    url = _json_body().get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInput('send {"url": "http(s)://…"}')
    job = start_fetch(_jobs(), url, who.user_id)
    response = json_response(_present([job], who)[0], status=202)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


def start_fetch(jobs: JobService, url: str, owner_id: int | None) -> Job:
    """The upload-from-URL entry point the REST API's files route can call too."""
    return jobs.submit("fetch_url", params={"url": url[:2000]}, owner_id=owner_id)


def _json_body() -> dict[str, Any]:
    try:
        body = orjson.loads(request.get_data(cache=False) or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


@bp.get("/jobs")
def console() -> str:
    """The job console: a table that follows events live, or polls without them."""
    return render_template("jobs.html", kinds=list(KINDS), statuses=STATUSES, csrf=csrf_token())


@sock.route("/api/v1/events", bp=bp)  # type: ignore[untyped-decorator]
def events(ws: Any) -> None:
    try:
        who = admit("read", JOBS)
    except PasteFileError as exc:
        ws.close(reason=1008, message=exc.detail[:120])
        return
    subscription = _jobs().events.subscribe(who.user_id, who.can(Permission.OPERATOR))
    try:
        ws.send(orjson.dumps({"type": "hello", "user_id": who.user_id}).decode())
        while ws.connected:
            event = subscription.get(timeout=_PING_SECONDS)
            ws.send(orjson.dumps(event or {"type": "ping"}).decode())
    finally:
        subscription.close()


def init_jobs(app: PasteFileApp) -> None:
    """Register the job routes; start the in-process runner unless testing."""
    app.register_blueprint(bp)
    app.register_blueprint(posters_bp)
    # The REST API's own files route takes over when it exists (and calls start_fetch).
    rules = app.url_map.iter_rules()
    if not any(r.rule == "/api/v1/files" and "POST" in (r.methods or ()) for r in rules):
        app.register_blueprint(files_bp)
    jobs = app.services.jobs
    app.teardown_appcontext(lambda _exc: jobs.sessions.remove())
    if app.services.settings.app_env != "testing":
        jobs.start()
