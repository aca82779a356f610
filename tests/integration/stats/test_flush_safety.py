"""A stats flush loses nobody's counts: a file deleted between a view and the
flush costs only its own counts, and a flush the database refuses is kept for
the next one, on every database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, text

from pastefile.composition import Services
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats
from pastefile.stats.counting import today
from tests.support.stats import recorder
from tests.support.uploads import upload

BROWSER = {"User-Agent": "Mozilla/5.0 (flush)"}


def _public_id(client: Any, data: bytes) -> str:
    return str(upload(client, data).json["url_p"].rsplit("/", 1)[-1])


def _hits(services: Services, public_id: str) -> int | None:
    with services.db.read() as session:
        file_id = session.scalar(select(File.id).where(File.public_id == public_id))
        row = session.get(FileDailyStats, (file_id, today()))
    return None if row is None else row.hits


def _delete_after_the_lookup(services: Services, public_id: str) -> None:
    """Delete ``public_id`` for real right after the flusher looked its id up."""
    fired: list[bool] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "FROM files" in statement and "public_id IN" in statement:
            fired.append(True)
            services.files.delete(public_id)

    event.listen(services.db.engine, "after_cursor_execute", after)


def test_a_file_deleted_before_the_flush_costs_only_its_own_counts(app, client, services, caplog):
    kept, doomed = _public_id(client, b"kept"), _public_id(client, b"doomed")
    for public_id in (kept, doomed):
        assert client.get(f"/i/{public_id}", headers=BROWSER).status_code == 200
    _delete_after_the_lookup(services, doomed)
    with caplog.at_level(logging.WARNING, logger="pastefile.stats"):
        recorder(app).flush()
    assert _hits(services, kept) == 1, "everyone else's counts are written"
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]


@contextmanager
def _stats_table_away(services: Services) -> Iterator[None]:
    """The database refuses every flush for a while: its table is gone."""
    with services.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE file_daily_stats RENAME TO file_daily_stats_away"))
    try:
        yield
    finally:
        with services.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE file_daily_stats_away RENAME TO file_daily_stats"))


def test_a_refused_flush_is_written_by_the_next_one(app, client, services):
    public_id = _public_id(client, b"refused once")
    assert client.get(f"/i/{public_id}", headers=BROWSER).status_code == 200
    with _stats_table_away(services):
        assert recorder(app).flush() == 0, "the database refuses this flush"
    assert client.get(f"/i/{public_id}", headers=BROWSER).status_code == 200
    assert recorder(app).flush() == 1
    assert _hits(services, public_id) == 2, "the refused count is written with the new one"


def test_what_waits_for_a_retry_is_bounded(app, client, services, caplog):
    rec = recorder(app)
    rec.max_kept = 2
    ids = [_public_id(client, f"bounded {n}".encode()) for n in range(3)]
    for public_id in ids:
        client.get(f"/i/{public_id}", headers=BROWSER)
    with _stats_table_away(services), caplog.at_level(logging.WARNING, logger="pastefile.stats"):
        rec.flush()
    assert [r for r in caplog.records if "dropped" in r.getMessage()]
    rec.flush()
    assert [_hits(services, p) for p in ids] == [None, None, None]
