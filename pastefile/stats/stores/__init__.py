"""Where the stats patterns live: tables (embedded) or Redis (scaled out)."""

from __future__ import annotations

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.stats.stores.base import StatsStore
from pastefile.stats.stores.table import TableStore

__all__ = ["StatsStore", "TableStore", "stats_store_from_settings"]


def stats_store_from_settings(settings: Settings, db: Database) -> StatsStore:
    """Redis when ``PASTEFILE_REDIS_URL`` is set, else the database's tables."""
    if settings.redis_url:
        from pastefile.stats.stores.redis import RedisStore

        return RedisStore(settings.redis_url, settings.stats_redis_prefix)
    return TableStore(db)
