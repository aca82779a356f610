"""The scaled-out stats store: HyperLogLog per file and day, LPUSH+LTRIM,
ZINCRBY and SETBIT on Redis, shared by every process and node."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

from pastefile.stats.stores.base import KEY_TTL_SECONDS, LATEST_KEEP, SALT_KEEP_DAYS


class RedisStore:
    """Scaled mode: HyperLogLog per file and day, LPUSH+LTRIM, ZINCRBY, SETBIT."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        self.prefix = prefix

    def key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def add_visitors(self, rows: Sequence[tuple[int, date, str]]) -> None:
        grouped: dict[str, list[str]] = {}
        for file_id, day, visitor in rows:
            grouped.setdefault(self.key("uv", file_id, day.isoformat()), []).append(visitor)
            grouped.setdefault(self.key("uv", "site", day.isoformat()), []).append(visitor)
        pipe = self.redis.pipeline(transaction=False)
        for key, visitors in grouped.items():
            pipe.pfadd(key, *visitors)
            pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def add_active(self, rows: Sequence[tuple[date, int]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for day, user_id in rows:
            key = self.key("active", day.isoformat())
            pipe.setbit(key, user_id, 1)
            pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def push_uploads(self, public_ids: Sequence[str]) -> None:
        if not public_ids:
            return
        key = self.key("latest")
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(key, *public_ids)
        pipe.ltrim(key, 0, LATEST_KEEP - 1)
        pipe.execute()

    def add_downloads(self, counts: dict[int, int]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for file_id, n in counts.items():
            pipe.zincrby(self.key("top", "downloads"), n, str(file_id))
        pipe.execute()

    def unique_visitors(self, file_id: int | None, days: Sequence[date]) -> dict[date, int]:
        who = "site" if file_id is None else file_id
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.pfcount(self.key("uv", who, day.isoformat()))
        return {day: int(n) for day, n in zip(days, pipe.execute(), strict=True) if n}

    def active_users(self, days: Sequence[date]) -> dict[date, int]:
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.bitcount(self.key("active", day.isoformat()))
        return {day: int(n) for day, n in zip(days, pipe.execute(), strict=True) if n}

    def latest_uploads(self, limit: int) -> list[str]:
        return [str(x) for x in self.redis.lrange(self.key("latest"), 0, limit - 1)]

    def top_downloads(self, limit: int) -> list[tuple[int, int]]:
        pairs: Any = self.redis.zrevrange(
            self.key("top", "downloads"), 0, limit - 1, withscores=True
        )
        return [(int(member), int(score)) for member, score in pairs]

    def prune_salts(self, day: date) -> None:
        return None  # the salt keys expire by themselves

    def salt(self, day: date) -> str:
        key = self.key("salt", day.isoformat())
        self.redis.set(key, secrets.token_hex(32), nx=True, ex=SALT_KEEP_DAYS * 86400)
        return str(self.redis.get(key))
