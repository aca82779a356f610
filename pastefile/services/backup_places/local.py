"""A backup in a local folder: ``DEST/blobs/ab/cd/<sha256>``, ``DEST/snapshots/…``, ``LATEST``."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import InvalidInput
from pastefile.services.backup_places.base import (
    LATEST,
    MANIFEST,
    SNAPSHOTS,
    BackupPlace,
    latest_name,
)
from pastefile.storage.base import COPY_CHUNK

# A crashed backup's half-written snapshot, once surely not one still being written.
PARTIAL_AGE = 6 * 3600


class LocalPlace(BackupPlace):
    def __init__(self, path: Path) -> None:
        # A snapshot folder may be given instead of its backup: restore takes either.
        self.given: Path | None = path if (path / MANIFEST).is_file() else None
        self.root = path.parent.parent if self.given else path
        self.name = str(path)

    def _blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256[2:4] / sha256

    def has_blob(self, sha256: str, size: int) -> bool:
        target = self._blob_path(sha256)
        return target.exists() and target.stat().st_size == size

    def put_blob(self, sha256: str, reader: BinaryIO) -> bool:
        target = self._blob_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{sha256}.partial")
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            while chunk := reader.read(COPY_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            partial.unlink()
            return False
        os.replace(partial, target)
        return True

    def open_blob(self, sha256: str) -> BinaryIO:
        return open(self._blob_path(sha256), "rb")

    @contextmanager
    def staging(self, stamp: str) -> Iterator[Path]:
        # Beside its final place, so publishing is one rename on the same filesystem.
        work = self.root / SNAPSHOTS / f".{stamp}.partial"
        work.mkdir(parents=True)
        yield work

    def publish(self, stamp: str, staged: Path) -> str:
        _fsync_tree(staged)
        final = self.root / SNAPSHOTS / stamp
        os.replace(staged, final)
        _write_atomically(self.root / LATEST, stamp.encode())
        return str(final)

    @contextmanager
    def snapshot(self) -> Iterator[Path]:
        yield self.given or self._latest()

    def _latest(self) -> Path:
        latest = self.root / LATEST
        if latest.is_file():
            found = self.root / SNAPSHOTS / latest_name(latest.read_text(), self.name)
            if (found / MANIFEST).is_file():
                return found
        raise InvalidInput(f"{self.name} is neither a pastefile backup nor one of its snapshots")

    def remove_partial(self) -> None:
        cutoff = time.time() - PARTIAL_AGE
        for partial in (self.root / SNAPSHOTS).glob(".*.partial"):
            if partial.stat().st_mtime < cutoff:
                shutil.rmtree(partial, ignore_errors=True)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
