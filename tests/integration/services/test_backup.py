"""Backup and restore: a SQLite instance backed up while uploads continue, restored into
PostgreSQL and MariaDB, and every row and byte checked; incremental blob copies; an
instance that is not empty refuses a restore."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.db.moderation import BlockedHash
from pastefile.services.backup import RestoreRefused, Summary, _tables
from pastefile.web import create_app
from tests.support.api import make_token, post_file
from tests.support.images import image_bytes
from tests.support.s3 import s3_settings
from tests.support.settings import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL, make_settings
from tests.support.settings import server_database as _server_database

server_database = contextmanager(_server_database)


@pytest.fixture
def source(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path / "source", sqlite_url))
    migrate.upgrade(built.db)
    yield built
    built.close()


def populate(services: Services, variant: bool = True) -> dict[str, Any]:
    """Files, users, token hashes, tombstones, blocked hashes, variants and stats rows."""
    client = create_app(services=services).test_client()
    headers = make_token(services, "alice")
    make_token(services, "bob", scopes=("read",))
    ids = [
        post_file(client, headers, f"file {n} ".encode() * 300, f"f{n}.txt").json["id"]
        for n in range(12)
    ]
    picture = post_file(client, headers, image_bytes(), "p.png").json["id"]
    if variant:
        assert client.get(f"/i/{picture}?w=16").status_code == 200
    for public_id in ids[:3]:
        assert client.get(f"/i/{public_id}").status_code == 200  # counted views
    assert client.delete(f"/api/v1/files/{ids[-1]}", headers=headers).status_code == 204
    with services.db.write() as session:
        session.add(BlockedHash(sha256="ab" * 32, reason="abuse"))
    services.stats_recorder.flush()
    return {"client": client, "headers": headers}


def rows_of(services: Services) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every backed-up table's rows, keyed by primary key."""
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    with services.db.engine.connect() as conn:
        for table in _tables():
            keys = list(table.primary_key.columns)
            found[table.name] = {
                tuple(row[k.name] for k in keys): dict(row)
                for row in conn.execute(select(table)).mappings()
            }
    return found


@contextmanager
def uploads_meanwhile(services: Services) -> Iterator[list[str]]:
    """Uploads in a thread for as long as the block runs (at most 400, at most 120 s)."""
    made: list[str] = []
    stop = threading.Event()

    def upload() -> None:
        deadline = time.monotonic() + 120
        while not stop.is_set() and len(made) < 400 and time.monotonic() < deadline:
            data = f"meanwhile {len(made)} ".encode() * 2000
            made.append(services.uploads.save_stream(io.BytesIO(data), "m.txt").file.sha256)

    worker = threading.Thread(target=upload)
    worker.start()
    while not made and worker.is_alive():
        time.sleep(0.01)
    try:
        yield made
    finally:
        stop.set()
        worker.join(timeout=30)


def snapshot_blobs(summary: Summary) -> set[str]:
    lines = (Path(summary.snapshot) / "tables" / "blobs.jsonl").read_bytes().splitlines()
    return {orjson.loads(line)["sha256"] for line in lines}


def check_restored(
    source: Services, target: Services, summary: Summary, variant: bool = True
) -> None:
    """The target holds exactly the snapshot: rows equal to the source's, bytes sound."""
    before, after = rows_of(source), rows_of(target)
    for name, rows in after.items():
        assert len(rows) == summary.tables[name], name
        for key, row in rows.items():
            assert row == before[name][key], (name, key)
    for name in (
        *(("variants",) if variant else ()),
        "users",
        "api_tokens",
        "files",
        "file_tombstones",
        "blocked_hashes",
        "file_daily_stats",
        "file_daily_visitors",
    ):
        assert after[name], f"nothing in {name}: the test populates it"
    assert {len(after["users"]), len(after["api_tokens"])} == {2}
    report = target.scrub.run()
    assert report.problems == 0, report.as_dict()
    client = create_app(services=target).test_client()
    for file in after["files"].values():
        response = client.get(f"/i/{file['public_id']}")
        assert hashlib.sha256(response.data).hexdigest() == file["sha256"]
    tombstone = next(iter(after["file_tombstones"].values()))
    assert client.get(f"/i/{tombstone['public_id']}").status_code == 410


@pytest.mark.parametrize(
    "admin_url", [POSTGRES_ADMIN_URL, MARIADB_ADMIN_URL], ids=["postgresql", "mariadb"]
)
def test_a_sqlite_backup_under_load_restores_into_a_server_database(
    source: Services, tmp_path: Path, admin_url: str
) -> None:
    populate(source)
    with uploads_meanwhile(source) as made:
        summary = source.backup.run(tmp_path / "backup")
    assert made and summary.blobs.missing == [] and summary.blobs.corrupt == []
    with server_database(admin_url, "server") as url:
        target = build_services(make_settings(tmp_path / "target", url))
        try:
            restored = target.restore.run(tmp_path / "backup")
            assert restored.tables == summary.tables
            check_restored(source, target, summary)
            # New rows get new ids: the sequences moved past the restored ones.
            client = create_app(services=target).test_client()
            headers = make_token(target, "carol")
            assert post_file(client, headers, b"after the move").status_code == 201
            with pytest.raises(RestoreRefused, match="already holds data"):
                target.restore.run(tmp_path / "backup")
        finally:
            target.close()


