"""The tus service: creating, appending to, finishing and expiring uploads."""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pastefile import crashpoints
from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.tus import TusUpload
from pastefile.db.types import utcnow
from pastefile.errors import (
    AnonymousUploadsDisabled,
    Blocked,
    ChecksumMismatch,
    CorruptImage,
    EmptyFile,
    Gone,
    InsufficientScope,
    InvalidInput,
    NotFound,
    OffsetMismatch,
    PasteFileError,
    TooLarge,
    UnsupportedType,
    UploadBusy,
    UploadExpired,
)
from pastefile.services.access import Caller
from pastefile.services.accounts import Principal, hash_token, new_token
from pastefile.services.file_requests import FileRequestService
from pastefile.services.names import sanitize_filename
from pastefile.services.policy import UploadPolicy, UploadRequest
from pastefile.services.tus.headers import (
    CHECKSUMS,
    NAMING_KEYS,
    SECRET_KEYS,
    Checksum,
    metadata_echo,
    optional_int,
    parse_metadata,
)
from pastefile.services.tus.state import AppendResult, TusState, state_of
from pastefile.services.upload_options import UploadOptions
from pastefile.services.uploads import UploadService
from pastefile.storage.parts import Part, PartStore, valid_upload_id

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Refusals of the bytes themselves: the part can never become a file, so it goes.
_SPENT = (InvalidInput, UnsupportedType, CorruptImage, TooLarge, Blocked)


@dataclass
class _Progress:
    written: int = 0


class _BodyBroken(Exception):
    """Reading the request body failed: the client went away mid-chunk."""


# --- the service ----------------------------------------------------------------------


