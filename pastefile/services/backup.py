"""Backups that any engine can restore: ``pastefile backup DEST`` and ``restore SRC``.

A backup (a local folder, or ``s3://bucket/prefix``: pastefile/services/backup_places)
holds content-addressed blobs, shared by every snapshot in it (so a second backup
copies only new bytes), and one folder per snapshot::

    DEST/blobs/ab/cd/<sha256>
    DEST/snapshots/<UTC time>/manifest.json     format, schema revision, counts, checksums
    DEST/snapshots/<UTC time>/tables/<table>.jsonl   one JSON object per row
    DEST/LATEST                                 the newest complete snapshot's name

The rows are read in one transaction, a consistent snapshot on every engine
(SQLite's WAL read transaction; REPEATABLE READ on PostgreSQL and InnoDB),
while the service keeps running; then the bytes of every blob the snapshot
names are copied and re-hashed on the way. A snapshot folder appears under its
final name only when complete.

A restore goes into an empty instance on any engine: it checks the manifest's
checksums, brings the target schema to the snapshot's revision, copies the
bytes first (so no row ever points at nothing), inserts the tables in
foreign-key order in one transaction, moves PostgreSQL's sequences past the
restored ids, and finally upgrades the schema to this code's head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, Date, Table, func, insert, inspect, select, text

from pastefile.config import Settings
from pastefile.db import migrate
from pastefile.db.database import Database
from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime
from pastefile.errors import Conflict, InvalidInput
from pastefile.services.backup_places import BackupPlace, place_for
from pastefile.storage.base import Storage

FORMAT = 1
CHUNK = 1024 * 1024
_BATCH = 1000
# Scheduler bookkeeping, and resumable uploads whose part files are not backed up.
SKIPPED = frozenset({"job_leases", "tus_uploads"})
# A target whose scheduler already ran is still empty.
BOOKKEEPING = frozenset({"jobs", "job_leases"})

Advance = Callable[[int], None]
_COPIERS = 4
THERE, COPIED, MISSING, CORRUPT = "there", "copied", "missing", "corrupt"


class Progress(Protocol):
    def stage(self, label: str, total: int, unit: str) -> Advance:
        """Start a stage of ``total`` units; returns how to advance it."""


class NoProgress:
    def stage(self, label: str, total: int, unit: str) -> Advance:
        return lambda amount: None


class RestoreRefused(Conflict):
    code = "restore_refused"
    title = "The target instance is not empty"


@dataclass
class BlobCopy:
    count: int = 0
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)


@dataclass
class Summary:
    """What a backup or a restore did, for the terminal and the tests."""

    # Where the snapshot is: a folder or an s3:// URL.
    snapshot: str
    revision: str
    tables: dict[str, int]
    blobs: BlobCopy
    seconds: float = 0.0


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def _revision(conn: Connection) -> str:
    """The schema's revision: its heads (the migrations have more than one), sorted."""
    heads = conn.scalars(text("SELECT version_num FROM alembic_version"))
    return ",".join(sorted(str(head) for head in heads))


def _snapshot_connection(db: Database) -> Connection:
    """A connection whose next transaction sees one consistent snapshot."""
    conn = db.engine.connect()
    if db.is_sqlite:
        return conn  # WAL: a read transaction sees the database as of its first read
    options: dict[str, Any] = {"isolation_level": "REPEATABLE READ"}
    if db.url.get_backend_name() == "postgresql":
        options["postgresql_readonly"] = True
    return conn.execution_options(**options)


# --- backing up -------------------------------------------------------------------------


