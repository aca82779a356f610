"""Uploads: from a stream of bytes to a stored, deduplicated file record."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from pastefile import crashpoints
from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.errors import EmptyFile, NotAnImage, ServiceBusy, TooLarge
from pastefile.ratelimit import RateLimiter, spend
from pastefile.services import filetypes
from pastefile.services.blobs import BlobStore
from pastefile.services.ids import new_public_id, new_short_code
from pastefile.services.imaging import originals
from pastefile.services.imaging.engines import ImageEngine
from pastefile.services.names import sanitize_filename
from pastefile.services.upload_options import (
    ANONYMOUS,
    ENCRYPTED_EXTENSION,
    ENCRYPTED_TYPE,
    UploadGuard,
    UploadOptions,
    UploadReservation,
)
from pastefile.storage.base import BlobWriter

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
_ATTEMPTS = 8
NO_PIXELS = "an end-to-end encrypted file has no pixels the server can see"

# Told about a new file inside the transaction that records it, so what the
# caller notes about it (a tus upload's file) commits with it or not at all.
Recorded = Callable[[Session, File], None]


@dataclass
class UploadResult:
    file: File
    created: bool
    job_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Incoming:
    """A finished upload waiting to be registered."""

    writer: BlobWriter
    filename: str
    mimetype: str


class UploadService:
    """The one upload pipeline: every write (multipart, PUT, tus, URL fetch, ``/r/``
    copies, resize-on-upload, RPC) ends in ``finish``.

    An encrypted upload (``UploadOptions.encrypted``) takes the same steps, minus every
    one that looks inside the bytes: no type detection, GPS stripping, resize or EXIF,
    no link dedup, and no jobs (jobs/hooks.py); its size, quota and guards still apply.

    Its steps, in order: refuse empty uploads; detect the type from the bytes
    (for text, a known extension chooses among the text types) and apply the
    allow/deny lists; strip GPS and crop-resize when asked;
    then, on the bytes that will actually be stored, the size limit and every
    guard (blocklist, retention); last, dedup and record, with the quota
    reserved in the recording transaction.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        blobs: BlobStore,
        engine: ImageEngine,
        limiter: RateLimiter,
        guards: Sequence[UploadGuard] = (),
        reservations: Sequence[UploadReservation] = (),
        listeners: Sequence[Callable[[UploadResult], None]] = (),
    ) -> None:
        self.settings = settings
        self.db = db
        self.blobs = blobs
        self.storage = blobs.storage
        self.engine = engine
        self.limiter = limiter
        # Checks on the bytes to be stored, before anything is recorded.
        self.guards = tuple(guards)
        # Checks that must hold at the moment of recording (the quota), run in its transaction.
        self.reservations = tuple(reservations)
        # Told about every recorded upload; they may start jobs and add their ids.
        self.listeners = tuple(listeners)

    def spend_budget(self, client: str) -> None:
        """Public uploads have a budget per client (a token or an address), so nobody
        fills the disk a few thousand small files at a time."""
        rate = self.settings.upload_rate_limit
        spend(self.limiter, rate, "upload", client, refusal=f"more than {rate} uploads from you")

    def new_writer(self) -> BlobWriter:
        """A sink that enforces the upload size limit while bytes arrive."""
        return self.storage.writer(int(self.settings.max_upload_size))

    def save_stream(
        self,
        stream: IO[bytes],
        filename: str | None,
        resize: tuple[int, int] | None = None,
        options: UploadOptions | None = None,
        recorded: Recorded | None = None,
    ) -> UploadResult:
        """Store a raw byte stream (``PUT``, RPC, CLI, a finished tus upload)."""
        writer = self.new_writer()
        try:
            for chunk in _chunks(stream):
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return self.finish(writer, filename, resize, options, recorded)

    def finish(
        self,
        writer: BlobWriter,
        filename: str | None,
        resize: tuple[int, int] | None = None,
        options: UploadOptions | None = None,
        recorded: Recorded | None = None,
    ) -> UploadResult:
        """Check, optionally crop-resize, deduplicate and record a written upload."""
        incoming: _Incoming | None = None
        options = options or ANONYMOUS
        try:
            incoming = self._inspected(writer, filename, options)
            if self.settings.strip_gps and not options.encrypted:
                incoming = self._without_gps(incoming)
            if resize is not None:
                incoming = self._resized(incoming, resize, options.encrypted)
            admitted = self._admitted(incoming, options)
            result = self._register(incoming, admitted, recorded)
        except BaseException:
            writer.abort()
            if incoming is not None:  # a resized or stripped copy has its own temp file
                incoming.writer.abort()
            raise
        for listener in self.listeners:
            listener(result)
        return result

    def _inspected(
        self, writer: BlobWriter, filename: str | None, options: UploadOptions
    ) -> _Incoming:
        """The upload's type (``filetypes.detect``) and its cleaned name.

        Ciphertext is not looked into: its type is ``ENCRYPTED_TYPE`` and the name the
        client sent is dropped (``_insert`` names it after its id), since a real name
        would be a leak the key in the URL fragment cannot undo."""
        if writer.size == 0:
            raise EmptyFile("the uploaded file has no content")
        if options.encrypted:
            self._check_type(ENCRYPTED_TYPE, options)
            return _Incoming(writer, ENCRYPTED_EXTENSION, ENCRYPTED_TYPE)
        mimetype = filetypes.detect(writer.head, filename)
        self._check_type(mimetype, options)
        name = sanitize_filename(filename, filetypes.extension_for(mimetype))
        return _Incoming(writer, name, mimetype)

    def _check_type(self, mimetype: str, options: UploadOptions) -> None:
        """The server's allow and deny lists, then an upload's own narrower list
        (a file request's allowed types)."""
        filetypes.check_allowed(mimetype, self.settings.allowed_types, self.settings.denied_types)
        if options.accepted_types:
            filetypes.check_allowed(mimetype, list(options.accepted_types), [])

    def _admitted(self, incoming: _Incoming, options: UploadOptions) -> UploadOptions:
        """Every rule on the bytes that will be stored (a resized or stripped copy,
        not what was sent): the type, the size limit, then the guards."""
        stored = incoming.writer
        self._check_type(incoming.mimetype, options)
        limit = int(self.settings.max_upload_size)
        if stored.size > limit:
            raise TooLarge(f"the stored file would be {stored.size} bytes; the limit is {limit}")
        for guard in self.guards:
            options = guard(stored.sha256, stored.size, options) or options
        return options

    def resize_existing(
        self,
        source: File,
        size: tuple[int, int],
        options: UploadOptions | None = None,
        client: str = "-",
    ) -> UploadResult:
        """``/r/``: a crop-resized copy of a stored image, as a new file.

        ``options`` are the copy's owner and rules (``FileAccess.derived_options``).
        Each copy decodes an image and stores a file, so ``client`` (an address) has
        a budget of them (``PASTEFILE_RESIZE_RATE_LIMIT``).
        """
        if source.encrypted:
            raise NotAnImage(NO_PIXELS)
        rate = self.settings.resize_rate_limit
        spend(self.limiter, rate, "resize", client, refusal=f"more than {rate} resized copies")
        with self.storage.open(source.sha256) as stream:
            resized = originals.crop_resize(
                self.engine, stream, source.mimetype, size, *self._pixel_limits
            )
        writer = self.storage.writer()
        try:
            writer.write(resized.data)
        except BaseException:
            writer.abort()
            raise
        stem = source.filename.rsplit(".", 1)[0]
        name = f"{stem}_{size[0]}x{size[1]}.{filetypes.extension_for(resized.mimetype)}"
        return self.finish(writer, name, options=options)

    @property
    def _pixel_limits(self) -> tuple[int, int]:
        return self.settings.max_image_pixels, self.settings.max_upscale_pixels

    def _resized(self, incoming: _Incoming, size: tuple[int, int], encrypted: bool) -> _Incoming:
        if encrypted:
            raise NotAnImage(NO_PIXELS)
        with incoming.writer.reader() as stream:
            resized = originals.crop_resize(
                self.engine, stream, incoming.mimetype, size, *self._pixel_limits
            )
        incoming.writer.abort()
        writer = self.storage.writer()
        writer.write(resized.data)
        crashpoints.reached("upload.resized")
        return _Incoming(writer, incoming.filename, resized.mimetype)

    def _without_gps(self, incoming: _Incoming) -> _Incoming:
        """``PASTEFILE_STRIP_GPS``: the stored bytes, and so the sha256, are the stripped ones."""
        stripped = originals.strip_gps(
            self.engine,
            incoming.writer,
            incoming.mimetype,
            self.storage,
            self.settings.max_image_pixels,
        )
        if stripped is None:
            return incoming
        incoming.writer.abort()
        return _Incoming(stripped[0], incoming.filename, stripped[1])

    def _register(
        self,
        incoming: _Incoming,
        options: UploadOptions = ANONYMOUS,
        recorded: Recorded | None = None,
    ) -> UploadResult:
        dedup_key = options.dedup_key(incoming.writer.sha256)
        last_error: Exception | None = None
        for attempt in range(_ATTEMPTS):
            existing = self._find_dedup(dedup_key) if dedup_key else None
            if existing is not None:
                incoming.writer.abort()
                return UploadResult(existing, created=False)
            try:
                record = self._insert(incoming, dedup_key, options, recorded)
                return UploadResult(record, created=True)
            except (IntegrityError, OperationalError) as exc:
                # A concurrent identical upload, an id collision or a deadlock:
                # all are resolved by looking again and retrying.
                log.info("upload registration retried: %s", exc.__class__.__name__)
                last_error = exc
                # Jittered backoff, so racing uploads stop colliding in lockstep.
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise ServiceBusy("could not register the upload, try again") from last_error

    def _find_dedup(self, dedup_key: str) -> File | None:
        with self.db.read() as session:
            return session.scalar(select(File).where(File.dedup_key == dedup_key))

    def _insert(
        self,
        incoming: _Incoming,
        dedup_key: str | None,
        options: UploadOptions = ANONYMOUS,
        recorded: Recorded | None = None,
    ) -> File:
        writer = incoming.writer
        sha = writer.sha256
        with self.db.write() as session:
            for reserve in self.reservations:
                reserve(session, sha, writer.size, options)
            # Bytes are published while the blob row is locked; see services/blobs.py.
            self.blobs.publish(session, writer, incoming.mimetype)
            crashpoints.reached("upload.published")
            dims, exif = self._looked_into(sha, incoming.mimetype, options.encrypted)
            public_id = new_public_id()
            record = File(
                public_id=public_id,
                short_code=new_short_code(),
                # An encrypted file's real name is inside its ciphertext.
                filename=f"{public_id}.{ENCRYPTED_EXTENSION}"
                if options.encrypted
                else incoming.filename,
                sha256=sha,
                mimetype=incoming.mimetype,
                size=writer.size,
                width=dims[0] if dims else None,
                height=dims[1] if dims else None,
                exif=exif,
                dedup_key=dedup_key,
                status="ready",
                **options.columns(),
            )
            session.add(record)
            session.flush()
            if recorded is not None:
                recorded(session, record)
        return record

    def _looked_into(
        self, sha: str, mimetype: str, encrypted: bool
    ) -> tuple[tuple[int, int] | None, str | None]:
        """An image's size and EXIF summary; nothing for ciphertext, which has neither."""
        if encrypted:
            return None, None
        with self.storage.open(sha) as stream:
            dims = originals.probe_size(self.engine, stream, mimetype)
            exif = originals.exif_summary(self.engine, stream, mimetype)
        return dims, exif


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk
