"""File requests: an upload link a signed-in user hands to others (docs/collections.md).

Whoever has the link (``/u/<code>``) uploads through the one upload pipeline, as
the request's owner: the files are the owner's (their quota, private to them) and
land in the request's collection. The uploader gets a receipt (name, size,
sha256) and never a link.

The request's limits (files, total bytes, open or closed, expiry) are reserved
by ``reserve_request_room``, one of the pipeline's reservations: it locks the
request's row in the transaction that records the file, so two concurrent
uploads are counted one after the other and never both take the last place.
Its allowed types ride on the upload's options (``UploadOptions.accepted_types``),
checked by the pipeline beside the server's own lists. ``receive`` is the one
place a request receives a file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pastefile.db.collections import Collection
from pastefile.db.database import Database
from pastefile.db.file_requests import FileRequest
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.db.users import User
from pastefile.errors import (
    InsufficientScope,
    InvalidInput,
    NotFound,
    PasteFileError,
    PreconditionFailed,
    RequestBytesExceeded,
    RequestClosed,
    RequestFull,
)
from pastefile.services.access import Caller, FileAccess
from pastefile.services.accounts import Principal
from pastefile.services.collections import MAX_FILES as MAX_COLLECTION_FILES
from pastefile.services.collections import CollectionService, NewCollection
from pastefile.services.ids import looks_like_id, new_public_id, random_base62
from pastefile.services.notifications import Notifier
from pastefile.services.policy import UploadPolicy
from pastefile.services.upload_options import UploadOptions
from pastefile.services.uploads import UploadService
from pastefile.storage.base import BlobWriter

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_MESSAGE = 10_000
MAX_TYPES = 20
# Every file lands in one collection, which holds at most this many.
MAX_REQUEST_FILES = MAX_COLLECTION_FILES
MAX_REQUEST_BYTES = 2**53  # any total a client can name exactly (JSON numbers)
# The columns a change may set to null (the rest always have a value).
CLEARABLE = frozenset({"message", "max_files", "max_bytes", "expires_at", "password_hash"})
CODE_LENGTH = 22  # ~131 bits: the link is the only key to upload
NOUN = "request"
_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,63})$")


@dataclass(frozen=True)
class RequestFields:
    """What a client sets on a request; in a change, None leaves a field as it is."""

    title: str | None = None
    message: str | None = None
    max_files: int | None = None
    max_bytes: int | None = None
    allowed_types: tuple[str, ...] | None = None
    expires_in: int | None = None
    password: str | None = None
    # Only in a change: the columns to remove (``CLEARABLE``), or close/reopen the request.
    clear: frozenset[str] = frozenset()
    closed: bool | None = None


@dataclass(frozen=True)
class Receipt:
    """What an uploader learns about what they sent: never a link to it."""

    filename: str
    size: int
    sha256: str
    received_at: datetime


def allowed_types_of(request: FileRequest) -> tuple[str, ...]:
    return tuple(request.allowed_types.split()) if request.allowed_types else ()


def is_open(request: FileRequest) -> bool:
    expired = request.expires_at is not None and request.expires_at <= utcnow()
    return request.closed_at is None and not expired


def reserve_request_room(session: Session, sha256: str, size: int, options: UploadOptions) -> None:
    """The pipeline's reservation for an upload through a request (``request_id``).

    In the transaction that records the file: the request's row is locked, so
    concurrent uploads are counted one after the other; a closed, expired or full
    request refuses, and the file is counted as received.
    """
    if options.request_id is None:
        return
    request = session.get(FileRequest, options.request_id, with_for_update=True)
    if request is None or not is_open(request):
        raise RequestClosed("this file request is closed")
    if request.max_files is not None and request.received_files >= request.max_files:
        raise RequestFull(f"this request takes {request.max_files} files and has them all")
    if request.max_bytes is not None and request.received_bytes + size > request.max_bytes:
        free = max(request.max_bytes - request.received_bytes, 0)
        raise RequestBytesExceeded(f"{free} bytes are left in this request; this file is {size}")
    session.execute(
        update(FileRequest)
        .where(FileRequest.id == request.id)
        .values(
            received_files=FileRequest.received_files + 1,
            received_bytes=FileRequest.received_bytes + size,
        )
        .execution_options(synchronize_session=False)
    )


class FileRequestService:
    """Creating and managing requests (their owner), and taking uploads (anyone with the link)."""

    def __init__(
        self,
        db: Database,
        access: FileAccess,
        policy: UploadPolicy,
        collections: CollectionService,
        uploads: UploadService,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.access = access
        self.policy = policy
        self.collections = collections
        self.uploads = uploads
        self.notifier = notifier  # told about every file a request receives

    # --- the owner's side -------------------------------------------------------------

    def create(self, who: Principal, fields: RequestFields) -> FileRequest:
        """A new open request of ``who``, with its (private) collection."""
        if not who.has_scope("upload"):
            raise InsufficientScope("file requests need the 'upload' scope")
        if fields.title is None:
            raise InvalidInput("a request needs a title")
        values = self._values(fields)
        made = self.collections.create(
            Caller(principal=who), NewCollection(title=values["title"], visibility="private")
        )
        record = FileRequest(
            public_id=new_public_id(),
            code=random_base62(CODE_LENGTH),
            owner_id=who.user_id,
            collection_id=made.collection.id,
            allowed_types=values.pop("allowed_types", ""),
            received_files=0,
            received_bytes=0,
            version=1,
            **values,
        )
        with self.db.write() as session:
            session.add(record)
            session.flush()
        return record

    def owned(self, owner_id: int) -> list[FileRequest]:
        """The owner's requests, newest first."""
        with self.db.read() as session:
            rows = session.scalars(
                select(FileRequest)
                .where(FileRequest.owner_id == owner_id)
                .order_by(FileRequest.created_at.desc(), FileRequest.id.desc())
                .limit(500)
            )
            return list(rows)

    def get(self, ident: str, caller: Caller) -> FileRequest:
        """A request for its owner (or an admin); nobody else can tell it exists."""
        found = self._by(FileRequest.public_id, ident)
        who = caller.principal
        if found is None or who is None or not (who.user_id == found.owner_id or who.is_admin):
            raise NotFound("no such request")
        return found

    def update(
        self, ident: str, caller: Caller, version: int, fields: RequestFields
    ) -> FileRequest:
        """Apply a change if the request is still at ``version`` (If-Match), else 412."""
        found = self._managed(ident, caller)
        if not fields.clear <= CLEARABLE:
            raise InvalidInput(f"only {', '.join(sorted(CLEARABLE))} can be removed")
        values = self._values(fields)
        values |= {name: None for name in fields.clear}
        if fields.closed is not None:
            values["closed_at"] = utcnow() if fields.closed else None
        values |= {"version": FileRequest.version + 1, "updated_at": utcnow()}
        with self.db.write() as session:
            result = session.execute(
                update(FileRequest)
                .where(FileRequest.id == found.id, FileRequest.version == version)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PreconditionFailed("the request changed since that ETag; read it again")
        return self.get(ident, caller)

    def delete(self, ident: str, caller: Caller) -> None:
        """The link stops working; the files and their collection stay the owner's."""
        found = self._managed(ident, caller)
        with self.db.write() as session:
            session.execute(delete(FileRequest).where(FileRequest.id == found.id))

    def collection_of(self, request: FileRequest) -> Collection | None:
        if request.collection_id is None:
            return None
        with self.db.read() as session:
            return session.get(Collection, request.collection_id)

    # --- the uploader's side ----------------------------------------------------------

    def open(self, code: str, caller: Caller) -> FileRequest:
        """The request behind a link, if it takes uploads and this caller proved its
        password (the read gate's password rule, budget and session unlocks)."""
        found = self._by(FileRequest.code, code) if looks_like_id(code) else None
        if found is None or not self._owner_active(found.owner_id):
            raise NotFound("no such file request")
        if not is_open(found):
            raise RequestClosed("this file request is closed")
        self.access.admit(found, found.public_id, caller, NOUN)
        return found

    def upload_options(self, request: FileRequest) -> UploadOptions:
        """An upload through ``request``: the owner's file, private to them, counted
        against the request (``reserve_request_room``) and limited to its types."""
        return UploadOptions(
            owner_id=request.owner_id,
            visibility="private",
            request_id=request.id,
            accepted_types=allowed_types_of(request),
        )

    def upload_options_of(self, request_id: int) -> UploadOptions:
        """``upload_options`` of a request named by its row id (a tus upload finishing);
        the reservation refuses if it closed or went meanwhile."""
        with self.db.read() as session:
            request = session.get(FileRequest, request_id)
        if request is None:
            raise RequestClosed("this file request is closed")
        return self.upload_options(request)

    def check_room(self, request: FileRequest, length: int | None) -> None:
        """Refuse early what cannot fit (the reservation decides for good)."""
        if request.max_files is not None and request.received_files >= request.max_files:
            raise RequestFull(f"this request takes {request.max_files} files and has them all")
        left = None if request.max_bytes is None else request.max_bytes - request.received_bytes
        if left is not None and length is not None and length > left:
            raise RequestBytesExceeded(f"{max(left, 0)} bytes are left in this request")

    def take(self, request: FileRequest, writer: BlobWriter, filename: str | None) -> Receipt:
        """An upload through ``request`` (``POST /u/<code>``): the one upload pipeline
        on the request's options, then ``receive``."""
        result = self.uploads.finish(writer, filename, options=self.upload_options(request))
        return self.receive(request.id, result.file)

    def receive(self, request_id: int, file: File) -> Receipt:
        """The one place a request receives a file: it joins the request's collection
        (made again if the owner deleted it), and the uploader gets a receipt."""
        with self.db.read() as session:
            request = session.get(FileRequest, request_id)
        if request is not None:
            acting = Caller(principal=_acting_for(request.owner_id))
            try:
                collection = self.collection_of(request) or self._new_collection(request, acting)
                self.collections.add_files(collection, [file.public_id], acting)
            except PasteFileError as exc:  # a full collection: the file is still the owner's
                log.warning("request %s: file %s not filed: %s", request.id, file.public_id, exc)
            self._tell_received(request, file)
        return Receipt(file.filename, file.size, file.sha256, file.created_at)

    def _tell_received(self, request: FileRequest, file: File) -> None:
        if self.notifier is None:
            return
        received = {"id": file.public_id, "filename": file.filename, "size": file.size}
        data = {"id": request.public_id, "title": request.title, "file": received}
        self.notifier.emit("request.received", request.owner_id, data)

    def owner_of(self, ident: str) -> tuple[int | None, str] | None:
        """Who made a request, and its title (for alerts); None when unknown."""
        found = self._by(FileRequest.public_id, ident) if looks_like_id(ident) else None
        return (found.owner_id, found.title) if found is not None else None

    # --- helpers ----------------------------------------------------------------------

    def _values(self, fields: RequestFields) -> dict[str, Any]:
        """The columns ``fields`` set, validated (upload options' rules for expiry and password)."""
        values: dict[str, Any] = {}
        if fields.title is not None:
            values["title"] = _text(fields.title, MAX_TITLE, "title", required=True)
        if fields.message is not None:
            values["message"] = _text(fields.message, MAX_MESSAGE, "message") or None
        if fields.max_files is not None:
            values["max_files"] = _bounded(fields.max_files, MAX_REQUEST_FILES, "max_files")
        if fields.max_bytes is not None:
            values["max_bytes"] = _bounded(fields.max_bytes, MAX_REQUEST_BYTES, "max_bytes")
        if fields.allowed_types is not None:
            values["allowed_types"] = _types(fields.allowed_types)
        if fields.expires_in is not None:
            values["expires_at"] = self.policy.expiry(fields.expires_in)
        if fields.password is not None:
            if not fields.password:
                raise InvalidInput("an empty password; to remove the password, clear it")
            values["password_hash"] = self.policy.password_hash(fields.password)
        return values

    def _managed(self, ident: str, caller: Caller) -> FileRequest:
        found = self.get(ident, caller)
        who = caller.principal
        if who is not None and not who.is_admin and not who.has_scope("upload"):
            raise InsufficientScope("changing a request needs the 'upload' scope")
        return found

    def _by(self, column: Any, value: str) -> FileRequest | None:
        if not looks_like_id(value):
            return None
        with self.db.read() as session:
            return session.scalar(select(FileRequest).where(column == value))

    def _owner_active(self, owner_id: int) -> bool:
        with self.db.read() as session:
            user = session.get(User, owner_id)
        return user is not None and not user.disabled

    def _new_collection(self, request: FileRequest, acting: Caller) -> Collection:
        made = self.collections.create(
            acting, NewCollection(title=request.title, visibility="private")
        )
        with self.db.write() as session:
            session.execute(
                update(FileRequest)
                .where(FileRequest.id == request.id)
                .values(collection_id=made.collection.id)
                .execution_options(synchronize_session=False)
            )
        return made.collection


def _acting_for(owner_id: int) -> Principal:
    """The request acting for its owner: it may put the owner's new files into the
    owner's collection (the upload scope), nothing more."""
    return Principal(owner_id, "", 0, frozenset({"upload"}))


def _text(value: str, limit: int, name: str, required: bool = False) -> str:
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(f"the {name} is at most {limit} characters")
    if required and not text:
        raise InvalidInput(f"the {name} cannot be empty")
    return text


def _bounded(value: int, limit: int, name: str) -> int:
    if not 1 <= value <= limit:
        raise InvalidInput(f"{name} must be between 1 and {limit}")
    return value


def _types(patterns: tuple[str, ...]) -> str:
    if len(patterns) > MAX_TYPES:
        raise InvalidInput(f"at most {MAX_TYPES} allowed types")
    cleaned = [p.strip().lower() for p in patterns if p.strip()]
    for pattern in cleaned:
        if not _TYPE.match(pattern):
            raise InvalidInput(f"{pattern!r} is not a MIME type or a pattern like image/*")
    return " ".join(dict.fromkeys(cleaned))