class Backup:
    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def run(self, dest: str | Path, progress: Progress | None = None) -> Summary:
        progress = progress or NoProgress()
        place = place_for(dest, self.settings)
        place.remove_partial()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        with place.staging(stamp) as work:
            (work / "tables").mkdir(parents=True)
            revision, tables, blobs = self._dump(work, progress)
            copy = self._copy_blobs(place, blobs, progress)
            _write_manifest(work, self.db, revision, tables, copy)
            where = place.publish(stamp, work)
        counts = {name: info["rows"] for name, info in tables.items()}
        return Summary(where, revision, counts, copy)

    def _dump(
        self, work: Path, progress: Progress
    ) -> tuple[str, dict[str, dict[str, Any]], list[tuple[str, int]]]:
        tables: dict[str, dict[str, Any]] = {}
        blobs: list[tuple[str, int]] = []
        with _snapshot_connection(self.db) as conn, conn.begin():
            revision = _revision(conn)  # the first read fixes the snapshot
            totals = {
                t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in _tables()
            }
            advance = progress.stage("database", sum(totals.values()), "rows")
            for table in _tables():
                path = work / "tables" / f"{table.name}.jsonl"
                rows, digest = _dump_table(conn, table, path, advance, blobs)
                tables[str(table.name)] = {"rows": rows, "sha256": digest}
        return revision, tables, blobs

    def _copy_blobs(
        self, place: BackupPlace, blobs: list[tuple[str, int]], progress: Progress
    ) -> BlobCopy:
        def one(sha: str, size: int) -> str:
            if place.has_blob(sha, size):
                return THERE  # content-addressed: already in an earlier snapshot
            try:
                with self.storage.open(sha) as reader:
                    return COPIED if place.put_blob(sha, reader) else CORRUPT
            except FileNotFoundError:
                return MISSING  # deleted since the snapshot, or lost before it

        return _copy_all(blobs, one, progress)


def _write_manifest(
    work: Path, db: Database, revision: str, tables: dict[str, Any], copy: BlobCopy
) -> None:
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "engine": db.url.get_backend_name(),
        "schema_revision": revision,
        "tables": tables,
        "blobs": {
            "count": copy.count,
            "bytes": copy.bytes,
            "missing": copy.missing,
            "corrupt": copy.corrupt,
        },
    }
    (work / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def _dump_table(
    conn: Connection,
    table: Table,
    path: Path,
    advance: Advance,
    blobs: list[tuple[str, int]],
) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    order = list(table.primary_key.columns)
    result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
        select(table).order_by(*order)
    )
    with open(path, "wb") as out:
        for row in result.mappings():
            line = orjson.dumps(dict(row)) + b"\n"
            out.write(line)
            digest.update(line)
            rows += 1
            advance(1)
            if table.name == "blobs":
                blobs.append((row["sha256"], int(row["size"])))
    return rows, digest.hexdigest()


def _copy_all(
    blobs: list[tuple[str, int]], one: Callable[[str, int], str], progress: Progress
) -> BlobCopy:
    """Run ``one`` for every blob on a few threads (each copy waits on fsync or the
    network), a bounded batch at a time, and add up what happened."""
    copy = BlobCopy(count=len(blobs), bytes=sum(size for _, size in blobs))
    advance = progress.stage("blobs", copy.bytes, "B")
    with ThreadPoolExecutor(_COPIERS, thread_name_prefix="blob-copy") as pool:
        for start in range(0, len(blobs), _BATCH):
            batch = blobs[start : start + _BATCH]
            outcomes = pool.map(lambda blob: one(*blob), batch)
            for (sha, size), outcome in zip(batch, outcomes, strict=True):
                advance(size)
                if outcome == COPIED:
                    copy.copied += 1
                    copy.copied_bytes += size
                elif outcome == MISSING:
                    copy.missing.append(sha)
                elif outcome == CORRUPT:
                    copy.corrupt.append(sha)
    return copy


# --- restoring --------------------------------------------------------------------------


