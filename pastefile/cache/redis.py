"""Two levels: a small process-local LRU with a short TTL in front of Redis.

- A miss takes a Redis lock (``SET NX PX``) so one loader runs across every
  process; the others poll the key until it appears or the lock goes.
- Each key has a generation (``<key>:gen``); ``invalidate`` bumps it and
  deletes the key, and a loader only stores its value if the generation did
  not move while it loaded, so a delete racing a load cannot be undone.
- Local entries live at most ``local_ttl`` (≤ 1 s), and ``invalidate``
  publishes the keys so other processes drop them at once.
- Redis errors are logged, counted (``stats.errors``, the metric
  ``pastefile_cache_errors_total``), and the lookup goes to the database;
  Redis is then left alone for ``retry_after`` seconds.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from typing import Any

import orjson
import redis

from pastefile.cache.base import Cache, Loader, LocalLRU, decode, encode
from pastefile.singleflight import SingleFlight

log = logging.getLogger(__name__)

# Store only if the generation is unchanged: KEYS = value key, gen key; ARGV = gen, value, ms.
_STORE_IF_CURRENT = """
local gen = redis.call('GET', KEYS[2]) or '0'
if gen == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_GEN_TTL_MS = 86_400_000


class RedisCache(Cache):
    name = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "pf",
        local_ttl: float = 0.5,
        local_entries: int = 2_000,
        lock_ttl: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        super().__init__(prefix)
        self.local_ttl = min(local_ttl, 1.0)
        self.local = LocalLRU(local_entries)
        self.lock_ttl = lock_ttl
        self.retry_after = retry_after
        # Typed Any: redis-py's stubs mix sync and async return types.
        self.client: Any = redis.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=0.5, health_check_interval=10
        )
        self.channel = f"{prefix}:{'v1'}:invalidate"
        self._store = self.client.register_script(_STORE_IF_CURRENT)
        self._release = self.client.register_script(_RELEASE)
        self._flight: SingleFlight[bytes] = SingleFlight()
        self._down_until = 0.0
        self._listener: _Listener | None = None

    # --- reading --------------------------------------------------------------------

    def get_or_load(
        self, key: str, loader: Loader, ttl: float, negative_ttl: float
    ) -> dict[str, Any] | None:
        self._ensure_listener()
        raw = self.local.get(key)
        if raw is not None:
            self.stats.count("hits")
            return decode(raw)
        return decode(self._flight.do(key, lambda: self._load(key, loader, ttl, negative_ttl)))

    def _load(self, key: str, loader: Loader, ttl: float, negative_ttl: float) -> bytes:
        epoch = self.local.epoch
        try:
            raw = self._shared(key, loader, ttl, negative_ttl) if self._up() else None
        except redis.RedisError as exc:
            self._failed(exc)
            raw = None
        if raw is None:  # Redis is down: the database answers
            self.stats.count("misses")
            raw = self._run(loader)
        self.local.put(key, raw, min(self.local_ttl, ttl), epoch)
        return raw

    def _shared(self, key: str, loader: Loader, ttl: float, negative_ttl: float) -> bytes:
        raw = self.client.get(key)
        if raw is not None:
            self.stats.count("hits")
            return bytes(raw)
        self.stats.count("misses")
        deadline = time.monotonic() + self.lock_ttl
        while True:
            token = secrets.token_hex(8)
            if self.client.set(key + ":lock", token, nx=True, px=int(self.lock_ttl * 1000)):
                return self._lead(key, token, loader, ttl, negative_ttl)
            raw = self._wait(key, deadline)
            if raw is not None:
                return raw
            if time.monotonic() >= deadline:
                return self._run(loader)  # a stuck leader: load without storing

    def _lead(self, key: str, token: str, loader: Loader, ttl: float, negative_ttl: float) -> bytes:
        try:
            raw = self.client.get(key)  # filled while we raced for the lock
            if raw is not None:
                return bytes(raw)
            gen = self.client.get(key + ":gen") or b"0"
            raw = self._run(loader)
            expiry = ttl if decode(raw) is not None else negative_ttl
            self._store(keys=[key, key + ":gen"], args=[gen, raw, int(expiry * 1000)])
            return raw
        finally:
            self._release(keys=[key + ":lock"], args=[token])

    def _wait(self, key: str, deadline: float) -> bytes | None:
        """Poll for the leader's value while its lock stands."""
        while time.monotonic() < deadline:
            time.sleep(0.01)
            raw, locked = self.client.pipeline().get(key).exists(key + ":lock").execute()
            if raw is not None:
                return bytes(raw)
            if not locked:
                return None
        return None

    def _run(self, loader: Loader) -> bytes:
        value = loader()
        self.stats.count("loads")
        return encode(value)

    # --- invalidating -------------------------------------------------------------

    def invalidate(self, keys: list[str]) -> None:
        self.local.drop(keys)
        if not keys:
            return
        try:
            pipe = self.client.pipeline()
            for key in keys:
                pipe.incr(key + ":gen").pexpire(key + ":gen", _GEN_TTL_MS)
            pipe.delete(*keys).publish(self.channel, orjson.dumps(keys)).execute()
        except redis.RedisError as exc:
            # Other processes' local entries still expire within local_ttl; Redis's
            # own copy can be stale until its TTL, so say so loudly.
            self._failed(exc)
            log.error("cache: could not invalidate %s in Redis", keys)

    # --- health -------------------------------------------------------------------

    def ping(self) -> None:
        self.client.ping()

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        self.stats.count("errors")
        if self._up():
            log.warning("cache: Redis unavailable, serving from the database: %s", exc)
        self._down_until = time.monotonic() + self.retry_after

    def _ensure_listener(self) -> None:
        listener = self._listener
        if listener is None or listener.pid != os.getpid():  # new, or forked (gunicorn)
            self._listener = _Listener(self)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.client.close()


class _Listener:
    """Drops local entries other processes invalidated (Redis pub/sub)."""

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-invalidate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (redis.RedisError, OSError, ValueError):
                self.cache.local.clear()  # we may have missed messages
                self._stop.wait(1.0)

    def _listen(self) -> None:
        pubsub = self.cache.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.cache.channel)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message and message.get("type") == "message":
                    self.cache.local.drop(list(orjson.loads(message["data"])))
        finally:
            pubsub.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(2.0)
