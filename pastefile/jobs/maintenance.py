"""The periodic jobs: ``expire_sweep`` and ``gc``.

``expire_sweep`` deletes expired files through the services, so their bytes
go with the last reference and their links answer 410, and abandoned resumable
(tus) uploads with their part files. ``gc`` removes what
crashes leave behind: blobs nothing references (older than a grace period,
so an upload in flight is never touched) and stale temp files; then it prunes
finished job rows past their retention (``retention.py``).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import column, exists, inspect, select, table
from sqlalchemy.orm import Session

from pastefile.db.models import Blob, File
from pastefile.db.types import utcnow
from pastefile.errors import NotFound
from pastefile.jobs.context import JobContext
from pastefile.jobs.retention import prune_jobs

_BATCH = 500


def expire_sweep(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(5, "looking for expired files")
    access = getattr(ctx.services, "access", None)
    if access is not None and hasattr(access, "sweep"):
        # The accounts layer leaves tombstones so expired links answer 410.
        deleted = access.sweep(_BATCH)
    else:
        deleted = _delete_expired(ctx)
    ctx.progress(80, "removing abandoned resumable uploads")
    return {"deleted": deleted, "uploads": ctx.services.tus.expire(_BATCH)}


def _delete_expired(ctx: JobContext) -> int:
    with ctx.services.db.read() as session:
        query = select(File.public_id).where(File.expires_at <= utcnow()).limit(_BATCH)
        doomed = list(session.scalars(query))
    deleted = 0
    for public_id in doomed:
        try:
            ctx.services.files.delete(public_id)
            deleted += 1
        except NotFound:
            continue  # a user or another sweep got there first
    return deleted


def gc(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.services.settings
    ctx.progress(5, "removing stale temp files")
    temp = ctx.services.storage.cleanup_temp(settings.temp_max_age_seconds)
    ctx.progress(30, "removing unreferenced blobs")
    rows = _collect_blob_rows(ctx, settings.gc_grace_seconds)
    ctx.progress(70, "removing stray objects")
    stray = _collect_stray_objects(ctx, settings.gc_grace_seconds)
    pruned = prune_jobs(ctx)
    return {"temp_files": temp, "orphan_blobs": rows, "stray_objects": stray, "pruned_jobs": pruned}


def _blob_references(session: Session) -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to ``blobs.sha256``, read from the database,
    so tables other features add (image variants, …) keep their blobs alive too."""
    inspector = inspect(session.connection())
    found: list[tuple[str, str]] = []
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] == Blob.__tablename__:
                found.extend((name, col) for col in fk["constrained_columns"])
    return found


def _unreferenced(references: list[tuple[str, str]]) -> list[Any]:
    return [
        ~exists().where(column(col) == Blob.sha256).select_from(table(name, column(col)))
        for name, col in references
    ]


def _collect_blob_rows(ctx: JobContext, grace: int) -> int:
    db = ctx.services.db
    cutoff = utcnow() - timedelta(seconds=grace)
    with db.read() as session:
        unused = _unreferenced(_blob_references(session))
        query = select(Blob.sha256).where(Blob.created_at < cutoff, *unused).limit(_BATCH)
        candidates = list(session.scalars(query))
    removed = 0
    for sha in candidates:
        # Same protocol as a file delete: lock the blob row, check again, then unlink.
        with db.write() as session:
            blob = session.get(Blob, sha, with_for_update=True)
            again = select(Blob.sha256).where(Blob.sha256 == sha, *unused)
            if blob is None or session.scalar(again) is None:
                continue
            session.delete(blob)
            session.flush()
            ctx.services.storage.delete(sha)
            removed += 1
    return removed


def _collect_stray_objects(ctx: JobContext, grace: int) -> int:
    """Bytes on disk without a blob row: a crash between publishing and committing."""
    cutoff = time.time() - grace
    old = [sha for sha, mtime in ctx.services.storage.list_blobs() if mtime < cutoff]
    removed = 0
    for start in range(0, len(old), _BATCH):
        removed += _remove_stray(ctx, old[start : start + _BATCH])
    return removed


def _remove_stray(ctx: JobContext, shas: list[str]) -> int:
    db, storage = ctx.services.db, ctx.services.storage
    with db.read() as session:
        known = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(shas))))
    removed = 0
    for sha in (s for s in shas if s not in known):
        with db.write() as session:
            if session.get(Blob, sha, with_for_update=True) is None:
                storage.delete(sha)
                removed += 1
    return removed
