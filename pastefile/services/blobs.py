"""The one owner of stored bytes: publishing them, and deciding when they can go.

A blob is a ``blobs`` row plus the bytes in storage. Every writer (uploads,
image variants, reports) publishes bytes while holding the row's lock, and
every remover (file deletes, variant evictions, garbage collection) removes
the row under the same lock after asking ``is_referenced``. The bytes go only
after that transaction commits, so a commit the database refuses leaves the
row and its bytes as they were; and they go under a claim on the key that an
upload of the same bytes waits for, so neither side can leave a row that
points at nothing. Whatever cannot be unlinked then is a stray object, which
garbage collection removes after its grace period.

What refers to a blob is read from the tables' foreign keys, so a table a
feature adds later (image variants, kept reports, …) keeps its blobs alive
without anyone remembering to say so.
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pastefile import crashpoints
from pastefile.db.database import Database, after_commit
from pastefile.db.models import Base, Blob
from pastefile.storage.base import BlobWriter, Storage

log = logging.getLogger(__name__)

_CRC_CHUNK = 1024 * 1024


def _referring_columns() -> list[ColumnElement[str]]:
    """Every column with a foreign key to ``blobs.sha256``, from the model metadata."""
    found: list[ColumnElement[str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Blob.__tablename__ and table.name != Blob.__tablename__:
                found.append(fk.parent)
    return found


class BlobStore:
    def __init__(self, storage: Storage, db: Database) -> None:
        self.storage = storage
        self.db = db
        self.references = _referring_columns()

    def lock_or_create(
        self, session: Session, sha256: str, size: int, mimetype: str, crc32: int | None = None
    ) -> None:
        """Hold the blob's row lock for the rest of the transaction, creating the row.

        An older row without a CRC-32 gets the one these bytes came with.
        """
        blob = session.get(Blob, sha256, with_for_update=True)
        if blob is None:
            session.add(Blob(sha256=sha256, size=size, mimetype=mimetype, crc32=crc32))
            session.flush()
        elif blob.crc32 is None and crc32 is not None:
            blob.crc32 = crc32

    def lock(self, session: Session, sha256: str) -> bool:
        """Hold the blob's row lock for the rest of the transaction; False when it has no row."""
        return session.get(Blob, sha256, with_for_update=True) is not None

    def publish(self, session: Session, writer: BlobWriter, mimetype: str) -> None:
        """Lock (or create) the row, then move the written bytes into place."""
        self.lock_or_create(session, writer.sha256, writer.size, mimetype, writer.crc32)
        self.storage.commit(writer)

    def is_referenced(self, session: Session, sha256: str) -> bool:
        """Does any row (a file, a variant or its source, a report…) still use these bytes?"""
        return any(
            session.scalar(select(exists().where(column == sha256))) for column in self.references
        )

    def release(self, session: Session, sha256: str) -> bool:
        """Remove the row if nothing refers to it, and the bytes once that commits;
        True when removed.

        Call it in the ``Database.write`` transaction that removed the last reference.
        """
        blob = session.get(Blob, sha256, with_for_update=True)
        if blob is None or self.is_referenced(session, sha256):
            return False
        session.delete(blob)
        session.flush()
        after_commit(session, lambda: self.unlink_unclaimed(sha256))
        return True

    def unlink_unclaimed(self, sha256: str) -> bool:
        """Unlink bytes that have no row, unless an upload published them again.

        A placeholder row claims the key while the bytes go: an upload of the
        same bytes inserts the same key, so it waits for this transaction and
        then writes its bytes afresh, and a row that exists (or appears first)
        makes this give up. Anything that fails here is left to ``gc``.
        """
        try:
            with self.db.write() as session:
                claim = Blob(sha256=sha256, size=0, mimetype="")
                session.add(claim)
                session.flush()
                crashpoints.reached("blob.unlinking")
                self.storage.delete(sha256)
                session.delete(claim)
        except SQLAlchemyError as exc:
            log.info("blob %s kept for gc: %s", sha256, exc.__class__.__name__)
            return False
        except Exception:  # each storage fails in its own way; gc tries again
            log.warning("blob %s could not be unlinked; left to gc", sha256, exc_info=True)
            return False
        return True

    # --- CRC-32 (the zip of a collection names each member's CRC before its bytes) -------

    def crc32_of(self, sha256: str) -> int:
        """A blob's CRC-32: stored at upload, else computed from the bytes once and kept."""
        with self.db.read() as session:
            known = session.scalar(select(Blob.crc32).where(Blob.sha256 == sha256))
        if known is not None:
            return int(known)
        crc = 0
        with self.storage.open(sha256) as stream:
            while chunk := stream.read(_CRC_CHUNK):
                crc = zlib.crc32(chunk, crc)
        with self.db.write() as session:
            session.execute(
                update(Blob).where(Blob.sha256 == sha256, Blob.crc32.is_(None)).values(crc32=crc)
            )
        return crc

    def crc32s(self, sha256s: list[str]) -> dict[str, int]:
        """The CRC-32 of each of these blobs, in one query; missing ones computed now."""
        with self.db.read() as session:
            rows = session.execute(select(Blob.sha256, Blob.crc32).where(Blob.sha256.in_(sha256s)))
            known = {sha: int(crc) for sha, crc in rows if crc is not None}
        for sha in sha256s:
            if sha not in known:
                known[sha] = self.crc32_of(sha)
        return known

    def missing_crc32(self, after: str, limit: int) -> list[str]:
        """Blobs stored before CRC-32s were kept, in sha256 order after ``after``."""
        with self.db.read() as session:
            query = (
                select(Blob.sha256)
                .where(Blob.crc32.is_(None), Blob.sha256 > after)
                .order_by(Blob.sha256)
                .limit(limit)
            )
            return list(session.scalars(query))

    def backfill_crc32(self, batch: int = 500) -> tuple[int, int]:
        """Give every blob without one its CRC-32 (``pastefile backfill-crc32``).

        Returns (computed, unreadable): blobs whose bytes are missing are skipped
        and left for ``pastefile check`` to report.
        """
        done = unreadable = 0
        last = ""
        while todo := self.missing_crc32(last, batch):
            for sha256 in todo:
                try:
                    self.crc32_of(sha256)
                    done += 1
                except FileNotFoundError:
                    log.warning("blob %s has no bytes; `pastefile check` reports it", sha256)
                    unreadable += 1
            last = todo[-1]
        return done, unreadable

    def unreferenced(self, session: Session, older_than: datetime, limit: int) -> list[str]:
        """Unreferenced blobs created before ``older_than``: uploads in flight are newer."""
        unused = [~exists().where(column == Blob.sha256) for column in self.references]
        query = select(Blob.sha256).where(Blob.created_at < older_than, *unused).limit(limit)
        return list(session.scalars(query))
