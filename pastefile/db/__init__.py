"""Data access: the SQLAlchemy engine, sessions and the tables.

Importing the package registers every table on the one ``Base.metadata``.
"""

from pastefile.db import (
    collections,
    device_auth,
    file_requests,
    jobs,
    moderation,
    notifications,
    stats,
    tus,
    users,
)
from pastefile.db.database import Database
from pastefile.db.models import Base, Blob, File

__all__ = [
    "Base",
    "Blob",
    "Database",
    "File",
    "collections",
    "device_auth",
    "file_requests",
    "jobs",
    "moderation",
    "notifications",
    "stats",
    "tus",
    "users",
]
