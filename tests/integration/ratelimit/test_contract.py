"""Every rate limiter spends a budget atomically, per key, and starts over when told."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pastefile.config import load_settings
from pastefile.ratelimit import RateLimiter, WindowLimiter, rate_limiter_from_settings
from pastefile.ratelimit.sqlite_store import SCHEME
from tests.support.cache import REDIS_URL, need_redis
from tests.support.servers import free_port


@pytest.fixture(params=["memory", "sqlite", "redis"])
def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RateLimiter]:
    if request.param == "redis":
        need_redis()
        yield WindowLimiter.from_uri(REDIS_URL)
    elif request.param == "sqlite":
        yield WindowLimiter.from_uri(f"{SCHEME}://{tmp_path / 'limits.db'}")
    else:
        yield WindowLimiter.from_uri("memory://")


@pytest.fixture
def key() -> str:
    return uuid.uuid4().hex  # budgets of earlier runs never leak into this one


def test_a_budget_allows_its_amount_then_refuses(limiter: RateLimiter, key: str) -> None:
    verdicts = [limiter.hit("3/minute", "login", key) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert verdicts[0].limit == 3 and verdicts[0].remaining == 2
    assert verdicts[-1].remaining == 0 and verdicts[-1].reset_at > 0


def test_peeking_spends_nothing(limiter: RateLimiter, key: str) -> None:
    for _ in range(10):
        assert limiter.peek("2/minute", key).allowed
    limiter.hit("2/minute", key)
    limiter.hit("2/minute", key)
    assert not limiter.peek("2/minute", key).allowed


def test_keys_have_budgets_of_their_own(limiter: RateLimiter, key: str) -> None:
    limiter.hit("1/minute", key, "a")
    assert not limiter.peek("1/minute", key, "a").allowed
    assert limiter.peek("1/minute", key, "b").allowed


def test_clear_starts_the_budget_over(limiter: RateLimiter, key: str) -> None:
    limiter.hit("1/minute", key)
    limiter.clear("1/minute", key)
    assert limiter.hit("1/minute", key).allowed


def test_concurrent_hits_never_all_slip_under_the_limit(limiter: RateLimiter, key: str) -> None:
    start = threading.Barrier(20)
    allowed: list[bool] = []

    def attempt() -> None:
        start.wait()
        allowed.append(limiter.hit("5/minute", key).allowed)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def test_a_refund_gives_one_unit_back(limiter: RateLimiter, key: str) -> None:
    limiter.hit("2/minute", key)
    limiter.hit("2/minute", key)
    limiter.refund("2/minute", key)
    assert limiter.hit("2/minute", key).allowed
    assert not limiter.hit("2/minute", key).allowed


def test_a_store_that_is_down_turns_limits_off_not_the_service(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = WindowLimiter.from_uri(f"redis://127.0.0.1:{free_port()}/0")
    verdicts = [dead.hit("1/minute", "k") for _ in range(3)]
    assert all(v.allowed for v in verdicts)
    assert dead.peek("1/minute", "k").allowed
    dead.refund("1/minute", "k")
    dead.clear("1/minute", "k")
    assert "the store is down" in caplog.text


def test_deployments_sharing_a_redis_count_apart(key: str) -> None:
    need_redis()
    one, two = (
        rate_limiter_from_settings(load_settings(redis_url=REDIS_URL, cache_prefix=prefix))
        for prefix in ("deploy-one", "deploy-two")
    )
    assert one.hit("1/minute", "login", key).allowed
    assert not one.hit("1/minute", "login", key).allowed
    assert two.hit("1/minute", "login", key).allowed


def _hit_from_another_process(uri: str, key: str, tries: int) -> int:
    limiter = WindowLimiter.from_uri(uri)
    return sum(limiter.hit("10/minute", "login", key).allowed for _ in range(tries))


def test_the_embedded_store_is_one_budget_for_every_process(tmp_path: Path, key: str) -> None:
    uri = f"{SCHEME}://{tmp_path / 'limits.db'}"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        allowed = pool.starmap(_hit_from_another_process, [(uri, key, 10)] * 4)
    assert sum(allowed) == 10, allowed


def test_the_embedded_store_starts_a_window_over_when_it_ends(tmp_path: Path, key: str) -> None:
    limiter = WindowLimiter.from_uri(f"{SCHEME}://{tmp_path / 'limits.db'}")
    assert limiter.hit("1/second", key).allowed
    assert not limiter.hit("1/second", key).allowed
    time.sleep(1.1)
    assert limiter.hit("1/second", key).allowed
