"""Every stats store answers the same for the same recorded traffic: unique
visitors, active users, latest uploads, top downloads and the daily salt.

The stores keep these patterns differently (tables and queries, or Redis
HyperLogLogs, bitmaps, lists and sorted sets), so the contract is stated the
way the service uses them: events go through the recorder, then the store is
asked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.services.accounts import ROLE_USER
from pastefile.stats.counting import today
from pastefile.stats.stores import TableStore
from pastefile.stats.stores.redis import RedisStore
from tests.support.cache import need_redis, unique_prefix
from tests.support.settings import make_settings


@pytest.fixture(params=["table", "redis"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    redis_url = need_redis() if request.param == "redis" else ""
    prefix = unique_prefix() + ":"
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'stats.db'}", redis_url=redis_url,
        stats_redis_prefix=prefix, stats_flush_seconds=60,
    )  # fmt: skip
    made = build_services(settings)
    migrate.upgrade(made.db)
    expected = RedisStore if redis_url else TableStore
    assert isinstance(made.stats_store, expected)
    yield made
    if isinstance(made.stats_store, RedisStore):
        client = made.stats_store.redis
        keys = list(client.scan_iter(prefix + "*"))
        if keys:
            client.delete(*keys)
    made.close()


def _upload(services: Services, n: int) -> str:
    body = io.BytesIO(f"file number {n}\n".encode())
    return services.uploads.save_stream(body, f"{n}.txt").file.public_id


def test_unique_visitors_count_each_visitor_once_per_file_and_day(services: Services) -> None:
    a, b = _upload(services, 1), _upload(services, 2)
    rec = services.stats_recorder
    for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        rec.record_file(a, "views", ip, "browser")
    rec.record_file(b, "views", "10.0.0.1", "browser")
    rec.flush()
    day = today()
    file_id = services.files.get(a).id
    assert services.stats_store.unique_visitors(file_id, [day]) == {day: 2}
    assert services.stats_store.unique_visitors(None, [day]) == {day: 2}  # the whole site


def test_active_users_per_day(services: Services) -> None:
    alice = services.accounts.create_user("alice", "correct horse 1", ROLE_USER)
    bob = services.accounts.create_user("bob", "correct horse 2", ROLE_USER)
    for user_id in (alice.id, alice.id, bob.id):
        services.stats_recorder.record_user(user_id)
    services.stats_recorder.flush()
    day = today()
    assert services.stats_store.active_users([day, day - timedelta(days=1)]) == {day: 2}


def test_latest_uploads_come_newest_first(services: Services) -> None:
    ids = [_upload(services, n) for n in range(5)]
    for public_id in ids:
        services.stats_recorder.record_upload(public_id)
    services.stats_recorder.flush()
    assert services.stats_store.latest_uploads(3) == ids[::-1][:3]


def test_top_downloads_rank_files_by_their_downloads(services: Services) -> None:
    a, b = _upload(services, 1), _upload(services, 2)
    rec = services.stats_recorder
    for _ in range(2):
        rec.record_file(a, "downloads", "10.0.0.1", "curl")
    for _ in range(5):
        rec.record_file(b, "downloads", "10.0.0.1", "curl")
    rec.flush()
    rec.record_file(a, "downloads", "10.0.0.1", "curl")
    rec.record_file(a, "downloads", "10.0.0.1", "curl")
    rec.record_file(a, "downloads", "10.0.0.1", "curl")
    rec.record_file(a, "downloads", "10.0.0.1", "curl")
    rec.flush()
    a_id, b_id = services.files.get(a).id, services.files.get(b).id
    assert services.stats_store.top_downloads(2) == [(a_id, 6), (b_id, 5)]


def test_the_day_salt_is_stable_per_day(services: Services) -> None:
    day = today()
    first = services.stats_store.salt(day)
    assert first == services.stats_store.salt(day) and len(first) >= 32
    assert services.stats_store.salt(day + timedelta(days=1)) != first
    services.stats_store.prune_salts(day + timedelta(days=30))
