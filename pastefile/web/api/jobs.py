"""``/api/v1/jobs``: list, read, cancel and retry background jobs.

Users see their own jobs; operators (the OPERATOR permission) see everyone's
and also get the traceback. Someone else's job does not exist for you (404).
These routes keep the job API's own rules (auth.JOBS), not the REST API's
blueprint behaviour (blueprints.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from pastefile.db.jobs import STATUSES, Job
from pastefile.errors import InvalidInput
from pastefile.jobs.kinds import KINDS
from pastefile.jobs.presenters import job_json
from pastefile.jobs.service import JobQuery, sees_every_job
from pastefile.services.accounts import Principal
from pastefile.web.auth import JOBS, check_csrf, principal, require_scope
from pastefile.web.context import services
from pastefile.web.negotiation import json_response

bp = Blueprint("jobs_api", __name__)
MAX_PER_PAGE = 200


def present(jobs: list[Job], who: Principal) -> list[dict[str, Any]]:
    names = services().jobs.file_public_ids(jobs)
    operator = sees_every_job(who)
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
    everyone = sees_every_job(who) and request.args.get("owner") != "me"
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
    jobs, total = services().jobs.search(query)
    response = json_response(present(jobs, who))
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
    return json_response(present([services().jobs.visible(job_id, who)], who)[0])


@bp.post("/api/v1/jobs/<int:job_id>/cancel")
@require_scope("upload", realm=JOBS)
def cancel_job(job_id: int) -> Response:
    check_csrf(api=True)
    who = principal()
    services().jobs.visible(job_id, who)
    return json_response(present([services().jobs.cancel(job_id)], who)[0])


@bp.post("/api/v1/jobs/<int:job_id>/retry")
@require_scope("upload", realm=JOBS)
def retry_job(job_id: int) -> Response:
    check_csrf(api=True)
    who = principal()
    services().jobs.visible(job_id, who)
    job = services().jobs.retry(job_id)
    return json_response(present([job], who)[0], status=202)
