"""Resumable uploads by the tus 1.0 protocol, with no web framework.

An upload is a ``TusUpload`` row (owner, declared length, bytes received so
far, the options asked for at creation, expiry) and a part file in the
storage's own area (``storage.parts``), named after the random id generated
here. ``append`` writes one PATCH body into the part, a MiB at a time, under
the part's lock; the row's ``received`` is the truth, and bytes past it (a
crash between writing and recording) are cut off before the next write.

When the last byte is in, the part goes through ``UploadService.save_stream``
like any other upload (type detection, allow/deny lists, blocklist, quotas,
retention, dedup, upload jobs), and the row remembers the file's public id.
A part whose bytes can never become a file (wrong type, blocked, too large for
the quota) is dropped at once; after a transient refusal (quota used up, disk
full) it stays, and an empty PATCH at the final offset tries again.

Uploads expire ``PASTEFILE_TUS_EXPIRY_SECONDS`` after their last PATCH;
``expire`` removes expired rows with their parts, and parts left without a row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, select, update

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
    UnsupportedChecksum,
    UnsupportedType,
    UploadBusy,
    UploadExpired,
)
from pastefile.services.accounts import Principal, hash_token, new_token
from pastefile.services.names import sanitize_filename
from pastefile.services.policy import UploadPolicy, UploadRequest
from pastefile.services.upload_options import UploadOptions
from pastefile.services.uploads import UploadResult, UploadService
from pastefile.storage.parts import Part, PartStore, valid_upload_id

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "termination", "expiration", "checksum")
CHECKSUMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
CHUNK = 1024 * 1024
MAX_METADATA = 4096
_META_KEY = re.compile(r"[!-+\--~]{1,64}")  # printable ASCII without space and comma
# Refusals of the bytes themselves: the part can never become a file, so it goes.
_SPENT = (InvalidInput, UnsupportedType, CorruptImage, TooLarge, Blocked)


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes


@dataclass(frozen=True)
class TusState:
    """One upload as the protocol reports it."""

    id: str
    owner_id: int | None
    length: int
    offset: int
    filename: str
    expires_at: datetime
    # Upload-Metadata as sent at creation, without the password.
    metadata: str
    file_public_id: str | None
    options: dict[str, Any]

    @property
    def complete(self) -> bool:
        return self.file_public_id is not None


@dataclass(frozen=True)
class AppendResult:
    state: TusState
    # Set when this request turned the upload into a file.
    upload: UploadResult | None = None
    # An anonymous upload's management token, shown once, for a new file only.
    manage_token: str | None = None


# --- headers ------------------------------------------------------------------------


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs."""
    if not header or not header.strip():
        return {}
    if len(header) > MAX_METADATA:
        raise InvalidInput(f"Upload-Metadata is at most {MAX_METADATA} characters")
    found: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not _META_KEY.fullmatch(key) or key in found:
            raise InvalidInput("Upload-Metadata keys are unique, non-empty, without spaces")
        found[key] = _base64_text(value.strip(), key)
    return found


def _base64_text(value: str, key: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput(f"Upload-Metadata {key!r} is not base64 of UTF-8 text") from None


def _metadata_echo(header: str | None) -> str:
    """What HEAD reports back: the client's own pairs, minus the password."""
    pairs = [p.strip() for p in (header or "").split(",") if p.strip()]
    return ",".join(p for p in pairs if p.partition(" ")[0] != "password")


def parse_checksum(header: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    factory = CHECKSUMS.get(algorithm.lower())
    if factory is None:
        raise UnsupportedChecksum(f"Upload-Checksum algorithms here: {', '.join(CHECKSUMS)}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != factory().digest_size:
        raise InvalidInput(f"Upload-Checksum is '{algorithm} <base64 of the digest>'")
    return Checksum(algorithm.lower(), digest)


def _optional_int(values: dict[str, str], name: str) -> int | None:
    raw = values.get(name)
    if raw in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,12}", raw):
        raise InvalidInput(f"Upload-Metadata {name!r} must be a whole number")
    return int(raw)


def _state(row: TusUpload) -> TusState:
    options = json.loads(row.options or "{}")
    return TusState(
        id=row.id,
        owner_id=row.owner_id,
        length=row.length,
        offset=row.received,
        filename=row.filename,
        expires_at=row.expires_at,
        metadata=str(options.get("metadata", "")),
        file_public_id=row.file_public_id,
        options=options,
    )


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
    ) -> None:
        self.settings = settings
        self.db = db
        self._parts = parts
        self.uploads = uploads
        self.policy = policy

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

    def create(self, who: Principal | None, length: int, metadata: str | None) -> TusState:
        """A new upload of ``length`` bytes; the options come from ``Upload-Metadata``."""
        _ = self.parts  # refuse before recording anything when there is no part area
        if length == 0:
            raise EmptyFile("Upload-Length is 0: an empty file cannot be uploaded")
        if length > self.max_size:
            raise TooLarge(f"the upload exceeds the limit of {self.max_size} bytes")
        values = parse_metadata(metadata)
        asked = UploadRequest(
            expires_in=_optional_int(values, "expires_in"),
            max_downloads=_optional_int(values, "max_downloads"),
            password=values.get("password") or None,
            visibility=values.get("visibility") or None,
        )
        prepared = self.policy.prepare(who, asked)  # auth, scope and every option, now
        name = values.get("filename") or values.get("name")
        options = {
            "visibility": prepared.options.visibility,
            "expires_in": asked.expires_in,
            "max_downloads": prepared.options.max_downloads,
            "password_hash": prepared.options.password_hash,
            "metadata": _metadata_echo(metadata),
        }
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
        return _state(row)

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
        state = _state(row)
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
                result = self.uploads.save_stream(stream, state.filename or None, options=options)
        except _SPENT:
            self._drop(state.id, part)
            raise
        with self.db.write() as session:
            session.execute(
                update(TusUpload)
                .where(TusUpload.id == state.id)
                .values(file_public_id=result.file.public_id)
                .execution_options(synchronize_session=False)
            )
        part.remove()
        done = replace(state, file_public_id=result.file.public_id)
        return AppendResult(done, result, token if result.created else None)

    def _options(self, state: TusState) -> tuple[UploadOptions, str | None]:
        """The stored options, with the expiry counted from now."""
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

        Parts a request is writing to are skipped; the next sweep gets them.
        """
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
