"""Collections: an ordered set of files behind one link (docs/collections.md).

A collection carries a file's rules (visibility, expiry, password, download
limit, management token) and is admitted by the same gate
(``FileAccess.admit``) and managed by the same check (``FileAccess.check_manage``).

Each member file keeps its own rules: the page and the zip show a caller only
the members that caller could read one by one (``readable``), so a private,
password-protected or expired file never leaks through a public collection.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pastefile.cache import Cache
from pastefile.db.collections import Collection, CollectionItem
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.errors import Gone, InvalidInput, NotFound, PasteFileError, PreconditionFailed
from pastefile.services.access import Caller, FileAccess, sees_private
from pastefile.services.accounts import hash_token
from pastefile.services.blobs import BlobStore
from pastefile.services.collection_zip import ZipPlan, plan_zip
from pastefile.services.ids import looks_like_id, new_collection_code, new_public_id
from pastefile.services.notifications import Notifier
from pastefile.services.policy import PreparedUpload, UploadPolicy, UploadRequest
from pastefile.services.scrub import DAMAGED

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_FILES = 1000  # per collection: one page, one zip central directory of sane size
NOUN = "collection"
ZIP_TAIL_TTL = 7 * 86400  # keyed by the member set: a stale entry is never used, only kept
ZIP_TAIL_WAIT = 600.0  # seconds; the tail of a 1000-file, 100 GB zip takes far less


@dataclass(frozen=True)
class NewCollection:
    """What a client asked for when creating a collection; rules as for an upload."""

    title: str = ""
    description: str | None = None
    file_ids: tuple[str, ...] = ()
    expires_in: int | None = None
    max_downloads: int | None = None
    password: str | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class CollectionChanges:
    """What a change asks for: None leaves a field as it is, ``clear_*`` removes it.

    The rule fields are a file change's (``RuleChange``), checked by the same
    code (``FileAccess.rule_values``).
    """

    title: str | None = None
    description: str | None = None
    visibility: str | None = None
    expires_in: int | None = None
    clear_expiry: bool = False
    password: str | None = None
    clear_password: bool = False
    max_downloads: int | None = None
    clear_max_downloads: bool = False


@dataclass(frozen=True)
class CreatedCollection:
    collection: Collection
    # The anonymous creator's management token, shown once.
    manage_token: str | None


class CollectionService:
    """Creating, reading (through the read gate), changing and deleting collections."""

    def __init__(
        self,
        db: Database,
        access: FileAccess,
        policy: UploadPolicy,
        blobs: BlobStore,
        cache: Cache,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.access = access
        self.policy = policy
        self.blobs = blobs
        self.cache = cache
        self.notifier = notifier  # told about every counted download

    # --- creating -----------------------------------------------------------------

    def create(self, caller: Caller, asked: NewCollection) -> CreatedCollection:
        """A new collection with ``asked.file_ids`` (each one the caller may manage).

        An anonymous creator who names files must hold their management token
        (``caller.manage_token``); the collection then gets the same token, so one
        token manages the upload's files and their collection.
        """
        prepared = self.policy.prepare(
            caller.principal,
            UploadRequest(
                expires_in=asked.expires_in,
                max_downloads=asked.max_downloads,
                password=asked.password,
                visibility=asked.visibility,
            ),
        )
        options = prepared.options
        token = prepared.manage_token
        if caller.principal is None and caller.manage_token:
            token = None  # reuse the upload's token: the one the caller already holds
            options = replace(options, manage_token_hash=hash_token(caller.manage_token))
        owner_caller = caller if token is None else replace(caller, manage_token=token)
        for ident in _ids(asked.file_ids):  # refuse before anything is recorded
            self._managed_file(ident, owner_caller)
        record = Collection(
            public_id=new_public_id(),
            short_code=new_collection_code(),
            title=_title(asked.title),
            description=_description(asked.description),
            downloads=0,
            version=1,
            **options.rule_columns(),
        )
        with self.db.write() as session:
            session.add(record)
            session.flush()
        if asked.file_ids:
            record = self.add_files(record, asked.file_ids, owner_caller)
        return CreatedCollection(record, token)

    # --- reading ------------------------------------------------------------------

    def resolve(
        self,
        ident: str,
        caller: Caller,
        by_short_code: bool = False,
        check_password: bool = True,
    ) -> Collection:
        """The collection if this caller may open it: the files' read gate decides
        (``check_password=False``: a redirect to the page that asks for it)."""
        found = self._lookup(ident, by_short_code)
        self.access.admit(found, ident, caller, NOUN, check_password=check_password)
        return found

    def visible(self, ident: str, caller: Caller) -> Collection:
        """The collection for management: no password asked, private ones stay hidden."""
        found = self._lookup(ident, False)
        if found.visibility == "private" and not sees_private(found, caller.principal):
            raise NotFound("no such collection")
        return found

    def owned(
        self, owner_id: int, page: int = 1, per_page: int = 50
    ) -> tuple[list[Collection], int]:
        """A page of one owner's collections, newest first, and their total."""
        where = Collection.owner_id == owner_id
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(Collection).where(where))
            rows = session.scalars(
                select(Collection)
                .where(where)
                .order_by(Collection.created_at.desc(), Collection.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
            return list(rows), int(total or 0)

    def counts(self, collections: Sequence[Collection]) -> dict[int, int]:
        """How many files each of these collections holds (My files' folders)."""
        ids = [c.id for c in collections]
        if not ids:
            return {}
        query = (
            select(CollectionItem.collection_id, func.count())
            .where(CollectionItem.collection_id.in_(ids))
            .group_by(CollectionItem.collection_id)
        )
        with self.db.read() as session:
            return {int(cid): int(n) for cid, n in session.execute(query)}

    def files(self, collection: Collection) -> list[File]:
        """Every member, in order, whatever its rules (for the collection's managers)."""
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(File)
                    .join(CollectionItem, CollectionItem.file_id == File.id)
                    .where(CollectionItem.collection_id == collection.id)
                    .order_by(CollectionItem.position, CollectionItem.id)
                )
            )

    def readable(self, collection: Collection, caller: Caller) -> list[File]:
        """The members this caller could read one by one through the read gate.

        The collection's password proves nothing about its files: the check runs
        without a password, so a protected member shows only to whoever unlocked
        it (or may see it anyway); private, expired, used-up and damaged files are
        left out. What the page lists and the zip holds is exactly this list.
        """
        asking = replace(caller, password=None)
        found = []
        for file in self.files(collection):
            try:
                self.access.admit(file, file.public_id, asking)
            except PasteFileError:
                continue
            if file.status != DAMAGED:  # "processing" files are readable already
                found.append(file)
        return found

    # --- the zip ------------------------------------------------------------------------

    def zip_members(self, collection: Collection, caller: Caller) -> list[File]:
        """What the zip holds: the readable files, less those with a download limit.

        Each download of a limited file must be counted on its own link (the zip
        counts one download of the collection, not of its members), so such a file
        stays on the page, its card one click away, and out of everyone's zip.
        """
        return [f for f in self.readable(collection, caller) if f.max_downloads is None]

    def zip_plan(self, collection: Collection, caller: Caller) -> ZipPlan:
        """The zip of what this caller may read (``readable``); a CRC-32 missing from an
        older blob is computed here once and kept."""
        files = self.zip_members(collection, caller)
        rows = [(f.filename, f.sha256, f.size, f.created_at) for f in files]
        crcs = self.blobs.crc32s(sorted({f.sha256 for f in files}))
        return plan_zip(rows, crcs.__getitem__)

    def zip_tail(self, plan: ZipPlan) -> bytes:
        """The zip's central directory, computed once per member set (its ETag) and cached."""

        def load() -> dict[str, Any]:
            tail = plan.tail(self.blobs.storage.open)
            return {"tail": base64.b64encode(tail).decode("ascii")}

        key = self.cache.key("zip-tail", plan.etag)
        found = self.cache.get_or_load(key, load, ZIP_TAIL_TTL, 0)
        if found is None:  # not cached after all: compute it here
            found = load()
        return base64.b64decode(found["tail"])

    def zip_tail_soon(self, plan: ZipPlan) -> Callable[[], bytes]:
        """The tail, started now in a thread when it is not cached yet, so that a
        download streaming the members does not wait for it at the end."""
        done: Future[bytes] = Future()

        def compute() -> None:
            try:
                done.set_result(self.zip_tail(plan))
            except BaseException as exc:  # handed to whoever waits for the tail
                done.set_exception(exc)

        threading.Thread(target=compute, name="zip-tail", daemon=True).start()
        return lambda: done.result(timeout=ZIP_TAIL_WAIT)

    def count_download(self, collection: Collection) -> None:
        """The one place a download of a collection is counted (the zip): atomic, and a
        410 once its limit is reached; then ``collection.downloaded`` is told."""
        if not self.access.take_download(Collection, collection.id):
            raise Gone("this collection reached its download limit")
        if self.notifier is not None:
            data = {"id": collection.public_id, "title": collection.title}
            self.notifier.emit("collection.downloaded", collection.owner_id, data)

    def owner_of(self, ident: str) -> tuple[int | None, str] | None:
        """Who owns a collection, and its title (for download alerts); None when unknown."""
        if not looks_like_id(ident):
            return None
        with self.db.read() as session:
            found = session.scalar(select(Collection).where(Collection.public_id == ident))
        return (found.owner_id, found.title) if found is not None else None

    # --- changing -------------------------------------------------------------------

    def update(
        self, ident: str, caller: Caller, version: int, changes: CollectionChanges
    ) -> Collection:
        """Apply changes if the collection is still at ``version`` (If-Match), else 412.

        Every value is checked before anything is written (the rules by the files'
        own ``FileAccess.rule_values``): a bad one is a 400 and nothing changes. A
        new or removed password voids every session's earlier unlock (``unlock_key``).
        """
        found = self.visible(ident, caller)
        self.access.check_manage(found, caller, "upload", NOUN)
        values: dict[str, object] = {}
        if changes.title is not None:
            values["title"] = _title(changes.title)
        if changes.description is not None:
            values["description"] = _description(changes.description)
        values |= self.access.rule_values(found, changes, NOUN)
        limit = values.get("max_downloads")
        with self.db.write() as session:
            # A download may land meanwhile: the new limit must still be above the count.
            room = [Collection.downloads < limit] if isinstance(limit, int) else []
            _bump(session, found, version, values, room)
        return self.visible(ident, caller)

    def delete(self, ident: str, caller: Caller) -> None:
        """Delete the collection; its files stay (they have their own links)."""
        found = self.visible(ident, caller)
        self.access.check_manage(found, caller, "delete", NOUN)
        with self.db.write() as session:
            session.execute(delete(CollectionItem).where(CollectionItem.collection_id == found.id))
            session.execute(delete(Collection).where(Collection.id == found.id))

    def add_files(
        self, collection: Collection, file_ids: Sequence[str], caller: Caller
    ) -> Collection:
        """Append files to a collection; the entry point uploads and file requests use.

        The caller must manage the collection (owner, admin or its management
        token) and every file named (so nobody files someone else's upload into
        their own collection). Files already in it keep their place.
        """
        self.access.check_manage(collection, caller, "upload", NOUN)
        files = [self._managed_file(ident, caller) for ident in _ids(file_ids)]
        return self._append(collection, files)

    def add_upload(
        self, ident: str, file_id: str, caller: Caller, file_token: str | None
    ) -> Collection:
        """A finished resumable upload goes into the collection its metadata named.

        The caller must still manage the collection; the file is theirs by its
        owner, or by ``file_token``, the management token its upload just issued.
        """
        collection = self.visible(ident, caller)
        self.access.check_manage(collection, caller, "upload", NOUN)
        uploader = replace(caller, manage_token=file_token) if file_token else caller
        return self._append(collection, [self._managed_file(file_id, uploader)])

    def _append(self, collection: Collection, files: list[File]) -> Collection:
        with self.db.write() as session:
            # The collection's row first: concurrent appends queue on it. Taken after the
            # items' inserts (whose foreign keys share-lock the row), two appends deadlock
            # on MariaDB, as concurrent uploads through one file request showed.
            _bump(session, collection, None, {})
            present = set(
                session.scalars(
                    select(CollectionItem.file_id).where(
                        CollectionItem.collection_id == collection.id
                    )
                )
            )
            if len(present | {f.id for f in files}) > MAX_FILES:
                raise InvalidInput(f"a collection holds at most {MAX_FILES} files")
            position = _next_position(session, collection.id)
            for file in files:
                if file.id in present:
                    continue
                present.add(file.id)
                session.add(
                    CollectionItem(collection_id=collection.id, file_id=file.id, position=position)
                )
                position += 1
        return self._reload(collection)

    def upload_into(
        self, ident: str, caller: Caller, prepared: PreparedUpload
    ) -> tuple[Collection, PreparedUpload]:
        """Before an upload that names a collection (a form's or tus' ``collection``):
        only who may manage the collection uploads into it. An anonymous uploader
        proves it with the collection's token, and the new file gets that same token
        (not a new one), so one token manages the collection and all its files.
        Once stored, ``add_files`` puts the file in."""
        collection = self.visible(ident, caller)
        self.access.check_manage(collection, caller, "upload", NOUN)
        if prepared.options.owner_id is None and caller.manage_token:
            options = replace(prepared.options, manage_token_hash=hash_token(caller.manage_token))
            prepared = PreparedUpload(options, None)
        return collection, prepared

    def remove_files(
        self, collection: Collection, file_ids: Sequence[str], caller: Caller
    ) -> Collection:
        """Take files out of a collection (the files themselves stay)."""
        self.access.check_manage(collection, caller, "upload", NOUN)
        ids = _ids(file_ids)
        with self.db.write() as session:
            rows = select(File.id).where(File.public_id.in_(ids))
            session.execute(
                delete(CollectionItem).where(
                    CollectionItem.collection_id == collection.id,
                    CollectionItem.file_id.in_(rows),
                )
            )
            _bump(session, collection, None, {})
        return self._reload(collection)

    def reorder(
        self, collection: Collection, file_ids: Sequence[str], caller: Caller
    ) -> Collection:
        """Put the named members first, in that order; the others follow as they were."""
        self.access.check_manage(collection, caller, "upload", NOUN)
        wanted = _ids(file_ids)
        current = [f.public_id for f in self.files(collection)]
        order = [i for i in wanted if i in current] + [i for i in current if i not in wanted]
        with self.db.write() as session:
            rows = session.execute(
                select(File.public_id, CollectionItem.id)
                .join(CollectionItem, CollectionItem.file_id == File.id)
                .where(CollectionItem.collection_id == collection.id)
            )
            positions = {public_id: item_id for public_id, item_id in rows}
            for index, public_id in enumerate(order):
                session.execute(
                    update(CollectionItem)
                    .where(CollectionItem.id == positions[public_id])
                    .values(position=index)
                )
            _bump(session, collection, None, {})
        return self._reload(collection)

    def sweep(self, limit: int = 1000) -> int:
        """Delete expired and used-up collections (their files stay); the ``expire_sweep``
        job runs it. Until then they answer 410 already (``FileAccess.admit``)."""
        now = utcnow()
        done = or_(
            Collection.expires_at <= now,
            and_(
                Collection.max_downloads.isnot(None),
                Collection.downloads >= Collection.max_downloads,
            ),
        )
        with self.db.write() as session:
            ids = list(session.scalars(select(Collection.id).where(done).limit(limit)))
            if ids:
                session.execute(delete(CollectionItem).where(CollectionItem.collection_id.in_(ids)))
                session.execute(delete(Collection).where(Collection.id.in_(ids)))
        return len(ids)

    # --- helpers ----------------------------------------------------------------------

    def _lookup(self, ident: str, by_short_code: bool) -> Collection:
        if not looks_like_id(ident, max_length=16 if by_short_code else 32):
            raise NotFound("no such collection")
        column = Collection.short_code if by_short_code else Collection.public_id
        with self.db.read() as session:
            found = session.scalar(select(Collection).where(column == ident))
        if found is None:
            raise NotFound("no such collection")
        return found

    def _reload(self, collection: Collection) -> Collection:
        with self.db.read() as session:
            found = session.get(Collection, collection.id)
        if found is None:
            raise NotFound("no such collection")
        return found

    def _managed_file(self, ident: str, caller: Caller) -> File:
        file = self.access.visible(ident, caller)
        self.access.check_manage(file, caller, "upload")
        return file


