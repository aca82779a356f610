"""The cache interface, the value codec, a process-local LRU and singleflight.

Values are plain JSON-able dicts (or ``None`` for a cached miss), stored as
orjson bytes: every reader decodes its own copy, so nothing mutable (and no
ORM instance) is ever shared between requests or threads.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

# Bump when the shape of cached values changes: old entries are then never read.
KEY_VERSION = "v1"

Loader = Callable[[], dict[str, Any] | None]


def encode(value: dict[str, Any] | None) -> bytes:
    return orjson.dumps({"v": value})


def decode(raw: bytes) -> dict[str, Any] | None:
    value = orjson.loads(raw)["v"]
    return value if isinstance(value, dict) else None


@dataclass
class CacheStats:
    """Counters, also exported to Prometheus by ``pastefile.observability``."""

    hits: int = 0
    misses: int = 0
    loads: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, amount: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)
        _export(name, amount)


def _export(name: str, amount: int) -> None:
    # Imported at first use (the cache sits below observability), then kept: every
    # lookup counts, and an import statement per lookup showed in the profile.
    global _exporter
    if _exporter is None:
        from pastefile.observability.metrics import count_cache

        _exporter = count_cache
    _exporter(name, amount)


_exporter: Callable[[str, int], None] | None = None


class LocalLRU:
    """A bounded, thread-safe LRU of bytes with a TTL per entry.

    Expired entries at the LRU end go on every ``put``: the callers' TTLs are about a
    second, so the LRU holds what the last second or so touched, not ``max_entries``
    dead copies of rows no request asks for again (each a few KB: with 10,000 distinct
    files read, a web worker's RSS rose by ~80 MB before the count bound took over).

    ``epoch`` moves on every invalidation; a loader that started before one
    passes its epoch to ``put`` and its (possibly stale) value is dropped.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.epoch = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, raw: bytes, ttl: float, epoch: int | None = None) -> None:
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return
            self._entries[key] = (time.monotonic() + ttl, raw)
            self._entries.move_to_end(key)
            self._drop_expired(time.monotonic())
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop_expired(self, now: float) -> None:
        """From the least recently used on, until a live entry (amortised O(1) per put).

        Every entry behind that live one was touched after it, so within a TTL."""
        entries = self._entries
        while entries:
            oldest = next(iter(entries))
            if entries[oldest][0] > now:
                return
            del entries[oldest]

    def drop(self, keys: list[str]) -> None:
        with self._lock:
            self.epoch += 1
            for key in keys:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self._entries.clear()


class Cache(ABC):
    """Read-through cache of dicts, keyed by strings the caller builds with ``key``."""

    name = "cache"

    def __init__(self, prefix: str = "pf") -> None:
        self.prefix = prefix
        self.stats = CacheStats()

    def key(self, *parts: str) -> str:
        return ":".join([self.prefix, KEY_VERSION, *parts])

    @abstractmethod
    def get_or_load(
        self, key: str, loader: Loader, ttl: float, negative_ttl: float
    ) -> dict[str, Any] | None:
        """The cached value, or ``loader()``'s, cached for ``ttl`` (a miss: ``negative_ttl``)."""

    @abstractmethod
    def invalidate(self, keys: list[str]) -> None:
        """Drop these keys everywhere (every process within a second)."""

    def ping(self) -> None:
        """Raise if the cache cannot serve (readiness); the memory cache always can."""
        return None

    def close(self) -> None:
        return None
