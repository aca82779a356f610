"""The storage interface every backend implements."""

from __future__ import annotations

import hashlib
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import TooLarge

HEAD_SIZE = 64 * 1024
COPY_CHUNK = 1024 * 1024


class BlobWriter(ABC):
    """A file-like sink for one upload.

    It hashes (sha256 and CRC-32, in the same pass) and counts while bytes
    stream in, keeps the first bytes for type detection, and enforces the size
    limit as it goes, so nothing ever holds a whole upload in memory. Nothing
    is visible until the storage commits it; ``abort`` throws it away.
    """

    def __init__(self, max_size: int | None) -> None:
        self.max_size = max_size
        self.size = 0
        self.head = b""
        self._hash = hashlib.sha256()
        self._crc = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        self.size += len(data)
        if self.max_size is not None and self.size > self.max_size:
            self.abort()
            raise TooLarge(f"the upload exceeds the limit of {self.max_size} bytes")
        if len(self.head) < HEAD_SIZE:
            self.head += data[: HEAD_SIZE - len(self.head)]
        self._hash.update(data)
        self._crc = zlib.crc32(data, self._crc)
        self._write(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def crc32(self) -> int:
        """The CRC-32 a zip names its members by (a collection's zip, docs/collections.md)."""
        return self._crc

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug rewinds a finished part; the bytes stay where they are."""
        return 0

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        return None

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def reader(self) -> BinaryIO:
        """Read back what was written, before it is committed."""

    @abstractmethod
    def abort(self) -> None:
        """Discard the bytes written so far. Safe to call more than once."""


class Storage(ABC):
    """Content-addressed blob storage."""

    @abstractmethod
    def writer(self, max_size: int | None = None) -> BlobWriter:
        """A new temporary sink."""

    @abstractmethod
    def commit(self, writer: BlobWriter) -> str:
        """Make the writer's bytes durable under their sha256 and return it.

        Committing content that already exists is a no-op that keeps one copy.
        """

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for reading; ``FileNotFoundError`` if absent."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove a blob; missing blobs are ignored."""

    @abstractmethod
    def cleanup_temp(self, older_than_seconds: float) -> int:
        """Remove abandoned temporary files; return how many went."""

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path for zero-copy serving, when the backend has one."""
        return None

    def presigned_url(
        self, sha256: str, filename: str, mimetype: str, attachment: bool
    ) -> str | None:
        """A URL the client may fetch the bytes from directly, when the backend offers one."""
        return None

    def ping(self) -> None:
        """Raise if the backend cannot serve (readiness checks)."""
        return None

    def list_blobs(self, after: str = "") -> Iterator[tuple[str, float]]:
        """Every stored blob named after ``after`` as (sha256, modification time), in
        ascending sha256 order, read as it goes: the scrub and gc walk a store of any
        size this way, and the scrub resumes a pass where a slice stopped.

        Backends that cannot list return nothing, and GC then only removes
        blobs it knows from the database.
        """
        return iter(())

    def quarantine(self, sha256: str) -> None:
        """Move a blob whose bytes no longer match their name out of the way, kept for study.

        Afterwards the blob is absent (``exists`` is False); missing blobs are ignored.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot quarantine blobs")

    def incoming_path(self, token: str) -> Path | None:
        """Where a caller on this host may place bytes for a later upload (the RPC flow).

        ``token`` is one the service generated (see ``services.intake``); None
        when the backend has no local area for that.
        """
        return None

    def put_checked(self, sha256: str, reader: BinaryIO) -> bool:
        """Store what ``reader`` holds only if its bytes hash to ``sha256`` (copies between
        a storage and a backup); False, and nothing kept, when they do not."""
        writer = self.writer()
        try:
            while chunk := reader.read(COPY_CHUNK):
                writer.write(chunk)
            if writer.sha256 != sha256:
                writer.abort()
                return False
            self.commit(writer)
        except BaseException:
            writer.abort()
            raise
        return True

    def put_bytes(self, data: bytes) -> str:
        """Store a small in-memory blob (derived images); return its sha256."""
        writer = self.writer()
        try:
            writer.write(data)
            return self.commit(writer)
        except BaseException:
            writer.abort()
            raise
