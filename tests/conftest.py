"""Fixtures: the app on SQLite, MariaDB and PostgreSQL, for real.

The server databases are this machine's MariaDB and PostgreSQL. Each test
session creates its own database on them and drops it at the end. Without
the servers these tests skip with the reason, unless
``PASTEFILE_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns that into a failure.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pastefile.composition import Services, build_services
from pastefile.config import Settings
from pastefile.db import Base, migrate
from pastefile.db.database import Database
from pastefile.web import create_app

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


def _server_database(admin_url: str, name: str) -> Iterator[str]:
    """Create a fresh database on a server, migrate it, and drop it afterwards."""
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
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}{force}"))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _server_database(MARIADB_ADMIN_URL, "MariaDB")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _server_database(POSTGRES_ADMIN_URL, "PostgreSQL")


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


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    """A small real image with gradients and noise, so resizes are not trivial."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = Image.merge("RGB", (gradient, noise, mirrored))
    if mode != "RGB":
        im = im.convert(mode)
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


def upload(client: FlaskClient, data: bytes, filename: str = "hello.txt", **fields: object):  # type: ignore[no-untyped-def]
    form: dict[str, object] = {"file": (io.BytesIO(data), filename)}
    form.update(fields)
    return client.post("/", data=form, headers={"Accept": "application/json"})


def stored_blobs(settings: Settings) -> list[Path]:
    root = Path(settings.storage_url.removeprefix("file://")) / "objects"
    return [p for p in root.rglob("*") if p.is_file()]


def temp_files(settings: Settings) -> list[Path]:
    root = Path(settings.storage_url.removeprefix("file://")) / "tmp"
    return [p for p in root.iterdir()] if root.exists() else []