class Restore:
    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def run(self, src: str | Path, progress: Progress | None = None) -> Summary:
        progress = progress or NoProgress()
        place = place_for(src, self.settings)
        with place.snapshot() as snapshot:
            manifest = orjson.loads((snapshot / "manifest.json").read_bytes())
            if manifest.get("format") != FORMAT:
                raise InvalidInput(f"{place.name} has backup format {manifest.get('format')!r}")
            _verify(snapshot, manifest)
            self._prepare_schema(manifest["schema_revision"])
            copy = self._put_blobs(place, _blob_rows(snapshot), progress)
            counts = self._insert(snapshot, manifest, progress)
        migrate.upgrade(self.db)
        return Summary(place.name, manifest["schema_revision"], counts, copy)

    def _prepare_schema(self, revision: str) -> None:
        if "alembic_version" not in inspect(self.db.engine).get_table_names():
            for head in revision.split(","):
                migrate.upgrade(self.db, head)
        with self.db.engine.connect() as conn:
            current = _revision(conn)
            busy = _nonempty(conn)
        if busy:
            listed = ", ".join(f"{name}: {rows}" for name, rows in busy.items())
            raise RestoreRefused(
                f"the target database already holds data ({listed}); restore only goes into "
                "an empty instance: point PASTEFILE_DATABASE_URL at a new, empty database"
            )
        if current != revision:
            raise RestoreRefused(
                f"the target schema is at revision {current}, the snapshot at {revision}: "
                "restore into a new, empty database"
            )

    def _put_blobs(
        self, place: BackupPlace, blobs: list[tuple[str, int]], progress: Progress
    ) -> BlobCopy:
        def one(sha: str, size: int) -> str:
            if self.storage.exists(sha):
                return THERE
            try:
                with place.open_blob(sha) as reader:
                    return COPIED if self.storage.put_checked(sha, reader) else CORRUPT
            except FileNotFoundError:
                return MISSING

        return _copy_all(blobs, one, progress)

    def _insert(
        self, snapshot: Path, manifest: dict[str, Any], progress: Progress
    ) -> dict[str, int]:
        names = manifest["tables"]
        advance = progress.stage("database", sum(t["rows"] for t in names.values()), "rows")
        counts: dict[str, int] = {}
        with self.db.engine.begin() as conn:
            for name in BOOKKEEPING:
                conn.execute(Base.metadata.tables[name].delete())
            for table in _tables():
                if table.name in names:
                    counts[table.name] = _load_table(conn, table, snapshot, advance)
            if self.db.url.get_backend_name() == "postgresql":
                _move_sequences(conn)
        return counts


def _verify(snapshot: Path, manifest: dict[str, Any]) -> None:
    for name, info in manifest["tables"].items():
        path = snapshot / "tables" / f"{name}.jsonl"
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != info["sha256"]:
            raise InvalidInput(f"{path} does not match its checksum in the manifest")


def _nonempty(conn: Connection) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        rows = conn.scalar(select(func.count()).select_from(table)) or 0
        if rows:
            found[table.name] = rows
    return found


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as handle:
        for line in handle:
            yield orjson.loads(line)


def _blob_rows(snapshot: Path) -> list[tuple[str, int]]:
    return [(row["sha256"], int(row["size"])) for row in _rows(snapshot / "tables" / "blobs.jsonl")]


def _converters(table: Table) -> dict[str, Callable[[Any], Any]]:
    """JSON gives strings back for dates and times; the columns want objects."""
    found: dict[str, Callable[[Any], Any]] = {}
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            found[column.name] = datetime.fromisoformat
        elif isinstance(column.type, Date):
            found[column.name] = date.fromisoformat
    return found


def _load_table(conn: Connection, table: Table, snapshot: Path, advance: Advance) -> int:
    convert = _converters(table)
    batch: list[dict[str, Any]] = []
    loaded = 0
    for row in _rows(snapshot / "tables" / f"{table.name}.jsonl"):
        for name, parse in convert.items():
            if row.get(name) is not None:
                row[name] = parse(row[name])
        batch.append(row)
        if len(batch) >= _BATCH:
            loaded += _flush(conn, table, batch, advance)
    return loaded + _flush(conn, table, batch, advance)


def _flush(conn: Connection, table: Table, batch: list[dict[str, Any]], advance: Advance) -> int:
    if not batch:
        return 0
    conn.execute(insert(table), batch)
    done = len(batch)
    advance(done)
    batch.clear()
    return done


def _move_sequences(conn: Connection) -> None:
    """Explicit ids do not advance PostgreSQL's sequences: the next insert would collide."""
    for table in _tables():
        column = table.autoincrement_column
        if column is None:
            continue
        highest = func.max(column)
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        conn.execute(select(func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None))))
