"""Every cache loads a key once, serves it until invalidated, remembers misses
briefly, and lets only one of many concurrent misses reach the loader."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pastefile.cache import Cache, MemoryCache
from pastefile.cache.redis import RedisCache
from tests.support.cache import REDIS_URL, need_redis


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    prefix = f"pf-test-{uuid.uuid4().hex[:8]}"
    made: Cache
    if request.param == "redis":
        need_redis()
        made = RedisCache(REDIS_URL, prefix=prefix, local_ttl=0.2)
    else:
        made = MemoryCache(prefix=prefix, max_ttl=0.2)
    yield made
    made.close()


class Loader:
    def __init__(self, value: dict[str, Any] | None, delay: float = 0.0) -> None:
        self.value, self.delay, self.calls = value, delay, 0
        self.lock = threading.Lock()

    def __call__(self) -> dict[str, Any] | None:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        return self.value


def test_a_value_is_loaded_once(cache: Cache) -> None:
    load = Loader({"id": 1})
    key = cache.key("file", "a")
    for _ in range(5):
        assert cache.get_or_load(key, load, ttl=30, negative_ttl=1) == {"id": 1}
    assert load.calls == 1


def test_invalidate_makes_the_next_read_load_again(cache: Cache) -> None:
    load = Loader({"id": 2})
    key = cache.key("file", "b")
    cache.get_or_load(key, load, ttl=30, negative_ttl=1)
    cache.invalidate([key])
    time.sleep(0.25)  # past any process-local copy
    cache.get_or_load(key, load, ttl=30, negative_ttl=1)
    assert load.calls == 2


def test_a_miss_is_remembered_briefly(cache: Cache) -> None:
    load = Loader(None)
    key = cache.key("file", "missing")
    assert cache.get_or_load(key, load, ttl=30, negative_ttl=1) is None
    assert cache.get_or_load(key, load, ttl=30, negative_ttl=1) is None
    assert load.calls == 1
    time.sleep(1.3)
    cache.get_or_load(key, load, ttl=30, negative_ttl=1)
    assert load.calls == 2


def test_concurrent_misses_make_one_load(cache: Cache) -> None:
    load = Loader({"id": 3}, delay=0.2)
    key = cache.key("file", "c")
    start = threading.Barrier(20)
    results: list[Any] = []

    def read() -> None:
        start.wait()
        results.append(cache.get_or_load(key, load, ttl=30, negative_ttl=1))

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"id": 3}] * 20
    assert load.calls == 1
