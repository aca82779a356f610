"""Counting PV/UV off the hot path: daily counts, visitors without raw IPs, the flusher, Redis."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, FileDailyVisitor, StatsSalt, UserDailyActivity
from pastefile.stats.counting import today
from tests.support.stats import post_file, recorder, user_headers
from tests.support.uploads import upload

BROWSER_A = {"User-Agent": "Mozilla/5.0 (A)"}
BROWSER_B = {"User-Agent": "Mozilla/5.0 (B)"}


def daily(services, public_id):  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        file_id = session.scalar(select(File.id).where(File.public_id == public_id))
        row = session.get(FileDailyStats, (file_id, today()))
        visitors = list(
            session.scalars(
                select(FileDailyVisitor.visitor).where(FileDailyVisitor.file_id == file_id)
            )
        )
    return row, visitors


def test_views_hits_downloads_and_visitors_per_day(app, client, services):
    public_id = upload(client, b"count me").json["url_p"].rsplit("/", 1)[-1]
    for headers in (BROWSER_A, BROWSER_B):
        assert client.get(f"/p/{public_id}", headers=headers).status_code == 200
        assert client.get(f"/i/{public_id}.txt", headers=headers).status_code == 200
    assert client.get(f"/i/{public_id}", headers=BROWSER_A).status_code == 200
    assert client.get(f"/d/{public_id}", headers=BROWSER_A).status_code == 200
    # A Range continuation is a hit, never another download; errors are not counted.
    client.get(f"/d/{public_id}", headers={**BROWSER_A, "Range": "bytes=3-"})
    client.get("/i/doesnotexist1", headers=BROWSER_A)
    row, visitors = daily(services, public_id)
    assert row is None, "nothing is written on the request path"
    assert recorder(app).flush() == 1
    row, visitors = daily(services, public_id)
    assert (row.views, row.hits, row.downloads) == (2, 3, 1)
    assert len(visitors) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in visitors)
    assert recorder(app).flush() == 0  # nothing twice


def test_counts_add_up_across_batches(app, client, services):
    public_id = upload(client, b"twice").json["url_p"].rsplit("/", 1)[-1]
    for _ in range(2):
        client.get(f"/i/{public_id}", headers=BROWSER_A)
        recorder(app).flush()
    row, visitors = daily(services, public_id)
    assert row.hits == 2 and len(visitors) == 1


def test_no_raw_ip_is_stored_and_the_salt_rotates_daily(app, client, services):
    public_id = upload(client, b"private person").json["url_p"].rsplit("/", 1)[-1]
    client.get(f"/i/{public_id}", headers=BROWSER_A, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    recorder(app).flush()
    with services.db.read() as session:
        dumped = [str(v) for v in session.scalars(select(FileDailyVisitor.visitor))]
        salts = list(session.scalars(select(StatsSalt.salt)))
    assert dumped and not any("203.0.113.7" in v for v in dumped)
    assert len(salts) == 1 and len(salts[0]) == 64


def test_old_salts_are_forgotten_and_racing_requests_share_one(app, client, services):
    import threading

    with services.db.write() as session:
        session.add(StatsSalt(day=today() - timedelta(days=5), salt="f" * 64))
    public_id = upload(client, b"racing").json["url_p"].rsplit("/", 1)[-1]
    barrier = threading.Barrier(6)

    def fetch(i: int) -> None:
        local = app.test_client()
        barrier.wait()
        assert local.get(f"/i/{public_id}", headers={"User-Agent": f"r{i}"}).status_code == 200

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    recorder(app).flush()
    with services.db.read() as session:
        assert [s.day for s in session.scalars(select(StatsSalt))] == [today()]
    row, visitors = daily(services, public_id)
    assert row.hits == 6 and len(visitors) == 6


def test_the_flusher_thread_writes_within_seconds(app, client, services):
    recorder(app).interval = 0.2
    public_id = upload(client, b"background").json["url_p"].rsplit("/", 1)[-1]
    client.get(f"/i/{public_id}", headers=BROWSER_A)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row, _ = daily(services, public_id)
        if row is not None:
            break
        time.sleep(0.1)
    assert row is not None and row.hits == 1


def test_active_users_latest_uploads_and_top_downloads_without_redis(app, client, services):
    user, headers = user_headers(services, "alice")
    first = post_file(client, headers, b"one")
    second = post_file(client, headers, b"two")
    for _ in range(3):
        client.get(f"/d/{second}")
    client.get(f"/d/{first}")
    recorder(app).flush()
    store = app.services.stats_store
    assert store.latest_uploads(2) == [second, first]
    top = store.top_downloads(10)
    assert [n for _, n in top] == [3, 1]
    assert store.active_users([today()]) == {today(): 1}
    with services.db.read() as session:
        assert session.scalars(select(UserDailyActivity.user_id)).all() == [user.id]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    redis = pytest.importorskip("redis")
    prefix = f"pastefile-test-{uuid.uuid4().hex}:"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        client.ping()
    except redis.RedisError as exc:
        from tests.support.settings import service_unavailable

        service_unavailable("Redis", exc)
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_mode_uses_hyperloglog_list_sorted_set_and_bitmaps(tmp_path, redis_prefix):
    from pastefile.composition import build_services
    from pastefile.db import migrate
    from pastefile.web import create_app
    from tests.support.settings import make_settings

    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'redis.db'}",
        redis_url="redis://127.0.0.1:6379/0",
        stats_redis_prefix=redis_prefix,
    )
    services = build_services(settings)
    migrate.upgrade(services.db)
    try:
        app = create_app(services=services)
        client = app.test_client()
        user, headers = user_headers(services, "bob")
        ident = post_file(client, headers, b"scaled")
        for i in range(5):
            client.get(f"/i/{ident}", headers={"User-Agent": f"agent {i}"})
        client.get(f"/d/{ident}", headers=BROWSER_A)
        recorder(app).flush()
        store = app.services.stats_store
        r = store.redis
        file_id = store.top_downloads(1)[0][0]
        assert r.pfcount(f"{redis_prefix}uv:{file_id}:{today().isoformat()}") == 6
        assert r.lrange(f"{redis_prefix}latest", 0, -1) == [ident]
        assert r.zscore(f"{redis_prefix}top:downloads", str(file_id)) == 1
        assert r.getbit(f"{redis_prefix}active:{today().isoformat()}", user.id) == 1
        assert store.unique_visitors(file_id, [today()]) == {today(): 6}
        with services.db.read() as session:
            assert session.scalars(select(FileDailyVisitor)).all() == []  # Redis holds them
            assert session.get(FileDailyStats, (file_id, today())).hits == 5
    finally:
        recorder(app).close()
        services.close()


def test_batches_of_any_size_reuse_a_few_sql_texts(app, client, services):
    """SQLite keeps each distinct SQL text compiled in every pooled connection: a text per
    batch size made a busy worker's memory climb by megabytes a minute."""
    recorder(app).interval = 3600  # only this test's flushes: each batch one size larger
    ids = [upload(client, f"file {n}".encode()).json["url_p"].rsplit("/", 1)[-1] for n in range(12)]
    texts: set[str] = set()

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        texts.add(statement)

    for n in range(1, len(ids) + 1):
        for public_id in ids[:n]:
            client.get(f"/i/{public_id}", headers=BROWSER_A)
        event.listen(services.db.engine, "before_cursor_execute", seen)
        try:
            assert recorder(app).flush() == n
        finally:
            event.remove(services.db.engine, "before_cursor_execute", seen)
    # A text per size would be 12 for each of the four statements that take a batch.
    assert len(texts) <= 12, sorted(texts)
