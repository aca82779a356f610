"""The soak's end checks: every acknowledged upload reads back, and after ``gc`` the
storage holds exactly the live blobs and variants."""

from __future__ import annotations

import hashlib
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from pastefile.composition import Services, build_services
from pastefile.config import load_settings
from pastefile.db.models import Blob
from pastefile.db.types import utcnow
from pastefile.storage.local import LocalStorage
from tests.support.deploy import CELERY_PASTEFILE, ROOT
from tests.support.soak_workload import GONE, Client, Entry

JOBS_SETTLE_SECONDS = 300.0  # the Celery worker's backlog at the end of the run


def read_back(clients: list[Client]) -> list[str]:
    """Each client's uploads, the clients in parallel; what was lost."""
    with ThreadPoolExecutor(len(clients)) as pool:
        return [lost for found in pool.map(_read_back, clients) for lost in found]


def _read_back(client: Client) -> list[str]:
    """Each live upload byte-exact by sha256; each deleted or expired one gone."""
    entries = client.files
    wait = max((e.gone_after for e in entries if e.state != "live"), default=0.0)
    time.sleep(max(0.0, wait - time.monotonic()))
    lost = []
    for entry in entries:
        if entry.state == "live":
            answer = client.call("read-back", "GET", f"/d/{entry.id}", (200,))
            if hashlib.sha256(answer.body).hexdigest() != entry.sha256:
                lost.append(f"{entry.kind} {entry.id}: {answer.status}, not the bytes acknowledged")
        else:
            answer = client.call(f"read-back {entry.state}", "GET", f"/i/{entry.id}", GONE)
            if answer.status not in GONE:
                lost.append(f"{entry.kind} {entry.id} {entry.state}: still answers {answer.status}")
    return lost


def jobs_settled(client: Client, entries: list[Entry]) -> list[str]:
    """Once the user's job queue has drained, every live image's upload jobs (probe,
    thumbnail) have succeeded."""
    deadline = time.monotonic() + JOBS_SETTLE_SECONDS
    while _unfinished(client) and time.monotonic() < deadline:
        time.sleep(2)
    images = [e for e in entries if e.image and e.state == "live"]
    found = []
    for entry in images:
        jobs = _jobs_of(client, entry)
        kinds = {str(j["kind"]) for j in jobs if j["status"] == "succeeded"}
        if not {"probe", "thumbnail"} <= kinds:
            seen = [(j["kind"], j["status"], j["attempts"], j["error"]) for j in jobs]
            found.append(f"image {entry.id}: its upload jobs did not all succeed: {seen}")
    return found


def _unfinished(client: Client) -> int:
    total = 0
    for status in ("queued", "running"):
        path = f"/api/v1/jobs?status={status}&per_page=1"
        answer = client.call("jobs settled", "GET", path, (200,), None, client.bearer)
        total += int(answer.headers.get("X-Total-Count", "1"))
    return total


def _jobs_of(client: Client, entry: Entry) -> list[dict[str, object]]:
    path = f"/api/v1/jobs?file={entry.id}"
    answer = client.call("jobs settled", "GET", path, (200,), None, client.bearer)
    return answer.json_list() if answer.status == 200 else []


def run_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [CELERY_PASTEFILE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise AssertionError(f"pastefile {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout.strip()


def collect(env: dict[str, str]) -> list[str]:
    """``pastefile sweep`` then ``gc`` with no grace: nothing is in flight any more."""
    quick = {**env, "PASTEFILE_GC_GRACE_SECONDS": "0", "PASTEFILE_TEMP_MAX_AGE_SECONDS": "1"}
    time.sleep(1.5)  # older than the temp age
    return [run_command(quick, "sweep"), run_command(quick, "gc")]


def services_of(env: dict[str, str]) -> Services:
    """This process's parts, on the cluster's settings."""
    settings = {
        key.removeprefix("PASTEFILE_").lower(): value
        for key, value in env.items()
        if key.startswith("PASTEFILE_") and value != ""
    }
    return build_services(load_settings(**settings, app_env="production"))


def storage_problems(env: dict[str, str], entries: list[Entry]) -> list[str]:
    """After gc: stored bytes == blob rows, every row referenced, nothing else stored."""
    services = services_of(env)
    try:
        stored = {sha for sha, _ in services.storage.list_blobs()}
        with services.db.read() as session:
            rows = set(session.scalars(select(Blob.sha256)))
            later = utcnow() + timedelta(days=1)
            unreferenced = services.blobs.unreferenced(session, later, 1000)
        found = [f"blob without bytes: {sha}" for sha in sorted(rows - stored)]
        found += [f"bytes without a row: {sha}" for sha in sorted(stored - rows)]
        found += [f"a blob nothing references: {sha}" for sha in unreferenced]
        found += [f"left behind: {name}" for name in _leftovers(services, rows)]
        found += _ledger_problems(entries, stored)
    finally:
        services.close()
    return found


def _ledger_problems(entries: list[Entry], stored: set[str]) -> list[str]:
    kept = {e.sha256 for e in entries if e.state == "live"}
    gone = {e.sha256 for e in entries if e.state == "deleted"} - kept
    found = [f"a live upload's bytes are not stored: {sha}" for sha in sorted(kept - stored)]
    found += [f"a deleted upload's bytes are still stored: {sha}" for sha in sorted(gone & stored)]
    return found


def _leftovers(services: Services, rows: set[str]) -> list[str]:
    """Everything stored that is not a blob's bytes: temp, part and incoming files."""
    storage = services.storage
    if isinstance(storage, LocalStorage):
        root = storage.root
        names = (p for p in root.rglob("*") if p.is_file())
        return sorted(
            str(p.relative_to(root)) for p in names if not _is_blob(p, storage.objects, rows)
        )
    client, bucket, prefix = storage.client, storage.bucket, storage.prefix  # type: ignore[attr-defined]
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return sorted(
        [k for k in keys if k.rsplit("/", 1)[-1] not in rows or "/tmp/" in f"/{k}"]
        + [f"multipart upload {u['Key']}" for u in uploads]
    )


def _is_blob(path: Path, objects: Path, rows: set[str]) -> bool:
    return path.parent.parent.parent == objects and path.name in rows
