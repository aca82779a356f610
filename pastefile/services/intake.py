"""The incoming area: bytes a caller on this host places for a later upload.

The RPC flow never sends file bodies over the wire: ``reserve`` hands
out a fresh random token and the path that belongs to it, the caller writes
the file there, and ``register`` runs it through the normal upload path
(type detection, allow/deny lists, crop-resize, dedup). The path comes from
our token alone, never from anything the client sent.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import (
    CorruptImage,
    InvalidInput,
    MissingFile,
    PasteFileError,
    TooLarge,
    UnsupportedType,
)
from pastefile.services.uploads import UploadResult, UploadService
from pastefile.storage.base import Storage

TOKEN = re.compile(r"[0-9a-f]{32}")

# Rejections of the bytes themselves: the incoming file is spent and goes.
# Anything else (database down, disk full) is transient, so the file stays
# and the caller may retry ``register`` with the same token.
_CONTENT_ERRORS = (InvalidInput, UnsupportedType, CorruptImage, TooLarge)


@dataclass(frozen=True)
class Reservation:
    token: str
    path: Path


class IntakeService:
    def __init__(self, storage: Storage, uploads: UploadService) -> None:
        self.storage = storage
        self.uploads = uploads

    def reserve(self) -> Reservation:
        """A new token and the path where its bytes go. Nothing is created yet."""
        token = secrets.token_hex(16)
        path = self.storage.incoming_path(token)
        if path is None:
            raise PasteFileError("this storage backend has no incoming area")
        return Reservation(token, path)

    def register(
        self, token: object, filename: str | None, resize: tuple[int, int] | None = None
    ) -> UploadResult:
        """Upload the file placed for ``token``, then remove it."""
        path = self._path(token)
        with _open_regular(path) as stream:
            try:
                result = self.uploads.save_stream(stream, filename, resize)
            except _CONTENT_ERRORS:
                path.unlink(missing_ok=True)
                raise
        path.unlink(missing_ok=True)
        return result

    def _path(self, token: object) -> Path:
        # Strict shape check first: the storage never sees a hostile string.
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise InvalidInput("filehash is not a token from get_file_info")
        path = self.storage.incoming_path(token)
        if path is None:
            raise PasteFileError("this storage backend has no incoming area")
        return path


def _open_regular(path: Path) -> BinaryIO:
    """Open a placed file, refusing symlinks, FIFOs and directories.

    O_NOFOLLOW stops a symlink from publishing a file the caller could not
    read itself; O_NONBLOCK stops a FIFO from hanging the worker.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise MissingFile("nothing was placed at the path for this token") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInput("the incoming path is a symlink") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput("the incoming path is not a regular file")
    return os.fdopen(fd, "rb")
