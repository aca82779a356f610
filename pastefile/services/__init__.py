"""The service layer. It imports no web framework: every adapter uses it."""

from __future__ import annotations

from dataclasses import dataclass

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.services.files import FileService
from pastefile.services.uploads import UploadService
from pastefile.storage import Storage, storage_from_url


@dataclass
class Services:
    """Everything an adapter needs, built once per process."""

    settings: Settings
    db: Database
    storage: Storage
    files: FileService
    uploads: UploadService

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url, slow_query_ms=settings.slow_query_ms)
    storage = storage_from_url(settings.storage_url)
    return Services(
        settings=settings,
        db=db,
        storage=storage,
        files=FileService(db, storage),
        uploads=UploadService(settings, db, storage),
    )
