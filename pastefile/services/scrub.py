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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, union, update

from pastefile.db.database import Database
from pastefile.db.models import Blob, File, Variant
from pastefile.db.types import utcnow
from pastefile.services.blobs import BlobStore
from pastefile.services.file_cache import FileLookups
from pastefile.storage.base import Storage

DAMAGED = "damaged"
CHUNK = 1024 * 1024
_EXAMPLES = 20
_STREAMED = 1000  # rows a database walk holds at a time
# Sorts after every sha256 hex digest: the end of a name-ordered stream.
_END = "~"

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
        with ``repair``, fix what can be fixed. Returns the report.

        Storage and the rows are read as streams in sha256 order, never whole, so a
        pass holds the same memory on a store of any size."""
        started = time.monotonic()
        on_total(self._total_size(after))
        report = ScrubReport()
        deadline = started + budget if budget else None
        damaged = self._damaged_shas()
        healthy = self._hash_all(report, after, Throttle(rate), advance, deadline, damaged)
        orphan_times: dict[str, float] = {}
        if not report.resume_after:
            orphan_times = self._compare(report)
        if repair:
            report.repaired = self._repair(report, orphan_times, healthy)
        report.seconds = time.monotonic() - started
        report.finished_at = datetime.now(UTC).isoformat()
        return report

    # --- reading --------------------------------------------------------------------

    def _hash_all(
        self,
        report: ScrubReport,
        after: str,
        throttle: Throttle,
        advance: Advance,
        deadline: float | None,
        damaged: set[str],
    ) -> set[str]:
        """Re-hash the blobs stored after ``after``; records the corrupt ones, and returns
        those of ``damaged`` that are sound."""
        healthy: set[str] = set()
        last = ""
        for sha, _ in self.storage.list_blobs(after):
            if deadline is not None and last and time.monotonic() > deadline:
                report.resume_after = last
                break
            last = sha
            found = hash_blob(self.storage, sha, throttle, advance)
            if found is None:
                continue  # deleted since the listing: not a problem
            report.checked += 1
            report.bytes += found[1]
            if found[0] != sha:
                report.corrupt.append(sha)
            elif sha in damaged:
                healthy.add(sha)
        return healthy

    def _damaged_shas(self) -> set[str]:
        stmt = select(File.sha256).where(File.status == DAMAGED).distinct()
        with self.db.read() as session:
            return set(session.scalars(stmt))

    def _total_size(self, after: str) -> int:
        """What the progress bar counts down: the sizes the rows record."""
        stmt = select(func.coalesce(func.sum(Blob.size), 0)).where(Blob.sha256 > after)
        with self.db.read() as session:
            return int(session.scalar(stmt) or 0)

    def _compare(self, report: ScrubReport) -> dict[str, float]:
        """Walk storage and the bytes rows use side by side; returns each orphan's time."""
        missing: list[str] = []
        orphans: dict[str, float] = {}
        used = union(
            select(File.sha256.label("sha")),
            select(Variant.sha256.label("sha")),
        ).subquery()
        stmt = select(used.c.sha).order_by(used.c.sha)
        with self.db.read() as session:
            rows = session.scalars(stmt, execution_options={"yield_per": _STREAMED})
            for sha, stored_at, in_use in merged(self.storage.list_blobs(), ascending(rows)):
                if stored_at is None:
                    missing.append(sha)
                elif not in_use:
                    orphans[sha] = stored_at
        report.missing = self._still_missing(missing)
        report.orphans = sorted(self._still_unused(list(orphans)))
        report.sourceless_variants = self._sourceless(set(report.missing) | set(report.corrupt))
        return orphans

    def _still_missing(self, shas: list[str]) -> list[str]:
        """Bytes absent now that a row still uses: the bytes of a file deleted during the
        walk go after its row (the delete commits first), so they are not missing."""
        gone = [sha for sha in shas if not self.storage.exists(sha)]
        with self.db.read() as session:
            used_as = (File.sha256, Variant.sha256)
            return [sha for sha in gone if self.blobs.is_referenced(session, sha, used_as)]

    def _sourceless(self, bad_sources: set[str]) -> list[int]:
        """Variants of bytes no file uses, or of bytes missing or corrupt."""
        no_file = ~select(File.id).where(File.sha256 == Variant.source_sha256).exists()
        found: set[int] = set()
        with self.db.read() as session:
            found.update(session.scalars(select(Variant.id).where(no_file)))
            bad = sorted(bad_sources)
            for start in range(0, len(bad), _STREAMED):
                chunk = bad[start : start + _STREAMED]
                found.update(
                    session.scalars(select(Variant.id).where(Variant.source_sha256.in_(chunk)))
                )
        return sorted(found)

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
        self, report: ScrubReport, orphan_times: dict[str, float], healthy: set[str]
    ) -> dict[str, int]:
        done = {"quarantined": 0, "damaged_files": 0, "dropped_variants": 0}
        for sha in report.corrupt:
            self._quarantine(sha, done)
        done["healed_files"] = self._heal(healthy)
        if report.resume_after:
            return done  # the rest needs the whole pass: the last slice does it
        for sha in report.missing:
            self._mark_lost(sha, done)
        done["dropped_variants"] += self._drop_variants(report.sourceless_variants)
        done["removed_orphans"] = self._remove_orphans(report.orphans, orphan_times)
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

    def _remove_orphans(self, orphans: list[str], stored_at: dict[str, float]) -> int:
        """Orphans older than the grace period: an upload in flight is newer."""
        cutoff = time.time() - self.grace_seconds
        row_cutoff = utcnow() - timedelta(seconds=self.grace_seconds)
        removed = 0
        for sha in (s for s in orphans if stored_at.get(s, cutoff) < cutoff):
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


def ascending(names: Iterable[str]) -> Iterator[str]:
    """``names`` as they come, refusing to go on if they are not in ascending order: a
    walk side by side with storage would then report sound bytes as lost."""
    last = ""
    for name in names:
        if name < last:
            raise RuntimeError(f"the database does not list sha256 in order: {last} > {name}")
        last = name
        yield name


def merged(
    stored: Iterator[tuple[str, float]], used: Iterator[str]
) -> Iterator[tuple[str, float | None, bool]]:
    """Two name-ordered streams walked together: every name once, with its modification
    time when stored (None when not) and whether a row uses it."""
    blob, stored_at = next(stored, (_END, 0.0))
    name = next(used, _END)
    while blob != _END or name != _END:
        if blob == name:
            yield name, stored_at, True
            blob, stored_at = next(stored, (_END, 0.0))
            name = next(used, _END)
        elif blob < name:
            yield blob, stored_at, False
            blob, stored_at = next(stored, (_END, 0.0))
        else:
            yield name, None, True
            name = next(used, _END)
