"""Settings for the app under test, and the database servers the tests run on.

The server databases are this machine's MariaDB and PostgreSQL. Each test
session creates its own database on them and drops it at the end. Without
the servers these tests skip with the reason, unless
``PASTEFILE_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pastefile.config import Settings
from pastefile.db import migrate
from pastefile.db.database import Database

REQUIRE_SERVICES = os.environ.get("PASTEFILE_REQUIRE_SERVICES") == "1"
MARIADB_ADMIN_URL = os.environ.get(
    "PASTEFILE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
POSTGRES_ADMIN_URL = os.environ.get(
    "PASTEFILE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "mariadb", "postgresql"]


def service_unavailable(name: str, reason: object) -> None:
    message = f"{name} is not reachable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{message}; start it to run these tests")


def server_database(admin_url: str, name: str) -> Iterator[str]:
    """Create a fresh database on a server, migrate it, and drop it afterwards."""
    for url in empty_server_database(admin_url, name):
        database = Database(url)
        migrate.upgrade(database)
        database.dispose()
        yield url


def empty_server_database(admin_url: str, name: str) -> Iterator[str]:
    """Create a fresh database on a server, without any table, and drop it afterwards."""
    dbname = f"pastefile_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(f"CREATE DATABASE {dbname} ENCODING 'UTF8' TEMPLATE template0"))
            else:
                conn.execute(
                    text(
                        f"CREATE DATABASE {dbname} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    except OperationalError as exc:
        admin.dispose()
        service_unavailable(name, exc.orig)
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}{force}"))
        admin.dispose()


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": "testing",
        "data_dir": tmp_path / "var",
        "database_url": database_url,
        "storage_url": f"file://{tmp_path / 'files'}",
        "base_url": "http://files.test",
        "secret_key": "test-secret-key-0123456789",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
