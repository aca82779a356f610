"""The lookup cache: ``memory`` by default, two levels over Redis when one is set.

See ``docs/operations.md`` (Cache) for the design: versioned keys, orjson
values (never pickle), singleflight on a miss, negative caching, and
invalidation that reaches every process within a second.
"""

from __future__ import annotations

from pastefile.cache.base import Cache, CacheStats
from pastefile.cache.memory import MemoryCache
from pastefile.config import Settings

__all__ = ["Cache", "CacheStats", "MemoryCache", "cache_from_settings"]


def cache_from_settings(settings: Settings) -> Cache:
    """``RedisCache`` when ``PASTEFILE_REDIS_URL`` is set, else the in-process ``MemoryCache``."""
    prefix, local_ttl = settings.cache_prefix, settings.cache_local_ttl
    if not settings.redis_url:
        return MemoryCache(prefix=prefix, max_ttl=local_ttl)
    from pastefile.cache.redis import RedisCache

    return RedisCache(settings.redis_url, prefix=prefix, local_ttl=local_ttl)
