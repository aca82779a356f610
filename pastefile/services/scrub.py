"""The storage scrub: are the stored bytes still what their names say?

``Scrub.run`` streams every stored blob through sha256 (one chunk in memory at
a time, at a bounded rate) and compares storage with the rows:

- corrupt: bytes whose sha256 no longer matches their name;
- missing: bytes a file or variant row uses that are not stored;
- orphans: stored bytes no row uses;
- sourceless variants: cached variants of bytes no file uses any more.

With ``repair`` it sets corrupt bytes aside (``Storage.quarantine``), marks
the files that used them or whose bytes are missing ``damaged`` (the read
gate then answers 500 ``damaged``, see docs/api.md), drops variants it
cannot serve, and removes orphans older than the gc grace period. A damaged
file whose bytes are back and sound (restored from a backup) is healed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from pastefile.db.database import Database
from pastefile.db.models import Blob, File, Variant
from pastefile.db.types import utcnow
from pastefile.services.blobs import BlobStore
from pastefile.services.file_cache import FileLookups
from pastefile.storage.base import Storage

DAMAGED = "damaged"
CHUNK = 1024 * 1024
_EXAMPLES = 20

Advance = Callable[[int], None]


@dataclass
class ScrubReport:
    checked: int = 0
    bytes: int = 0
    seconds: float = 0.0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    sourceless_variants: list[int] = field(default_factory=list)
    repaired: dict[str, int] = field(default_factory=dict)
    finished_at: str = ""
    # Set when the time budget ran out: the next slice starts after this sha256, and
    # only the last slice compares storage with the rows.
    resume_after: str = ""

    @property
    def problems(self) -> int:
        return (
            len(self.corrupt)
            + len(self.missing)
            + len(self.orphans)
            + len(self.sourceless_variants)
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON summary: counts, and the first few of each kind to look at."""
        return {
            "checked": self.checked,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "problems": self.problems,
            "corrupt": len(self.corrupt),
            "missing": len(self.missing),
            "orphans": len(self.orphans),
            "sourceless_variants": len(self.sourceless_variants),
            "examples": {
                "corrupt": self.corrupt[:_EXAMPLES],
                "missing": self.missing[:_EXAMPLES],
                "orphans": self.orphans[:_EXAMPLES],
                "sourceless_variants": self.sourceless_variants[:_EXAMPLES],
            },
            "repaired": dict(self.repaired),
            "finished_at": self.finished_at,
            "partial": bool(self.resume_after),
            "resume_after": self.resume_after,
        }


@dataclass(frozen=True)
class _Rows:
    """What the database says, read after storage was listed."""

    blobs: dict[str, datetime]  # sha256 -> created_at
    used: set[str]  # bytes a file or a variant serves
    file_shas: set[str]
    variants: list[tuple[int, str, str]]  # id, source sha256, sha256


