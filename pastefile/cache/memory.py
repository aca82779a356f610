"""The default cache: one process-local LRU with a TTL per entry."""

from __future__ import annotations

from typing import Any

from pastefile.cache.base import Cache, Loader, LocalLRU, decode, encode
from pastefile.singleflight import SingleFlight


class MemoryCache(Cache):
    name = "memory"

    def __init__(self, prefix: str = "pf", max_entries: int = 10_000, max_ttl: float = 0.5) -> None:
        super().__init__(prefix)
        # Other processes (gunicorn workers, the CLI) cannot tell this one about a change,
        # so entries live at most max_ttl (≤ 1 s): changes still reach every process in time.
        self.max_ttl = min(max_ttl, 1.0)
        self.local = LocalLRU(max_entries)
        self._flight: SingleFlight[bytes] = SingleFlight()

    def get_or_load(
        self, key: str, loader: Loader, ttl: float, negative_ttl: float
    ) -> dict[str, Any] | None:
        raw = self.local.get(key)
        if raw is not None:
            self.stats.count("hits")
            return decode(raw)
        self.stats.count("misses")
        return decode(self._flight.do(key, lambda: self._load(key, loader, ttl, negative_ttl)))

    def _load(self, key: str, loader: Loader, ttl: float, negative_ttl: float) -> bytes:
        raw = self.local.get(key)  # a flight that just finished may have filled it
        if raw is not None:
            return raw
        epoch = self.local.epoch
        value = loader()
        self.stats.count("loads")
        raw = encode(value)
        expiry = ttl if value is not None else negative_ttl
        self.local.put(key, raw, min(expiry, self.max_ttl), epoch)
        return raw

    def invalidate(self, keys: list[str]) -> None:
        self.local.drop(keys)
