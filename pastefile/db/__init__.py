"""Data access: the SQLAlchemy engine, sessions and models."""

from pastefile.db.database import Database
from pastefile.db.models import Base, Blob, File

__all__ = ["Base", "Blob", "Database", "File"]
