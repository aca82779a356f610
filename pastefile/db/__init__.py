"""Data access: the SQLAlchemy engine, sessions and models."""

from pastefile.db import accounts as _accounts  # noqa: F401  (registers the account tables)
from pastefile.db import jobs as _jobs  # noqa: F401  (registers the job tables)
from pastefile.db.database import Database
from pastefile.db.models import Base, Blob, File
from pastefile.stats import models as _stats  # noqa: F401  (registers the stats tables)

__all__ = ["Base", "Blob", "Database", "File"]
