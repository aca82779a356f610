"""Cached file lookups: by public id, short code and sha256.

The cache holds each ``files`` row as a plain dict (orjson), never an ORM
instance; every lookup builds its own transient ``File`` from it, so nothing
is shared between threads and nothing can lazy-load. Misses are cached too,
for ``MISS_TTL``, so guessing ids cannot hammer the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import InstrumentedAttribute

from pastefile.cache import Cache
from pastefile.db.database import Database
from pastefile.db.models import File

FILE_TTL = 60.0
MISS_TTL = 1.0
_COLUMNS = [attr.key for attr in inspect(File).column_attrs]
_DATES = {"created_at", "expires_at", "updated_at"}
_NEW_FILE = inspect(File).class_manager.new_instance


def file_to_dict(file: File) -> dict[str, Any]:
    row = {name: getattr(file, name) for name in _COLUMNS}
    for name in _DATES:
        if row[name] is not None:
            row[name] = row[name].isoformat()
    return row


def file_from_dict(row: dict[str, Any]) -> File:
    values = {name: row.get(name) for name in _COLUMNS}
    for name in _DATES:
        text = values[name]
        if isinstance(text, str):
            values[name] = datetime.fromisoformat(text)
    # A transient File filled the way SQLAlchemy fills a loaded one: straight into its
    # state, without the per-attribute events of ``File(**values)`` (most of a cache
    # hit's cost). Nothing tracks changes to it, as nothing did before.
    file: File = _NEW_FILE()
    file.__dict__.update(values)
    return file


class FileLookups:
    def __init__(self, db: Database, cache: Cache) -> None:
        self.db = db
        self.cache = cache

    def by_public_id(self, public_id: str) -> File | None:
        return self._lookup("id", public_id, File.public_id)

    def by_short_code(self, code: str) -> File | None:
        return self._lookup("code", code, File.short_code)

    def by_sha256(self, sha256: str) -> File | None:
        return self._lookup("sha", sha256.lower(), File.sha256)

    def keys_of(self, file: File) -> list[str]:
        return [
            self.cache.key("file", "id", file.public_id),
            self.cache.key("file", "code", file.short_code),
            self.cache.key("file", "sha", file.sha256),
        ]

    def forget(self, file: File) -> None:
        """Drop every key this file is cached under (after a change or delete)."""
        self.cache.invalidate(self.keys_of(file))

    def forget_id(self, file_id: int) -> None:
        with self.db.read() as session:
            found = session.get(File, file_id)
        if found is not None:
            self.forget(found)

    def _lookup(self, kind: str, value: str, column: InstrumentedAttribute[str]) -> File | None:
        def load() -> dict[str, Any] | None:
            query = select(File).where(column == value).order_by(File.id).limit(1)
            with self.db.read() as session:
                found = session.scalar(query)
            return file_to_dict(found) if found is not None else None

        row = self.cache.get_or_load(self.cache.key("file", kind, value), load, FILE_TTL, MISS_TTL)
        return file_from_dict(row) if row is not None else None
