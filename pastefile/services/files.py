"""Looking files up and deleting them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select

from pastefile.cache import Cache, MemoryCache
from pastefile.db.database import Database
from pastefile.db.models import Blob, File
from pastefile.db.users import User
from pastefile.errors import NotFound
from pastefile.services.blobs import BlobStore
from pastefile.services.file_cache import FileLookups
from pastefile.services.ids import looks_like_id
from pastefile.services.imaging.variants import purge_variants


@dataclass(frozen=True)
class FileQuery:
    """One page of an owner's files; ``q`` is a case-insensitive filename match."""

    page: int = 1
    per_page: int = 20
    sort: str = "created_at"
    order: str = "desc"
    type: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None


@dataclass(frozen=True)
class AdminFileQuery:
    """One page of everyone's files for the admin: ``q`` matches a part of the name or
    the exact id; ``owner`` is a username ("-" for anonymous files); ``expiring`` True
    keeps files with an expiry, False those without."""

    page: int = 1
    per_page: int = 25
    q: str | None = None
    visibility: str | None = None
    owner: str | None = None
    expiring: bool | None = None


@dataclass(frozen=True)
class FileRow:
    file: File
    owner: str | None


SORTABLE = {"created_at": File.created_at, "filename": File.filename, "size": File.size}
SORTABLE |= {"mimetype": File.mimetype, "visibility": File.visibility}
SORTABLE |= {"expires_at": File.expires_at, "downloads": File.downloads}


class FileService:
    def __init__(self, db: Database, blobs: BlobStore, cache: Cache | None = None) -> None:
        self.db = db
        self.blobs = blobs
        # Hot lookups go through the cache (pastefile/cache); they return transient Files.
        self.lookups = FileLookups(db, cache or MemoryCache())

    def get(self, public_id: str) -> File:
        if not looks_like_id(public_id):
            raise NotFound("no such file")
        found = self.lookups.by_public_id(public_id)
        if found is None:
            raise NotFound("no such file")
        return found

    def get_by_short_code(self, code: str) -> File:
        if not looks_like_id(code, max_length=16):
            raise NotFound("no such short link")
        found = self.lookups.by_short_code(code)
        if found is None:
            raise NotFound("no such short link")
        return found

    def owned(self, owner_id: int, query: FileQuery) -> tuple[list[File], int]:
        """A page of one owner's files and the total that match.

        Every query starts from ``owner_id`` (the ``ix_files_owner_created``
        index), so filters and the ``q`` LIKE scan only that owner's rows.
        """
        conditions = [File.owner_id == owner_id, *_filters(query)]
        column = SORTABLE[query.sort]
        ordering = column.asc() if query.order == "asc" else column.desc()
        tiebreak = File.id.asc() if query.order == "asc" else File.id.desc()
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(File).where(*conditions)) or 0
            page = session.scalars(
                select(File)
                .where(*conditions)
                .order_by(ordering, tiebreak)
                .offset((query.page - 1) * query.per_page)
                .limit(query.per_page)
            )
            return list(page), total

    def find_by_sha256(self, sha256: str) -> File | None:
        """``pastefile get-file``: the oldest file with this content."""
        return self.lookups.by_sha256(sha256)

    def delete(self, public_id: str) -> None:
        """Delete a file; the bytes go with the last file that used them.

        The blob row is locked while its references are counted and the
        bytes unlinked, and uploads publish bytes under the same lock, so an
        upload of the same content cannot lose its bytes to this delete.
        """
        with self.db.write() as session:
            found = session.scalar(select(File).where(File.public_id == public_id))
            if found is None:
                raise NotFound("no such file")
            sha = found.sha256
            keys = self.lookups.keys_of(found)
            self.lookups.cache.invalidate(keys)
            session.delete(found)
            session.flush()
            if self.blobs.lock(session, sha) and not self.blobs.is_referenced(
                session, sha, [File.sha256]
            ):
                purge_variants(session, self.blobs, sha)  # variants go with their source
                self.blobs.release(session, sha)
        self.lookups.cache.invalidate(keys)  # again after the commit: no stale refill

    def statuses(self, owner_id: int, public_ids: Sequence[str]) -> dict[str, str]:
        """The processing status of those of ``public_ids`` that ``owner_id`` owns."""
        stmt = select(File.public_id, File.status).where(
            File.owner_id == owner_id, File.public_id.in_(list(public_ids))
        )
        with self.db.read() as session:
            return {public_id: status for public_id, status in session.execute(stmt)}

    def admin_page(self, query: AdminFileQuery) -> tuple[list[FileRow], int]:
        """A page of everyone's files, newest first, with each owner's name, and the total."""
        conditions = _admin_filters(query)
        base = select(File, User.username).outerjoin(User, User.id == File.owner_id)
        counted = select(func.count()).select_from(File).outerjoin(User, User.id == File.owner_id)
        with self.db.read() as session:
            total = session.scalar(counted.where(*conditions)) or 0
            rows = session.execute(
                base.where(*conditions)
                .order_by(File.created_at.desc(), File.id.desc())
                .offset((query.page - 1) * query.per_page)
                .limit(query.per_page)
            )
            return [FileRow(file, owner) for file, owner in rows], total

    def names(self, public_ids: Sequence[str]) -> dict[str, str]:
        """The filenames of those of ``public_ids`` that still exist."""
        stmt = select(File.public_id, File.filename).where(File.public_id.in_(list(public_ids)))
        with self.db.read() as session:
            return {public_id: name for public_id, name in session.execute(stmt)}

    def storage_summary(self) -> dict[str, int]:
        """Files, blobs and stored bytes, for the admin page."""
        with self.db.read() as session:
            files = session.scalar(select(func.count()).select_from(File)) or 0
            blobs, size = session.execute(select(func.count(), func.sum(Blob.size))).one()
        return {"files": files, "blobs": blobs or 0, "bytes": int(size or 0)}

    def row_id(self, public_id: str) -> int | None:
        """The row id behind a public id, or None when there is no such file."""
        with self.db.read() as session:
            found = session.scalar(select(File.id).where(File.public_id == public_id))
        return int(found) if found is not None else None


def _filters(query: FileQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.type:
        kind = query.type.lower()
        found.append(File.mimetype == kind if "/" in kind else File.mimetype.like(f"{kind}/%"))
    if query.created_after is not None:
        found.append(File.created_at >= query.created_after)
    if query.created_before is not None:
        found.append(File.created_at < query.created_before)
    if query.q:
        pattern = "%" + _escape_like(query.q.lower()) + "%"
        found.append(func.lower(File.filename).like(pattern, escape="!"))
    return found


def _admin_filters(query: AdminFileQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.q:
        pattern = "%" + _escape_like(query.q.lower()) + "%"
        name = func.lower(File.filename).like(pattern, escape="!")
        found.append(or_(name, File.public_id == query.q))
    if query.visibility:
        found.append(File.visibility == query.visibility)
    if query.owner == "-":
        found.append(File.owner_id.is_(None))
    elif query.owner:
        found.append(User.username == query.owner)
    if query.expiring is not None:
        found.append(File.expires_at.isnot(None) if query.expiring else File.expires_at.is_(None))
    return found


def _escape_like(text: str) -> str:
    # "!" rather than backslash: MySQL treats backslashes in literals specially.
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