class Throttle:
    """Sleeps so that reading stays at or under ``rate`` bytes per second (0: unbounded)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.done = 0

    def spend(self, amount: int) -> None:
        if self.rate <= 0:
            return
        self.done += amount
        ahead = self.done / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


def hash_blob(
    storage: Storage, sha256: str, throttle: Throttle, advance: Advance
) -> tuple[str, int] | None:
    """The sha256 and size of the stored bytes, streamed; None when they went meanwhile."""
    digest = hashlib.sha256()
    size = 0
    try:
        with storage.open(sha256) as reader:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                throttle.spend(len(chunk))
                advance(len(chunk))
    except FileNotFoundError:
        return None
    return digest.hexdigest(), size


class Scrub:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        blobs: BlobStore,
        lookups: FileLookups,
        grace_seconds: int,
    ) -> None:
        self.db = db
        self.storage = storage
        self.blobs = blobs
        self.lookups = lookups
        self.grace_seconds = grace_seconds

    def run(
        self,
        repair: bool = False,
        rate: int = 0,
        advance: Advance = lambda n: None,
        on_total: Callable[[int], None] = lambda n: None,
        after: str = "",
        budget: float | None = None,
    ) -> ScrubReport:
        """Check every blob (past ``after``, for at most ``budget`` seconds of hashing);
        with ``repair``, fix what can be fixed. Returns the report."""
        started = time.monotonic()
        stored = dict(self.storage.list_blobs())
        rows = self._rows()
        todo = sorted(sha for sha in stored if sha > after)
        on_total(self._total_size(todo))
        report = ScrubReport()
        deadline = started + budget if budget else None
        sound = self._hash_all(report, todo, stored, Throttle(rate), advance, deadline)
        if not report.resume_after:
            self._compare(report, rows, stored)
        if repair:
            report.repaired = self._repair(report, stored, sound)
        report.seconds = time.monotonic() - started
        report.finished_at = datetime.now(UTC).isoformat()
        return report

    # --- reading --------------------------------------------------------------------

    def _hash_all(
        self,
        report: ScrubReport,
        todo: list[str],
        stored: dict[str, float],
        throttle: Throttle,
        advance: Advance,
        deadline: float | None,
    ) -> set[str]:
        """Re-hash the blobs in ``todo``; returns the sound ones, records the corrupt ones."""
        sound: set[str] = set()
        last = ""
        for sha in todo:
            if deadline is not None and last and time.monotonic() > deadline:
                report.resume_after = last
                break
            last = sha
            found = hash_blob(self.storage, sha, throttle, advance)
            if found is None:
                stored.pop(sha)  # deleted since the listing: not a problem
                continue
            report.checked += 1
            report.bytes += found[1]
            if found[0] == sha:
                sound.add(sha)
            else:
                report.corrupt.append(sha)
        return sound

    def _rows(self) -> _Rows:
        with self.db.read() as session:
            blobs = {sha: at for sha, at in session.execute(select(Blob.sha256, Blob.created_at))}
            file_shas = set(session.scalars(select(File.sha256).distinct()))
            found = session.execute(select(Variant.id, Variant.source_sha256, Variant.sha256))
            variants = [(vid, source, sha) for vid, source, sha in found]
        used = file_shas | {sha for _, _, sha in variants}
        return _Rows(blobs, used, file_shas, variants)

    def _total_size(self, todo: list[str]) -> int:
        """What the progress bar counts down: the sizes the rows record."""
        with self.db.read() as session:
            known = {sha: size for sha, size in session.execute(select(Blob.sha256, Blob.size))}
        return sum(known.get(sha, 0) for sha in todo)

    def _compare(self, report: ScrubReport, rows: _Rows, stored: dict[str, float]) -> None:
        report.missing = sorted(sha for sha in rows.used if sha not in stored)
        report.missing = [sha for sha in report.missing if not self.storage.exists(sha)]
        candidates = [sha for sha in stored if sha not in rows.used]
        report.orphans = sorted(self._still_unused(candidates))
        corrupt = set(report.corrupt)
        report.sourceless_variants = sorted(
            vid
            for vid, source, _ in rows.variants
            if source not in rows.file_shas or source not in stored or source in corrupt
        )

    def _still_unused(self, shas: list[str]) -> list[str]:
        """Bytes whose blob row is absent or unreferenced now, not only at the first read."""
        unused = []
        with self.db.read() as session:
            for sha in shas:
                if session.get(Blob, sha) is None or not self.blobs.is_referenced(session, sha):
                    unused.append(sha)
        return unused

    # --- repairing ------------------------------------------------------------------

    def _repair(
        self, report: ScrubReport, stored: dict[str, float], sound: set[str]
    ) -> dict[str, int]:
        done = {"quarantined": 0, "damaged_files": 0, "dropped_variants": 0}
        for sha in report.corrupt:
            self._quarantine(sha, done)
        done["healed_files"] = self._heal(sound)
        if report.resume_after:
            return done  # the rest needs the whole pass: the last slice does it
        for sha in report.missing:
            self._mark_lost(sha, done)
        done["dropped_variants"] += self._drop_variants(report.sourceless_variants)
        done["removed_orphans"] = self._remove_orphans(report.orphans, stored)
        return done

    def _quarantine(self, sha: str, done: dict[str, int]) -> None:
        with self.db.write() as session:
            self.blobs.lock(session, sha)  # no upload publishes these bytes meanwhile
            self.storage.quarantine(sha)
            done["quarantined"] += 1
            self._damage(session, sha, done)

    def _mark_lost(self, sha: str, done: dict[str, int]) -> None:
        with self.db.write() as session:
            self.blobs.lock(session, sha)
            if not self.storage.exists(sha):
                self._damage(session, sha, done)

    def _damage(self, session: Any, sha: str, done: dict[str, int]) -> None:
        """Files using ``sha`` answer ``damaged``; variants made of it are dropped."""
        ids = list(session.scalars(select(File.id).where(File.sha256 == sha)))
        if ids:
            session.execute(update(File).where(File.id.in_(ids)).values(status=DAMAGED))
        gone = session.execute(delete(Variant).where(Variant.sha256 == sha))
        done["damaged_files"] += len(ids)
        done["dropped_variants"] += int(gone.rowcount)
        for file_id in ids:
            self.lookups.forget_id(file_id)

    def _drop_variants(self, variant_ids: list[int]) -> int:
        dropped = 0
        for vid in variant_ids:
            with self.db.write() as session:
                variant = session.get(Variant, vid)
                if variant is None:
                    continue
                session.delete(variant)
                session.flush()
                self.blobs.release(session, variant.sha256)
                self.blobs.release(session, variant.source_sha256)  # if nothing else uses it
                dropped += 1
        return dropped

    def _remove_orphans(self, orphans: list[str], stored: dict[str, float]) -> int:
        """Orphans older than the grace period: an upload in flight is newer."""
        cutoff = time.time() - self.grace_seconds
        row_cutoff = utcnow() - timedelta(seconds=self.grace_seconds)
        removed = 0
        for sha in (s for s in orphans if stored.get(s, cutoff) < cutoff):
            with self.db.write() as session:
                blob = session.get(Blob, sha, with_for_update=True)
                if blob is None:
                    self.storage.delete(sha)
                    removed += 1
                elif blob.created_at < row_cutoff:
                    removed += self.blobs.release(session, sha)
        return removed

    def _heal(self, sound: set[str]) -> int:
        """Damaged files whose bytes are stored and sound again (a restore) serve again."""
        with self.db.read() as session:
            found = session.execute(select(File.id, File.sha256).where(File.status == DAMAGED))
            damaged = [(file_id, sha) for file_id, sha in found]
        healed = [file_id for file_id, sha in damaged if sha in sound]
        if healed:
            with self.db.write() as session:
                session.execute(update(File).where(File.id.in_(healed)).values(status="ready"))
            for file_id in healed:
                self.lookups.forget_id(file_id)
        return len(healed)
