"""Local-disk storage: ``objects/ab/cd/<sha256>`` with atomic writes.

Bytes go to a temp file in ``tmp/`` on the same filesystem, are fsynced and
then renamed into place, so a reader sees either nothing or the whole file.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import StorageFull
from pastefile.storage.base import BlobWriter, Storage

_SHA256 = re.compile(r"[0-9a-f]{64}")
_INCOMING_TOKEN = re.compile(r"[0-9a-f]{32}")
_TEMP_PREFIX = "upload-"


class LocalBlobWriter(BlobWriter):
    def __init__(self, temp_dir: Path, max_size: int | None) -> None:
        super().__init__(max_size)
        self.temp_path = temp_dir / f"{_TEMP_PREFIX}{secrets.token_hex(16)}"
        self._fd: int | None = os.open(
            self.temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )

    def _write(self, data: bytes) -> None:
        assert self._fd is not None, "write after close"
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            self.abort()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull("the disk is full") from exc
            raise

    def finish(self) -> None:
        """fsync and close; the temp file stays until it is renamed."""
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self.abort()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull("the disk is full") from exc
            raise
        os.close(self._fd)
        self._fd = None

    def reader(self) -> BinaryIO:
        self.finish()
        return open(self.temp_path, "rb")

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.closed = True
        self.temp_path.unlink(missing_ok=True)

    def __del__(self) -> None:
        # A writer dropped on an error path must not leak its temp file.
        if self._fd is not None:
            self.abort()


class LocalStorage(Storage):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.objects = self.root / "objects"
        self.temp = self.root / "tmp"
        self.incoming = self.root / "incoming"
        # Outside objects/: list_blobs never sees what the scrub set aside.
        self.quarantined = self.root / "quarantine"
        try:
            for directory in (self.objects, self.temp, self.incoming):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # ping says so, at start and on /readyz, in words an operator can act on

    def _path(self, sha256: str) -> Path:
        # The only path ever built here comes from a hex digest we computed.
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def writer(self, max_size: int | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self.temp, max_size)

    def commit(self, writer: BlobWriter) -> str:
        assert isinstance(writer, LocalBlobWriter)
        writer.finish()
        sha = writer.sha256
        target = self._path(sha)
        if target.exists():
            writer.temp_path.unlink(missing_ok=True)
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(writer.temp_path, 0o644)
        os.replace(writer.temp_path, target)
        _fsync_dir(target.parent)
        return sha

    def open(self, sha256: str) -> BinaryIO:
        return open(self._path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def quarantine(self, sha256: str) -> None:
        source = self._path(sha256)
        self.quarantined.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, self.quarantined / f"{sha256}-{int(time.time())}")
        except FileNotFoundError:
            return
        _fsync_dir(source.parent)

    def local_path(self, sha256: str) -> Path | None:
        return self._path(sha256)

    def ping(self) -> None:
        for directory in (self.objects, self.temp):
            if not os.access(directory, os.W_OK | os.X_OK):
                raise OSError(f"{directory} is not writable")

    def list_blobs(self, after: str = "") -> Iterator[tuple[str, float]]:
        # objects/ab/cd/abcd…: walking the sorted folders walks the names in order.
        for top in _entries(self.objects, after[:2]):
            for middle in _entries(top, after[2:4] if top.name == after[:2] else ""):
                for blob in _entries(middle, after):
                    if _SHA256.fullmatch(blob.name) and blob.name > after:
                        try:
                            yield blob.name, blob.stat().st_mtime
                        except FileNotFoundError:
                            continue

    def incoming_path(self, token: str) -> Path | None:
        # Same rule as _path: only a token we generated ever becomes a path.
        if not _INCOMING_TOKEN.fullmatch(token):
            raise ValueError("not an incoming-file token")
        return self.incoming / token

    def cleanup_temp(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        # Incoming files a caller placed but never registered are abandoned too.
        for entry in [*self.temp.glob(f"{_TEMP_PREFIX}*"), *self.incoming.iterdir()]:
            try:
                # lstat: a symlink placed in incoming/ is judged (and removed) itself.
                if entry.lstat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except (FileNotFoundError, IsADirectoryError):
                continue
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _entries(folder: Path, at_least: str) -> list[Path]:
    """The entries of ``folder`` named ``at_least`` or later, sorted; none if it is gone."""
    try:
        names = sorted(name for name in os.listdir(folder) if name >= at_least)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [folder / name for name in names]