def test_a_second_backup_copies_only_new_blobs(source: Services, tmp_path: Path) -> None:
    populate(source)
    first = source.backup.run(tmp_path / "backup")
    assert first.blobs.copied == first.blobs.count > 0
    source.uploads.save_stream(io.BytesIO(b"one new file"), "new.txt")
    second = source.backup.run(tmp_path / "backup")
    assert second.blobs.copied == 1 and second.blobs.count == first.blobs.count + 1
    assert snapshot_blobs(second) - snapshot_blobs(first) != set()
    assert second.snapshot != first.snapshot and Path(first.snapshot).exists()


def test_a_restore_into_sqlite_refuses_a_used_instance(source: Services, tmp_path: Path) -> None:
    populate(source)
    source.backup.run(tmp_path / "backup")
    used = build_services(make_settings(tmp_path / "used", f"sqlite:///{tmp_path / 'used.db'}"))
    migrate.upgrade(used.db)
    used.uploads.save_stream(io.BytesIO(b"already here"), "here.txt")
    with pytest.raises(RestoreRefused) as refused:
        used.restore.run(tmp_path / "backup")
    assert "files: 1" in refused.value.detail and "empty" in refused.value.detail
    used.close()


def test_a_backup_of_s3_storage_restores_onto_local_disk_and_back(
    tmp_path: Path, moto_endpoint: str
) -> None:
    on_s3 = build_services(
        make_settings(
            tmp_path / "s3", f"sqlite:///{tmp_path / 's3.db'}", **s3_settings(moto_endpoint)
        )
    )
    migrate.upgrade(on_s3.db)
    # No variant: rendering one from S3 aborts the process (pyvips' custom source is
    # collected while libvips still reads it), a fault of its own outside backups.
    populate(on_s3, variant=False)
    summary = on_s3.backup.run(tmp_path / "backup")
    local = build_services(make_settings(tmp_path / "local", f"sqlite:///{tmp_path / 'local.db'}"))
    try:
        local.restore.run(tmp_path / "backup")
        check_restored(on_s3, local, summary, variant=False)
        back = build_services(
            make_settings(
                tmp_path / "back", f"sqlite:///{tmp_path / 'back.db'}", **s3_settings(moto_endpoint)
            )
        )
        back.restore.run(tmp_path / "backup")
        check_restored(on_s3, back, summary, variant=False)
        back.close()
    finally:
        local.close()
        on_s3.close()


def test_a_backup_to_s3_is_incremental_and_restores_from_its_latest_or_a_named_snapshot(
    source: Services, tmp_path: Path, moto_endpoint: str
) -> None:
    """The backup lands in a bucket (the instance's own storage is local), a second one
    copies only new bytes, and restores read from S3 alone: the local folder is gone."""
    reach = {k: v for k, v in s3_settings(moto_endpoint).items() if k != "storage_url"}
    bucket = str(s3_settings(moto_endpoint)["storage_url"]).split("/")[2]
    dest = f"s3://{bucket}/nightly"
    on_disk = build_services(
        make_settings(tmp_path / "disk", f"sqlite:///{tmp_path / 'd.db'}", **reach)
    )
    migrate.upgrade(on_disk.db)
    made = populate(on_disk)
    try:
        first = on_disk.backup.run(dest)
        assert first.snapshot.startswith(f"{dest}/snapshots/") and first.blobs.copied > 0
        post_file(made["client"], made["headers"], b"one more")
        second = on_disk.backup.run(dest)
        assert (second.blobs.copied, second.blobs.copied_bytes) == (1, len(b"one more"))
        for n, src in enumerate((dest, first.snapshot)):
            target = build_services(
                make_settings(tmp_path / f"t{n}", f"sqlite:///{tmp_path / f't{n}.db'}", **reach)
            )
            try:
                restored = target.restore.run(src)
                expected = second if src == dest else first
                assert restored.tables == expected.tables
                check_restored_files(target, expected)
            finally:
                target.close()
    finally:
        on_disk.close()


def check_restored_files(target: Services, summary: Summary) -> None:
    client = create_app(services=target).test_client()
    files = rows_of(target)["files"]
    assert len(files) == summary.tables["files"]
    for file in files.values():
        body = client.get(f"/i/{file['public_id']}").data
        assert hashlib.sha256(body).hexdigest() == file["sha256"]


def test_every_engine_backs_up_and_restores_into_sqlite(services: Services, tmp_path: Path) -> None:
    populate(services)
    summary = services.backup.run(tmp_path / "backup")
    target = build_services(make_settings(tmp_path / "t", f"sqlite:///{tmp_path / 't.db'}"))
    try:
        target.restore.run(tmp_path / "backup")
        check_restored(services, target, summary)
    finally:
        target.close()
