"""How a job looks to clients and in events. The traceback is for operators only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pastefile.db.jobs import Job


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") if value else None


def _public(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """The job's parameters without secrets: stored hashes become "set"."""
    if not params or not isinstance(params.get("options"), dict):
        return params
    options = {
        key: ("set" if value and key.endswith("_hash") else value)
        for key, value in params["options"].items()
    }
    return {**params, "options": options}


def job_json(job: Job, file_public_id: str | None = None, operator: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "queue": job.queue,
        "progress": job.progress,
        "message": job.message,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "error": job.error,
        "result": job.result,
        "params": _public(job.params),
        "file": file_public_id,
        "owner_id": job.owner_id,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "updated_at": _iso(job.updated_at),
        "run_after": _iso(job.run_after),
    }
    if operator:
        body["traceback"] = job.traceback
        body["worker"] = job.worker
        body["task_id"] = job.task_id
    return body


def job_event(job: Job) -> dict[str, Any]:
    return {"type": "job", "owner_id": job.owner_id, "job": job_json(job)}


def file_event(public_id: str, status: str, owner_id: int | None) -> dict[str, Any]:
    return {"type": "file", "owner_id": owner_id, "file": {"id": public_id, "status": status}}
