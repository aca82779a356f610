"""/readyz answers 503 with a problem naming what to do when the schema is behind or
ahead of the code, or the storage root is gone, on every database."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import text

from pastefile.composition import Services
from pastefile.db import migrate


def _problem(client: FlaskClient, down: str) -> str:
    response = client.get("/readyz")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == "not_ready" and down in body["down"]
    return str(body["detail"])


def test_a_schema_behind_the_code_is_not_ready(client: FlaskClient, services: Services) -> None:
    assert client.get("/readyz").json["checks"]["schema"] == "ok"
    migrate.downgrade(services.db, "-1")
    try:
        detail = _problem(client, "schema")
        assert "behind" in detail and "pastefile db upgrade" in detail
    finally:
        migrate.upgrade(services.db)
    assert client.get("/readyz").status_code == 200


def test_a_schema_ahead_of_the_code_is_not_ready(client: FlaskClient, services: Services) -> None:
    """A newer pastefile migrated the database: its revision is one this code does not know."""
    with services.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('f00dfeedbeef')"))
    try:
        detail = _problem(client, "schema")
        assert "ahead" in detail and "pastefile db upgrade" in detail
    finally:
        with services.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num = 'f00dfeedbeef'"))


def test_a_missing_storage_root_is_not_ready(client: FlaskClient, services: Services) -> None:
    root = Path(services.settings.storage_url.removeprefix("file://"))
    shutil.rmtree(root)
    detail = _problem(client, "storage")
    assert str(root) in detail
