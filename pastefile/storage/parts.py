"""Part files of resumable (tus) uploads, inside the storage's own area.

A part file is ``<storage root>/tus/<upload id>.part``. The id is one the
service generated (32 lowercase hex digits) and is checked again here, so no
path is ever built from anything a client sent. Each open part is held under
an exclusive ``flock``: one writer at a time, across threads and worker
processes, and the sweeper never removes a part a request is writing to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import StorageFull, UploadBusy
from pastefile.storage.base import Storage
from pastefile.storage.local import LocalStorage

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_SUFFIX = ".part"
_LOCK_POLL = 0.05


def valid_upload_id(value: str) -> bool:
    return UPLOAD_ID.fullmatch(value) is not None


class Part:
    """An open, locked part file."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @property
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)

    def write_at(self, offset: int, data: bytes) -> None:
        """Write all of ``data`` at ``offset``; a full disk is ``StorageFull``."""
        view = memoryview(data)
        try:
            while view:
                written = os.pwrite(self.fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull("the disk is full") from exc
            raise

    def sync(self) -> None:
        os.fsync(self.fd)

    def reader(self) -> BinaryIO:
        """A separate read handle from the start (the lock stays with this one)."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        return os.fdopen(fd, "rb")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class PartStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        # An unusable storage root is reported by the readiness check, at start.
        with contextlib.suppress(OSError):
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, upload_id: str) -> Path:
        if not valid_upload_id(upload_id):
            raise ValueError("not an upload id")
        return self.root / f"{upload_id}{_SUFFIX}"

    @contextmanager
    def open(self, upload_id: str, create: bool, wait: float = 2.0) -> Iterator[Part]:
        """The part, locked; ``FileNotFoundError`` when absent and not ``create``.

        Waits up to ``wait`` seconds for another holder, then ``UploadBusy``.
        """
        path = self.path(upload_id)
        fd = _lock(path, create, wait)
        try:
            yield Part(fd, path)
        finally:
            os.close(fd)  # releases the lock

    def list(self) -> Iterator[tuple[str, float]]:
        """Every part as (upload id, modification time)."""
        for entry in self.root.glob(f"*{_SUFFIX}"):
            upload_id = entry.name.removesuffix(_SUFFIX)
            if not valid_upload_id(upload_id):
                continue
            try:
                yield upload_id, entry.lstat().st_mtime
            except FileNotFoundError:
                continue


def _lock(path: Path, create: bool, wait: float) -> int:
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, flags, 0o600)
        if _try_flock(fd) and _still_linked(fd, path):
            return fd
        os.close(fd)
        if time.monotonic() >= deadline:
            raise UploadBusy("another request is writing to this upload; retry shortly")
        time.sleep(_LOCK_POLL)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_linked(fd: int, path: Path) -> bool:
    """The lock is on the file at ``path``, not on one a remover just unlinked."""
    try:
        return os.fstat(fd).st_ino == os.lstat(path).st_ino
    except FileNotFoundError:
        return False


def part_store_for(storage: Storage) -> PartStore | None:
    """The part area of a storage with a local disk; None for other backends."""
    if isinstance(storage, LocalStorage):
        return PartStore(storage.root / "tus")
    return None
