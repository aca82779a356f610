"""Counting without slowing the hot path.

A request only adds to in-process dictionaries under a lock; a background
thread writes them in batches every ``stats_flush_seconds`` (and at exit).
A crash loses at most the counts of the last interval: that is the price of
not touching the database on every hit (docs/stats.md).

A flush the database refuses (down, locked, a deadlock) is not lost: what was
not written yet goes back into the buffer for the next flush, up to
``MAX_KEPT`` entries (counters, visitors, active users, uploads), beyond which
it is dropped with an error in the log, so memory cannot grow while the
database stays away. Counts of a file deleted meanwhile are skipped; the rest
are written.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pastefile.db.batches import padded
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.periodic import Flusher
from pastefile.stats.sql import add_counts, chunked
from pastefile.stats.stores import StatsStore

log = logging.getLogger(__name__)
KINDS = ("views", "hits", "downloads")
BATCH = 500
MAX_KEPT = 100_000


def visitor_id(salt: str, ip: str, user_agent: str) -> str:
    """The day's pseudonym of a visitor: no raw IP ever leaves this function."""
    data = f"{ip}\x00{user_agent}".encode("utf-8", "replace")
    return hashlib.blake2b(data, digest_size=16, key=salt.encode()[:64]).hexdigest()


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Batch:
    """What accumulated since the last flush."""

    counts: Counter[tuple[str, date, str]] = field(default_factory=Counter)
    visitors: set[tuple[str, date, str]] = field(default_factory=set)
    active: set[tuple[date, int]] = field(default_factory=set)
    uploads: list[str] = field(default_factory=list)
    # Downloads per file id, from counts already committed, for the store's ranking.
    downloads: Counter[int] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __len__(self) -> int:
        parts = (self.counts, self.visitors, self.active, self.uploads, self.downloads)
        return sum(len(part) for part in parts)

    def add(self, newer: Batch) -> None:
        """Add what came in since this batch was taken."""
        self.counts.update(newer.counts)
        self.visitors |= newer.visitors
        self.active |= newer.active
        self.uploads.extend(newer.uploads)
        self.downloads.update(newer.downloads)


