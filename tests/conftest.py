"""Fixtures every layer may use, and the layer markers.

A test's layer is the first folder under ``tests/``: ``unit`` (no servers),
``integration`` (the app and services against SQLite, MariaDB, PostgreSQL, Redis,
RabbitMQ and S3) or ``system`` (real processes: gunicorn, nginx, Celery workers,
the browser, pastefile's own commands and servers). Each test gets that marker here, so
``pytest -m unit`` selects what ``pytest tests/unit`` does, and ``-m "not system"`` leaves
out the real processes. A test module outside the three folders is an error.

The database fixtures run the app on SQLite, MariaDB and PostgreSQL, for real
(``tests.support.settings`` says how the server databases are made).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pastefile.composition import Services, build_services
from pastefile.config import Settings
from pastefile.db import Base, migrate
from pastefile.db.database import Database
from pastefile.web import create_app
from tests.support.s3 import moto_server
from tests.support.settings import (
    BACKENDS,
    MARIADB_ADMIN_URL,
    POSTGRES_ADMIN_URL,
    make_settings,
    server_database,
)

TESTS = Path(__file__).resolve().parent
LAYERS = ("unit", "integration", "system")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its layer, taken from its path."""
    for item in items:
        try:
            layer = item.path.resolve().relative_to(TESTS).parts[0]
        except ValueError:
            continue
        if layer not in LAYERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live under tests/unit, tests/integration or tests/system"
            )
        item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from server_database(MARIADB_ADMIN_URL, "MariaDB")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from server_database(POSTGRES_ADMIN_URL, "PostgreSQL")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One URL per backend; server databases are emptied after each test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pastefile.db'}"
        return
    url = request.getfixturevalue(f"{request.param}_url")
    yield url
    database = Database(url)
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    database.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pastefile.db'}"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, database_url: str, settings_overrides: dict[str, object]) -> Settings:
    return make_settings(tmp_path, database_url, **settings_overrides)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    if built.db.is_sqlite:
        migrate.upgrade(built.db)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server for the session; tests make their own buckets on it."""
    with moto_server() as endpoint:
        yield endpoint
