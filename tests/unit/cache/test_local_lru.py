"""The process-local LRU holds what was touched within a TTL, not max_entries dead copies."""

from __future__ import annotations

import pytest

from pastefile.cache import base
from pastefile.cache.base import LocalLRU


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    made = Clock()
    monkeypatch.setattr(base.time, "monotonic", made)
    return made


def test_distinct_keys_read_once_never_pile_up_to_the_count_bound(clock: Clock) -> None:
    # A worker serving many different files: each key is put once and never read again.
    lru = LocalLRU(max_entries=10_000)
    for n in range(5_000):
        lru.put(f"file:{n}", b"x" * 100, ttl=0.5)
        clock.now += 0.01  # 100 puts a second
    assert len(lru) <= 51  # the last half second's, not 5,000


def test_a_live_entry_stays_and_an_expired_one_is_gone(clock: Clock) -> None:
    lru = LocalLRU(max_entries=100)
    lru.put("old", b"1", ttl=0.5)
    lru.put("live", b"2", ttl=5)
    clock.now += 1
    lru.put("new", b"3", ttl=0.5)
    assert len(lru) == 2
    assert lru.get("live") == b"2"
    assert lru.get("new") == b"3"
    assert lru.get("old") is None


def test_the_count_bound_still_holds(clock: Clock) -> None:
    lru = LocalLRU(max_entries=10)
    for n in range(100):
        lru.put(f"k{n}", b"v", ttl=60)
    assert len(lru) == 10
    assert lru.get("k99") == b"v"
    assert lru.get("k0") is None
