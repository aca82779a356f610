"""A delete whose commit the database refuses loses nothing: the file still
downloads, byte for byte, because the bytes go only after the commit."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pastefile.composition import Services
from tests.support.api import make_token, post_file

# A foreign key checked at COMMIT, not at the DELETE: the commit is what fails.
_GUARD = (
    "CREATE TABLE delete_guard (file_id INTEGER REFERENCES files(id) DEFERRABLE INITIALLY DEFERRED)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite and PostgreSQL both check a deferred foreign key at commit."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pastefile.db'}"
        return
    url: str = request.getfixturevalue("postgresql_url")
    yield url
    from pastefile.db import Base
    from pastefile.db.database import Database

    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS delete_guard"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    database.dispose()


def _guard(services: Services, public_id: str) -> None:
    with services.db.engine.begin() as conn:
        conn.execute(text(_GUARD))
        conn.execute(
            text("INSERT INTO delete_guard SELECT id FROM files WHERE public_id = :p"),
            {"p": public_id},
        )


def test_a_refused_delete_commit_keeps_the_bytes(client, services: Services) -> None:
    data = os.urandom(50_000)
    headers = make_token(services)
    body = post_file(client, headers, data=data, name="keep.bin").get_json()
    _guard(services, body["id"])
    with pytest.raises(DBAPIError):
        services.files.delete(body["id"])
    response = client.get(f"/d/{body['id']}")
    assert response.status_code == 200
    assert response.data == data


def test_bytes_a_row_uses_are_never_unlinked_after_a_commit(client, services: Services) -> None:
    """The unlink after a delete's commit gives up when the bytes have a row again:
    an identical upload published them in between."""
    data = os.urandom(20_000)
    body = post_file(client, make_token(services), data=data, name="again.bin").get_json()
    assert services.blobs.unlink_unclaimed(hashlib.sha256(data).hexdigest()) is False
    response = client.get(f"/d/{body['id']}")
    assert response.status_code == 200 and response.data == data