class TusService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        parts: PartStore | None,
        uploads: UploadService,
        policy: UploadPolicy,
        requests: FileRequestService,
    ) -> None:
        self.settings = settings
        self.db = db
        self._parts = parts
        self.uploads = uploads
        self.policy = policy
        self.requests = requests

    @property
    def parts(self) -> PartStore:
        if self._parts is None:
            raise PasteFileError("this storage backend has no area for resumable uploads")
        return self._parts

    @property
    def max_size(self) -> int:
        return int(self.settings.max_upload_size)

    def _expiry(self) -> datetime:
        return utcnow() + timedelta(seconds=self.settings.tus_expiry_seconds)

    # --- creation ---------------------------------------------------------------------

    def create(
        self,
        who: Principal | None,
        length: int,
        metadata: str | None,
        caller: Caller | None = None,
    ) -> TusState:
        """A new upload of ``length`` bytes; the options come from ``Upload-Metadata``.

        ``request <code>`` in the metadata makes it an upload through that file
        request: ``caller`` proves the request's password, and the request's rules
        replace the metadata's options (``FileRequestService.upload_options``).
        """
        _ = self.parts  # refuse before recording anything when there is no part area
        if length == 0:
            raise EmptyFile("Upload-Length is 0: an empty file cannot be uploaded")
        if length > self.max_size:
            raise TooLarge(f"the upload exceeds the limit of {self.max_size} bytes")
        values = parse_metadata(metadata)
        if "request" in values:
            options = self._request_options(values["request"], length, caller or Caller())
        else:
            options = self._asked_options(who, values)
        # An encrypted upload's name is not kept, even for a while (docs/encryption.md).
        encrypted = bool(options.get("encrypted"))
        name = None if encrypted else values.get("filename") or values.get("name")
        hidden = SECRET_KEYS | NAMING_KEYS if encrypted else SECRET_KEYS
        options["metadata"] = metadata_echo(metadata, hidden)
        row = TusUpload(
            id=secrets.token_hex(16),
            owner_id=who.user_id if who else None,
            length=length,
            received=0,
            filename=sanitize_filename(name) if name else "",
            options=json.dumps(options),
            expires_at=self._expiry(),
        )
        with self.db.write() as session:
            session.add(row)
        return state_of(row)

    def _request_options(self, code: str, length: int, caller: Caller) -> dict[str, Any]:
        """An upload through a file request: open, password proved, room for ``length``."""
        request = self.requests.open(code, caller)
        self.requests.check_room(request, length)
        return {"request_id": request.id}

    def _asked_options(self, who: Principal | None, values: dict[str, str]) -> dict[str, Any]:
        asked = UploadRequest(
            expires_in=optional_int(values, "expires_in"),
            max_downloads=optional_int(values, "max_downloads"),
            password=values.get("password") or None,
            visibility=values.get("visibility") or None,
            encryption=values.get("encryption") or None,
        )
        prepared = self.policy.prepare(who, asked)  # auth, scope and every option, now
        return {
            "encrypted": prepared.options.encrypted,
            "visibility": prepared.options.visibility,
            "expires_in": asked.expires_in,
            "max_downloads": prepared.options.max_downloads,
            "password_hash": prepared.options.password_hash,
        }

    # --- reading ----------------------------------------------------------------------

    def status(self, upload_id: str, who: Principal | None) -> TusState:
        """The upload for HEAD: 404 for others' and unknown ids, 410 once expired."""
        state = self._find(upload_id, who)
        if state is None:
            raise NotFound("no such upload")
        if state.expires_at <= utcnow():
            raise UploadExpired("this upload expired; start a new one")
        return state

    def _find(self, upload_id: str, who: Principal | None) -> TusState | None:
        # Strict shape check first: nothing else reaches the database or a path.
        if not valid_upload_id(upload_id):
            return None
        with self.db.read() as session:
            row = session.get(TusUpload, upload_id)
        if row is None:
            return None
        state = state_of(row)
        if state.owner_id is not None and (who is None or who.user_id != state.owner_id):
            return None  # somebody else's: nobody can tell it exists
        return state

    def _writable(self, upload_id: str, who: Principal | None) -> TusState:
        state = self.status(upload_id, who)
        if who is not None and not who.has_scope("upload"):
            raise InsufficientScope("resumable uploads need the 'upload' scope")
        return state

    # --- PATCH ----------------------------------------------------------------------

    def append(
        self,
        upload_id: str,
        who: Principal | None,
        offset: int,
        body: IO[bytes],
        checksum: Checksum | None = None,
    ) -> AppendResult:
        """Write one PATCH body at ``offset``; finish the upload when it is complete."""
        state = self._writable(upload_id, who)
        if state.complete:
            self._forget_part(upload_id)
            return _already_complete(state, offset, body)
        with self.parts.open(upload_id, create=True) as part:
            state = self._locked(upload_id, who, part)
            if state.complete:  # finished by the request we waited for
                part.remove()
                return _already_complete(state, offset, body)
            _check_offset(state, offset)
            written, broken = self._receive(part, state, body, checksum)
            if written:
                state = self._record(state, state.offset + written)
            if broken is not None:
                raise broken
            if state.offset == state.length and not state.complete:
                return self._complete(state, part)
        return AppendResult(state)

    def _forget_part(self, upload_id: str) -> None:
        """A finished upload's part, left by a crash after its file was recorded."""
        try:
            with self.parts.open(upload_id, create=False, wait=0) as part:
                part.remove()
        except (FileNotFoundError, UploadBusy):
            return

    def _locked(self, upload_id: str, who: Principal | None, part: Part) -> TusState:
        """The row again, now that the part is ours; the part agrees with it."""
        state = self._find(upload_id, who)
        if state is None:  # terminated or swept while we waited for the lock
            part.remove()
            raise NotFound("no such upload")
        if state.expires_at <= utcnow():
            raise UploadExpired("this upload expired; start a new one")
        if state.complete:
            return state
        if part.size < state.offset:
            log.error(
                "upload %s lost bytes: part %d < offset %d", upload_id, part.size, state.offset
            )
            self._drop(upload_id, part)
            raise Gone("this upload's bytes were lost; start a new upload")
        part.truncate(state.offset)  # bytes a crashed request wrote but never recorded
        return state

    def _receive(
        self, part: Part, state: TusState, body: IO[bytes], checksum: Checksum | None
    ) -> tuple[int, BaseException | None]:
        """Bytes written, and the error that cut the body short if they are kept.

        Without a checksum, what arrived before a disconnect is kept (tus
        lets the client resume from there); with one, a chunk is all or nothing.
        """
        digest = CHECKSUMS[checksum.algorithm]() if checksum else None
        progress = _Progress()
        try:
            _copy(part, state, body, digest, progress)
        except _BodyBroken as exc:
            cause = exc.__cause__ or exc
            if digest is not None:
                part.truncate(state.offset)
                raise cause from None
            part.sync()
            return progress.written, cause
        except BaseException:
            part.truncate(state.offset)
            raise
        if checksum is not None and digest is not None and digest.digest() != checksum.digest:
            part.truncate(state.offset)
            raise ChecksumMismatch(f"the chunk's {checksum.algorithm} differs; it was discarded")
        part.sync()
        return progress.written, None

    def _record(self, state: TusState, received: int) -> TusState:
        expires = self._expiry()  # sliding: an upload expires after its last PATCH
        with self.db.write() as session:
            result = session.execute(
                update(TusUpload)
                .where(TusUpload.id == state.id, TusUpload.received == state.offset)
                .values(received=received, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound("the upload was removed meanwhile")
        return replace(state, offset=received, expires_at=expires)

    # --- completion ---------------------------------------------------------------------

    def _complete(self, state: TusState, part: Part) -> AppendResult:
        try:
            options, token = self._options(state)
            with part.reader() as stream:
                result = self.uploads.save_stream(
                    stream,
                    state.filename or None,
                    options=options,
                    recorded=lambda session, file: _note_file(session, state.id, file.public_id),
                )
        except _SPENT:
            self._drop(state.id, part)
            raise
        crashpoints.reached("tus.finished")
        if not result.created:  # an existing file: no transaction of ours recorded it
            with self.db.write() as session:
                _note_file(session, state.id, result.file.public_id)
        if options.request_id is not None:
            self.requests.receive(options.request_id, result.file)
        part.remove()
        done = replace(state, file_public_id=result.file.public_id)
        return AppendResult(done, result, token if result.created else None)

    def _options(self, state: TusState) -> tuple[UploadOptions, str | None]:
        """The stored options, with the expiry counted from now."""
        request_id = state.options.get("request_id")
        if isinstance(request_id, int):  # the requester's file, on the request's rules
            return self.requests.upload_options_of(request_id), None
        if state.owner_id is None and not self.settings.allow_anonymous_uploads:
            raise AnonymousUploadsDisabled("anonymous uploads were turned off on this server")
        asked = state.options
        token = new_token() if state.owner_id is None else None
        options = UploadOptions(
            owner_id=state.owner_id,
            visibility=str(asked.get("visibility") or "public"),
            expires_at=self.policy.expiry(asked.get("expires_in")),
            max_downloads=asked.get("max_downloads"),
            password_hash=asked.get("password_hash"),
            manage_token_hash=hash_token(token) if token else None,
            encrypted=bool(asked.get("encrypted")),
        )
        return options, token

    # --- termination and expiry ---------------------------------------------------------

    def terminate(self, upload_id: str, who: Principal | None) -> None:
        """tus termination: the upload and its bytes go (a finished file stays)."""
        state = self._find(upload_id, who)
        if state is None:
            raise NotFound("no such upload")
        if who is not None and not who.has_scope("upload"):
            raise InsufficientScope("resumable uploads need the 'upload' scope")
        try:
            with self.parts.open(upload_id, create=False) as part:
                self._drop(upload_id, part)
        except FileNotFoundError:
            self._delete_row(upload_id)

    def _drop(self, upload_id: str, part: Part) -> None:
        # Row first: a crash in between leaves a part without a row, which
        # ``expire`` removes; never a row whose bytes are gone.
        self._delete_row(upload_id)
        part.remove()

    def _delete_row(self, upload_id: str, expired_before: datetime | None = None) -> bool:
        query = delete(TusUpload).where(TusUpload.id == upload_id)
        if expired_before is not None:
            query = query.where(TusUpload.expires_at <= expired_before)
        with self.db.write() as session:
            result = session.execute(query.execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def expire(self, limit: int = 1000) -> int:
        """Remove expired uploads and stray parts; returns how many went.

        Parts a request is writing to are skipped; the next sweep gets them. A storage
        without a part area (S3) has no resumable uploads, so nothing to sweep: the
        expiry sweep must not fail there.
        """
        if self._parts is None:
            return 0
        now = utcnow()
        with self.db.read() as session:
            query = select(TusUpload.id).where(TusUpload.expires_at <= now).limit(limit)
            expired = list(session.scalars(query))
        removed = sum(self._expire_one(upload_id, now) for upload_id in expired)
        return removed + self._remove_strays(limit)

    def _expire_one(self, upload_id: str, now: datetime) -> int:
        try:
            with self.parts.open(upload_id, create=False, wait=0) as part:
                if not self._delete_row(upload_id, expired_before=now):
                    return 0
                part.remove()
                return 1
        except FileNotFoundError:
            return int(self._delete_row(upload_id, expired_before=now))
        except UploadBusy:
            return 0

    def _remove_strays(self, limit: int) -> int:
        """Parts with no row (a crash between the two deletes), once old enough."""
        cutoff = time.time() - self.settings.tus_expiry_seconds
        old = [upload_id for upload_id, mtime in self.parts.list() if mtime < cutoff][:limit]
        removed = 0
        for upload_id in old:
            try:
                with self.parts.open(upload_id, create=False, wait=0) as part:
                    with self.db.read() as session:
                        if session.get(TusUpload, upload_id) is not None:
                            continue
                    part.remove()
                    removed += 1
            except (FileNotFoundError, UploadBusy):
                continue
        return removed


def _note_file(session: Session, upload_id: str, public_id: str) -> None:
    """The upload's file, in the transaction that records it: a crash after that
    commit leaves an upload that names its file, never one that makes a second."""
    session.execute(
        update(TusUpload)
        .where(TusUpload.id == upload_id)
        .values(file_public_id=public_id)
        .execution_options(synchronize_session=False)
    )


def _check_offset(state: TusState, offset: int) -> None:
    if offset != state.offset:
        raise OffsetMismatch(
            f"Upload-Offset is {offset} but the upload is at {state.offset}", offset=state.offset
        )


def _already_complete(state: TusState, offset: int, body: IO[bytes]) -> AppendResult:
    """A PATCH after the last byte (a client that missed the final answer): idempotent."""
    _check_offset(state, offset)
    if body.read(1):
        raise TooLarge(f"the upload already has all of its {state.length} bytes")
    return AppendResult(state)


def _copy(part: Part, state: TusState, body: IO[bytes], digest: Any, progress: _Progress) -> None:
    """Stream the body into the part a MiB at a time, never past Upload-Length."""
    room = state.length - state.offset
    while True:
        try:
            chunk = body.read(min(CHUNK, room - progress.written + 1))
        except Exception as exc:
            raise _BodyBroken() from exc
        if not chunk:
            return
        if progress.written + len(chunk) > room:
            raise TooLarge(f"the chunk goes past Upload-Length ({state.length} bytes)")
        if digest is not None:
            digest.update(chunk)
        part.write_at(state.offset + progress.written, chunk)
        progress.written += len(chunk)
