"""Where a backup lives: the interface every place (a local folder, an S3 prefix) keeps.

A place holds content-addressed blobs shared by all its snapshots, one folder
per snapshot (``snapshots/<UTC time>/``: ``manifest.json`` and ``tables/``), and
``LATEST``, the newest complete snapshot's name, written last. A snapshot is
written into a local staging folder first and published whole, so a reader
never sees half of one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import InvalidInput

LATEST = "LATEST"
SNAPSHOTS = "snapshots"
MANIFEST = "manifest.json"


class BackupPlace(ABC):
    # Where it is, for messages: a folder or an s3:// URL.
    name: str

    @abstractmethod
    def has_blob(self, sha256: str, size: int) -> bool:
        """True when an earlier backup already copied these bytes."""

    @abstractmethod
    def put_blob(self, sha256: str, reader: BinaryIO) -> bool:
        """Keep the bytes ``reader`` holds, only if they hash to ``sha256``."""

    @abstractmethod
    def open_blob(self, sha256: str) -> BinaryIO:
        """The bytes of one blob; ``FileNotFoundError`` when the backup lacks them."""

    @abstractmethod
    def staging(self, stamp: str) -> AbstractContextManager[Path]:
        """A local folder to write the snapshot ``stamp`` into before ``publish``."""

    @abstractmethod
    def publish(self, stamp: str, staged: Path) -> str:
        """Make the staged snapshot visible under its name, then point ``LATEST`` at it;
        returns where it is, for messages."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Path]:
        """The snapshot this place names (``LATEST``, or the one given), as a local folder
        holding its manifest and tables, for as long as the restore needs it."""

    @abstractmethod
    def remove_partial(self) -> None:
        """Clear what a crashed backup left behind, once surely abandoned."""


def latest_name(text: str, where: str) -> str:
    """The snapshot name ``LATEST`` holds; it is only ever a time stamp we wrote."""
    name = text.strip()
    if not name or not name.replace("T", "").replace("Z", "").isdigit():
        raise InvalidInput(f"{where} does not name a snapshot")
    return name


def staged_files(staged: Path) -> Iterator[tuple[str, Path]]:
    """Every file of a staged snapshot with its name inside the snapshot, the manifest last,
    so a snapshot copied file by file is only complete once its manifest is there."""
    files = sorted(p for p in staged.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.name == MANIFEST):
        yield path.relative_to(staged).as_posix(), path