class StatsRecorder:
    """Buffers counts in memory; ``flush`` writes them, a thread calls it."""

    def __init__(self, db: Database, store: StatsStore, interval: float = 2.0) -> None:
        self.db = db
        self.store = store
        self.interval = interval
        self.max_kept = MAX_KEPT
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._batch = Batch()
        self._salt: tuple[date, str] | None = None
        self._salt_lock = threading.Lock()
        self._pruned: date | None = None
        self._flusher = Flusher(self, "stats-flusher", StatsRecorder._after_fork)
        atexit.register(_close_ref, weakref.ref(self))

    # --- the hot path ------------------------------------------------------------

    def record_file(self, public_id: str, kind: str, ip: str, user_agent: str) -> None:
        day = today()
        salt = self._day_salt(day)
        with self._lock:
            self._batch.counts[(public_id, day, kind)] += 1
            if salt is not None:
                self._batch.visitors.add((public_id, day, visitor_id(salt, ip, user_agent)))
        self._flusher.start()

    def record_user(self, user_id: int) -> None:
        with self._lock:
            self._batch.active.add((today(), user_id))
        self._flusher.start()

    def record_upload(self, public_id: str) -> None:
        with self._lock:
            self._batch.uploads.append(public_id)
        self._flusher.start()

    def _day_salt(self, day: date) -> str | None:
        """The day's salt, fetched once per process and day; None (no visitor is
        recorded) when it cannot be had right now. It never fails a request."""
        cached = self._salt
        if cached is not None and cached[0] == day:
            return cached[1]
        with self._salt_lock:
            cached = self._salt
            if cached is not None and cached[0] == day:
                return cached[1]
            try:
                self._salt = (day, self.store.salt(day))
            except Exception:
                log.warning("stats: no visitor salt for %s yet", day, exc_info=True)
                return None
        return self._salt[1]

    def _after_fork(self) -> None:
        """In a forked child: the parent's counts are not ours (``Flusher`` restarts the thread)."""
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._salt_lock = threading.Lock()
        self._batch = Batch()

    # --- the flusher ---------------------------------------------------------------

    def take(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch

    def flush(self) -> int:
        """Write what is buffered; returns the number of counter rows written."""
        with self._flush_lock:
            batch = self.take()
            if not batch:
                return 0
            self._prune(batch)
            try:
                return self._write(batch)
            except Exception:
                self._keep(batch)
                return 0

    def _keep(self, left: Batch) -> None:
        """Put what a refused flush did not write back in front of the newer counts."""
        with self._lock:
            if len(left) + len(self._batch) > self.max_kept:
                log.exception(
                    "stats: a batch could not be written and is dropped"
                    " (%d entries waited, the bound is %d)",
                    len(left),
                    self.max_kept,
                )
                return
            left.add(self._batch)
            self._batch = left
        log.warning("stats: a batch could not be written; kept for the next flush", exc_info=True)

    def _write(self, batch: Batch) -> int:
        """Write each part, emptying it once written, so a retry repeats no addition."""
        written = 0
        ids = self._file_ids({key[0] for key in batch.counts} | {v[0] for v in batch.visitors})
        if batch.counts:
            written = self._write_counts(batch, ids)
        visitors = sorted({(ids[p], d, v) for p, d, v in batch.visitors if p in ids})
        for vpart in chunked(visitors, BATCH):  # adding a visitor twice is harmless
            self.store.add_visitors(vpart)
        batch.visitors.clear()
        if batch.active:
            self.store.add_active(sorted(batch.active))
            batch.active.clear()
        self.store.push_uploads(batch.uploads)
        batch.uploads.clear()
        self.store.add_downloads({f: n for f, n in batch.downloads.items() if n})
        batch.downloads.clear()
        return written

    def _write_counts(self, batch: Batch, ids: dict[str, int]) -> int:
        """All counters in one transaction, for the files that still exist then.

        Their rows are share-locked (SQLite: the write lock) so a delete waits
        for the commit instead of making the insert fail on the foreign key.
        """
        rows = _count_rows(batch.counts, ids)
        with self.db.write() as session:
            live = _lock_files(session, sorted({row["file_id"] for row in rows}))
            rows = [row for row in rows if row["file_id"] in live]
            for part in chunked(rows, BATCH):
                add_counts(session, part)
        batch.counts.clear()
        for row in rows:
            batch.downloads[row["file_id"]] += row["downloads"]
        return len(rows)

    def _prune(self, batch: Batch) -> None:
        """Once a day per process, off the request path: forget old salts."""
        day = today()
        if self._pruned == day or not batch.visitors:
            return
        try:
            self.store.prune_salts(day)
            self._pruned = day
        except Exception:  # another process prunes at the same time: try next flush
            log.info("stats: old salts not pruned this time", exc_info=True)

    def _file_ids(self, public_ids: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunked(sorted(public_ids), BATCH):
            stmt = select(File.public_id, File.id).where(File.public_id.in_(padded(part)))
            with self.db.read() as session:
                found.update({p: i for p, i in session.execute(stmt).all()})
        return found

    def close(self) -> None:
        self._flusher.stop()
        self.flush()


def _lock_files(session: Session, file_ids: list[int]) -> set[int]:
    live: set[int] = set()
    for part in chunked(file_ids, BATCH):
        stmt = select(File.id).where(File.id.in_(padded(part))).with_for_update(read=True)
        live.update(session.scalars(stmt))
    return live


def _count_rows(
    counts: Counter[tuple[str, date, str]], ids: dict[str, int]
) -> list[dict[str, Any]]:
    rows: dict[tuple[int, date], dict[str, Any]] = {}
    for (public_id, day, kind), n in counts.items():
        file_id = ids.get(public_id)
        if file_id is None:
            continue  # deleted in the meantime
        row = rows.setdefault(
            (file_id, day), {"file_id": file_id, "day": day, "views": 0, "hits": 0, "downloads": 0}
        )
        row[kind] += n
    return [rows[key] for key in sorted(rows)]


def _close_ref(ref: weakref.ref[StatsRecorder]) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.close()
