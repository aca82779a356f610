"""The variant cache: derived images stored as blobs, indexed by ``variants``.

A variant's bytes are an ordinary blob with a ``blobs`` row, so the row lock
that orders uploads and deletes also orders variant writes and evictions: a
blob is unlinked only when no file and no variant points at it any more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from pastefile import crashpoints
from pastefile.db.database import Database
from pastefile.db.models import Variant
from pastefile.db.types import utcnow
from pastefile.services.blobs import BlobStore
from pastefile.services.imaging.engines.base import Encoded

log = logging.getLogger(__name__)

# LRU order is refreshed at most this often per variant: a hit stays a read.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Rendition:
    """A derived image ready to serve: open on storage, or bytes in memory."""

    sha256: str
    mimetype: str
    size: int
    width: int
    height: int
    data: bytes | None = None
    stream: BinaryIO | None = None


class VariantCache:
    def __init__(self, db: Database, blobs: BlobStore, max_per_source: int) -> None:
        self.db = db
        self.blobs = blobs
        self.storage = blobs.storage
        self.max_per_source = max_per_source

    def lookup(self, source_sha256: str, key: str) -> Rendition | None:
        """The cached variant, opened; None on a miss."""
        with self.db.read() as session:
            row = session.scalar(_by_key(source_sha256, key))
        if row is None:
            return None
        try:
            stream = self.storage.open(row.sha256)
        except FileNotFoundError:
            log.warning("variant %s lost its bytes; recomputing", row.id)
            self._forget(row.id)
            return None
        if utcnow() - row.last_used_at > TOUCH_INTERVAL:
            self._touch(row.id)
        return Rendition(row.sha256, row.mimetype, row.size, row.width, row.height, stream=stream)

    def store(self, source_sha256: str, key: str, encoded: Encoded) -> Rendition:
        """Record a freshly encoded variant and evict beyond the per-file cap."""
        writer = self.storage.writer()
        try:
            writer.write(encoded.data)
            with self.db.write() as session:
                self.blobs.lock_or_create(
                    session, writer.sha256, writer.size, encoded.mimetype, writer.crc32
                )
                session.add(_row(source_sha256, key, writer.sha256, encoded))
                # The row goes in before the bytes are published: a duplicate
                # fails here with nothing written.
                session.flush()
                self.storage.commit(writer)
                crashpoints.reached("variant.published")
                self._evict(session, source_sha256)
        except (IntegrityError, OperationalError) as exc:
            # Another process stored it first, or the source was deleted meanwhile.
            log.info("variant not cached: %s", exc.__class__.__name__)
        finally:
            writer.abort()
        sha = writer.sha256
        return Rendition(
            sha, encoded.mimetype, len(encoded.data), encoded.width, encoded.height, encoded.data
        )

    def _evict(self, session: Session, source_sha256: str) -> None:
        stale = session.scalars(
            select(Variant)
            .where(Variant.source_sha256 == source_sha256)
            .order_by(Variant.last_used_at.desc(), Variant.id.desc())
            .offset(self.max_per_source)
        ).all()
        for row in stale:
            drop_variant(session, self.blobs, row)

    def _touch(self, variant_id: int) -> None:
        try:
            with self.db.write() as session:
                stmt = update(Variant).where(Variant.id == variant_id)
                session.execute(stmt.values(last_used_at=utcnow()))
        except OperationalError:
            log.info("variant LRU touch skipped under contention")

    def _forget(self, variant_id: int) -> None:
        with self.db.write() as session:
            row = session.get(Variant, variant_id)
            if row is not None:
                drop_variant(session, self.blobs, row)


def purge_variants(session: Session, blobs: BlobStore, source_sha256: str) -> None:
    """Delete every variant of a source whose last file is being deleted."""
    rows = session.scalars(select(Variant).where(Variant.source_sha256 == source_sha256)).all()
    for row in rows:
        drop_variant(session, blobs, row)


def drop_variant(session: Session, blobs: BlobStore, row: Variant) -> None:
    sha = row.sha256
    session.delete(row)
    session.flush()
    blobs.release(session, sha)


def _by_key(source_sha256: str, key: str) -> Select[Variant]:
    return select(Variant).where(Variant.source_sha256 == source_sha256, Variant.params == key)


def _row(source_sha256: str, key: str, sha256: str, encoded: Encoded) -> Variant:
    now = utcnow()
    return Variant(
        source_sha256=source_sha256,
        params=key,
        sha256=sha256,
        mimetype=encoded.mimetype,
        size=len(encoded.data),
        width=encoded.width,
        height=encoded.height,
        created_at=now,
        last_used_at=now,
    )
