"""The periodic jobs: ``expire_sweep`` and ``gc``.

``expire_sweep`` deletes expired files through the services, so their bytes
go with the last reference and their links answer 410, and abandoned resumable
(tus) uploads with their part files. ``gc`` removes what
crashes leave behind: blobs nothing references (older than a grace period,
so an upload in flight is never touched) and stale temp files; then it prunes
finished job rows past their retention (``retention.py``) and, as old, the webhook
delivery log.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pastefile.db.models import Blob
from pastefile.db.types import utcnow
from pastefile.jobs.context import JobContext
from pastefile.jobs.retention import prune_jobs

if TYPE_CHECKING:
    from pastefile.composition import Services

_BATCH = 500


def expire_sweep(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(5, "looking for expired files")
    deleted = ctx.services.access.sweep(_BATCH)  # tombstones make their links answer 410
    ctx.progress(60, "removing expired collections")
    collections = ctx.services.collections.sweep(_BATCH)
    ctx.progress(80, "removing abandoned resumable uploads")
    return {
        "deleted": deleted,
        "collections": collections,
        "uploads": ctx.services.tus.expire(_BATCH),
    }


def gc(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(5, "removing stale temp files, unreferenced blobs and stray objects")
    # The webhook delivery log lives as long as finished jobs do.
    deliveries = ctx.services.notifier.webhooks.prune(ctx.services.settings.job_retention_days)
    return {
        **collect_garbage(ctx.services),
        "pruned_jobs": prune_jobs(ctx),
        "pruned_deliveries": deliveries,
    }


def collect_garbage(services: Services) -> dict[str, int]:
    """What crashes leave behind, past the grace period: the ``gc`` job and ``pastefile gc``."""
    settings = services.settings
    temp = services.storage.cleanup_temp(settings.temp_max_age_seconds)
    rows = _collect_blob_rows(services, settings.gc_grace_seconds)
    stray = _collect_stray_objects(services, settings.gc_grace_seconds)
    return {"temp_files": temp, "orphan_blobs": rows, "stray_objects": stray}


def _collect_blob_rows(services: Services, grace: int) -> int:
    db, blobs = services.db, services.blobs
    with db.read() as session:
        candidates = blobs.unreferenced(session, utcnow() - timedelta(seconds=grace), _BATCH)
    removed = 0
    for sha in candidates:
        with db.write() as session:  # release checks again under the row lock
            removed += blobs.release(session, sha)
    return removed


def _collect_stray_objects(services: Services, grace: int) -> int:
    """Bytes on disk without a blob row: a crash between publishing and committing.
    Storage is read a batch at a time, so a large store costs no more memory."""
    cutoff = time.time() - grace
    old = (sha for sha, mtime in services.storage.list_blobs() if mtime < cutoff)
    removed = 0
    while batch := list(itertools.islice(old, _BATCH)):
        removed += _remove_stray(services, batch)
    return removed


def _remove_stray(services: Services, shas: list[str]) -> int:
    db, storage = services.db, services.storage
    with db.read() as session:
        known = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(shas))))
    removed = 0
    for sha in (s for s in shas if s not in known):
        with db.write() as session:
            if session.get(Blob, sha, with_for_update=True) is None:
                storage.delete(sha)
                removed += 1
    return removed
