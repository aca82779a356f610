"""What the database and the local storage hold: rows, blobs, leftover temporary files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from pastefile.config import Settings
from pastefile.db.models import Blob, File


def stored_blobs(settings: Settings) -> list[Path]:
    root = Path(settings.storage_url.removeprefix("file://")) / "objects"
    return [p for p in root.rglob("*") if p.is_file()]


def temp_files(settings: Settings) -> list[Path]:
    root = Path(settings.storage_url.removeprefix("file://")) / "tmp"
    return [p for p in root.iterdir()] if root.exists() else []


def partial_bytes_on_disk(settings: Settings) -> bool:
    return any(p.stat().st_size > 0 for p in temp_files(settings) if p.exists())


def counts(services) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """How many file rows and blob rows the database holds."""
    with services.db.read() as session:
        files = session.scalar(select(func.count()).select_from(File)) or 0
        blobs = session.scalar(select(func.count()).select_from(Blob)) or 0
    return files, blobs
