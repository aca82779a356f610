"""The lookup cache: singleflight, negative caching, invalidation, Redis outages.

Redis tests use the machine's Redis (db 12, a key prefix unique to the run);
the outage tests start and stop a redis-server of their own on a spare port.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pastefile.cache import MemoryCache
from pastefile.cache.redis import RedisCache
from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.errors import NotFound
from pastefile.services.access import Caller, FileChanges
from pastefile.services.file_cache import MISS_TTL
from pastefile.web import create_app
from tests.support.cache import QueryCounter, need_redis, private_redis, run_together, unique_prefix
from tests.support.servers import free_port
from tests.support.settings import make_settings


def _build(tmp_path: Path, sqlite_url: str, **overrides: object) -> Services:
    built = build_services(make_settings(tmp_path, sqlite_url, **overrides))
    migrate.upgrade(built.db)
    return built


@pytest.fixture
def memory_services(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    built = _build(tmp_path, sqlite_url)
    yield built
    built.close()


@pytest.fixture
def redis_settings() -> dict[str, object]:
    return {"redis_url": need_redis(), "cache_prefix": unique_prefix()}


def _uploaded(services: Services) -> str:
    data = b"cached bytes " + unique_prefix().encode()
    result = services.uploads.save_stream(io.BytesIO(data), "a.txt")
    assert result.created
    return result.file.public_id


def test_memory_is_the_default(memory_services: Services) -> None:
    assert isinstance(memory_services.cache, MemoryCache)


def test_fifty_concurrent_misses_make_one_query(memory_services: Services) -> None:
    public_id = _uploaded(memory_services)
    memory_services.cache.invalidate([memory_services.cache.key("file", "id", public_id)])
    counter = QueryCounter(memory_services.db)
    results = run_together(50, lambda: memory_services.files.get(public_id).public_id)
    assert results == [public_id] * 50
    assert counter.count == 1


def test_misses_are_cached_briefly(memory_services: Services) -> None:
    counter = QueryCounter(memory_services.db)
    for _ in range(5):
        with pytest.raises(NotFound):
            memory_services.files.get("NoSuchFile12")
    assert counter.count == 1
    time.sleep(min(MISS_TTL, memory_services.cache.max_ttl) + 0.1)  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        memory_services.files.get("NoSuchFile12")
    assert counter.count == 2


def test_values_are_plain_rows_not_shared_objects(memory_services: Services) -> None:
    public_id = _uploaded(memory_services)
    first = memory_services.files.get(public_id)
    first.filename = "changed in one request"
    assert memory_services.files.get(public_id).filename != "changed in one request"
    raw = memory_services.cache.local.get(memory_services.cache.key("file", "id", public_id))
    assert raw is not None and raw.startswith(b'{"v":{')  # orjson, never pickle


def test_update_and_delete_invalidate(memory_services: Services) -> None:
    public_id = _uploaded(memory_services)
    files, access = memory_services.files, memory_services.access
    found = files.get(public_id)
    access.update(public_id, _admin_caller(memory_services), found.version, FileChanges("b.txt"))
    assert files.get(public_id).filename == "b.txt"
    assert files.find_by_sha256(found.sha256) is not None
    files.delete(public_id)
    with pytest.raises(NotFound):
        files.get(public_id)
    assert files.find_by_sha256(found.sha256) is None


def _admin_caller(services: Services) -> Caller:
    from pastefile.services.accounts import ROLE_ADMIN, Principal

    admin = Principal(user_id=0, username="admin", roles=ROLE_ADMIN, scopes=frozenset({"admin"}))
    return Caller(principal=admin)


# --- Redis ---------------------------------------------------------------------------


def test_redis_singleflight_across_two_services(
    tmp_path: Path, sqlite_url: str, redis_settings: dict[str, object]
) -> None:
    one = _build(tmp_path, sqlite_url, **redis_settings)
    two = _build(tmp_path, sqlite_url, **redis_settings)
    try:
        assert isinstance(one.cache, RedisCache)
        public_id = _uploaded(one)
        one.cache.invalidate([one.cache.key("file", "id", public_id)])
        counters = [QueryCounter(one.db), QueryCounter(two.db)]
        pick = iter([one, two] * 25)
        services = [next(pick) for _ in range(50)]
        results = run_together(50, lambda: services.pop().files.get(public_id).public_id)
        assert results == [public_id] * 50
        assert sum(c.count for c in counters) == 1
    finally:
        one.close()
        two.close()


def _process_lookups(args: tuple[str, str, str, str, float]) -> tuple[int, list[str]]:
    tmp, url, redis_url, public_id, start = args
    services = build_services(
        make_settings(Path(tmp), url, redis_url=redis_url, cache_prefix=public_id.lower())
    )
    counter = QueryCounter(services.db)
    time.sleep(max(0.0, start - time.time()))
    results = run_together(25, lambda: services.files.get(public_id).public_id)
    services.close()
    return counter.count, [str(r) for r in results]


def test_redis_singleflight_across_processes(
    tmp_path: Path, sqlite_url: str, redis_settings: dict[str, object]
) -> None:
    prefix_run = _build(tmp_path, sqlite_url, **redis_settings)
    public_id = _uploaded(prefix_run)
    prefix_run.close()
    start = time.time() + 2.0
    args = (str(tmp_path), sqlite_url, str(redis_settings["redis_url"]), public_id, start)
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        outcomes = pool.map(_process_lookups, [args] * 3)
    assert all(results == [public_id] * 25 for _, results in outcomes)
    assert sum(count for count, _ in outcomes) == 1


def test_delete_through_one_app_reaches_the_other_within_a_second(
    tmp_path: Path, sqlite_url: str, redis_settings: dict[str, object]
) -> None:
    one = _build(tmp_path, sqlite_url, **redis_settings)
    two = _build(tmp_path, sqlite_url, **redis_settings)
    try:
        public_id = _uploaded(one)
        reader = create_app(services=two).test_client()
        assert reader.get(f"/i/{public_id}").status_code == 200  # now cached in B
        one.access.update(
            public_id, _admin_caller(one), one.files.get(public_id).version, FileChanges("n.txt")
        )
        assert _within_a_second(lambda: two.files.get(public_id).filename == "n.txt")
        one.files.delete(public_id)
        assert _within_a_second(lambda: reader.get(f"/i/{public_id}").status_code == 404)
    finally:
        one.close()
        two.close()


def _within_a_second(check: object) -> bool:
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_dead_redis_serves_from_the_database(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    services = _build(tmp_path, sqlite_url, redis_url=dead, cache_prefix=unique_prefix())
    try:
        public_id = _uploaded(services)
        with caplog.at_level(logging.WARNING, "pastefile.cache"):
            for _ in range(3):
                assert services.files.get(public_id).public_id == public_id
                time.sleep(0.6)
        assert services.cache.stats.errors >= 1
        assert "Redis unavailable" in caplog.text
        assert services.access.resolve(public_id, Caller()).public_id == public_id
    finally:
        services.close()


def test_redis_stopped_mid_run_and_back(tmp_path: Path, sqlite_url: str) -> None:
    with private_redis(tmp_path) as (url, process):
        services = _build(tmp_path, sqlite_url, redis_url=url, cache_prefix=unique_prefix())
        try:
            public_id = _uploaded(services)
            # The lookup every route makes (FileAccess.resolve), with Redis up, down, back.
            assert services.access.resolve(public_id, Caller()).public_id == public_id
            process.terminate()
            process.wait(10)
            errors = services.cache.stats.errors
            for _ in range(5):
                assert services.access.resolve(public_id, Caller()).public_id == public_id
                time.sleep(0.3)
            assert services.cache.stats.errors > errors
            assert _counted_errors() > 0
        finally:
            services.close()


def _counted_errors() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("pastefile_cache_errors_total") or 0.0
