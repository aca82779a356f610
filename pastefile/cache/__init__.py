"""The lookup cache: ``memory`` by default, two levels over Redis when one is set.

See ``docs/operations.md`` (Cache) for the design: versioned keys, orjson
values (never pickle), singleflight on a miss, negative caching, and
invalidation that reaches every process within a second.
"""

from __future__ import annotations

from pastefile.cache.base import Cache, CacheStats
from pastefile.cache.memory import MemoryCache

__all__ = ["Cache", "CacheStats", "MemoryCache", "cache_from_settings"]


def cache_from_settings(redis_url: str, prefix: str = "pf", local_ttl: float = 0.5) -> Cache:
    """``RedisCache`` when ``redis_url`` is set, else the in-process ``MemoryCache``."""
    if not redis_url:
        return MemoryCache(prefix=prefix, max_ttl=local_ttl)
    from pastefile.cache.redis import RedisCache

    return RedisCache(redis_url, prefix=prefix, local_ttl=local_ttl)