def _bump(
    session: Session,
    collection: Collection,
    version: int | None,
    values: dict[str, object],
    also: Sequence[ColumnElement[bool]] = (),
) -> None:
    """A new version (the ETag) for any change of the record or its members; with
    ``version``, only if the row is still at it (If-Match, and ``also``), else 412."""
    conditions = [Collection.id == collection.id, *also]
    if version is not None:
        conditions.append(Collection.version == version)
    result = session.execute(
        update(Collection)
        .where(*conditions)
        .values(version=Collection.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("the collection changed since that ETag; read it again")


def _next_position(session: Session, collection_id: int) -> int:
    last = session.scalar(
        select(func.max(CollectionItem.position)).where(
            CollectionItem.collection_id == collection_id
        )
    )
    return 0 if last is None else int(last) + 1


def _ids(file_ids: Sequence[str]) -> list[str]:
    if len(file_ids) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files at a time")
    seen: list[str] = []
    for ident in file_ids:
        if not isinstance(ident, str) or not looks_like_id(ident):
            raise NotFound("no such file")
        if ident not in seen:
            seen.append(ident)
    return seen


def _title(title: str | None) -> str:
    text = (title or "").strip()
    if len(text) > MAX_TITLE:
        raise InvalidInput(f"a title is at most {MAX_TITLE} characters")
    return text or "Untitled collection"


def _description(text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(f"a description is at most {MAX_DESCRIPTION} characters")
    return text.strip() or None
