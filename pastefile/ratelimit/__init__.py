"""Rate limits: counted in a SQLite file every process of the machine shares (embedded),
or on Redis (scaled out)."""

from __future__ import annotations

from pastefile.config import Settings
from pastefile.ratelimit.base import RateLimited, RateLimiter, Verdict, spend
from pastefile.ratelimit.sqlite_store import SCHEME, SqliteStorage
from pastefile.ratelimit.window import WindowLimiter

__all__ = [
    "RateLimited",
    "RateLimiter",
    "SqliteStorage",
    "Verdict",
    "WindowLimiter",
    "rate_limiter_from_settings",
    "spend",
    "storage_uri",
]


def storage_uri(settings: Settings) -> str:
    """Where counts live: Redis when ``PASTEFILE_REDIS_URL`` is set, else a file beside the
    embedded data that every process of this machine shares."""
    return settings.redis_url or f"{SCHEME}://{settings.data_dir.resolve() / 'ratelimits.db'}"


def rate_limiter_from_settings(settings: Settings) -> RateLimiter:
    # Deployments that share a Redis keep their counts apart, as they do their cache.
    prefix = f"{settings.cache_prefix}:limits"
    return WindowLimiter.from_uri(storage_uri(settings), key_prefix=prefix)
