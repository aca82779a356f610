"""Every process refuses to start, saying why and what to do, when it cannot work: a
database without the code's schema, a storage root it cannot use, Redis or a broker it
cannot reach. Never a server that starts and answers 500 at the first request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.servers import free_port
from tests.support.settings import POSTGRES_ADMIN_URL, empty_server_database

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET = "not-ready-secret-0123456789abcdef"
# Each command would run until stopped if it started: the timeout makes that a failure.
START_TIMEOUT = 45


@pytest.fixture
def fresh_postgresql() -> Iterator[str]:
    yield from empty_server_database(POSTGRES_ADMIN_URL, "PostgreSQL")


def _env(tmp_path: Path, app_env: str, **values: str) -> dict[str, str]:
    defaults = {
        "APP_ENV": app_env,
        "PASTEFILE_SECRET_KEY": SECRET,
        "PASTEFILE_DATA_DIR": str(tmp_path / "var"),
        "PASTEFILE_STORAGE_URL": f"file://{tmp_path / 'files'}",
        "PASTEFILE_DATABASE_URL": f"sqlite:///{tmp_path / 'pastefile.db'}",
    }
    return cli_env(**{**defaults, **values})


def _refused(tmp_path: Path, env: dict[str, str], *command: str) -> str:
    done = run_cli(*command, env=env, cwd=tmp_path, timeout=START_TIMEOUT)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "pastefile cannot start" in done.stderr, done.stderr
    return done.stderr


@pytest.mark.parametrize("app_env", ["development", "production"])
def test_serve_on_an_unmigrated_database_with_a_broker_and_redis_exits_naming_the_command(
    tmp_path: Path, fresh_postgresql: str, app_env: str
) -> None:
    env = _env(
        tmp_path,
        app_env,
        PASTEFILE_DATABASE_URL=fresh_postgresql,
        PASTEFILE_BROKER_URL=AMQP_URL,
        PASTEFILE_REDIS_URL=REDIS_URL,
    )
    message = _refused(tmp_path, env, "serve", "--port", str(free_port()))
    assert "the database has no pastefile tables yet: run `pastefile db upgrade`" in message


@pytest.mark.parametrize(
    "command", [("worker",), ("beat",), ("rpc", "--port", "0")], ids=["worker", "beat", "rpc"]
)
def test_every_other_process_checks_the_schema_too(
    tmp_path: Path, fresh_postgresql: str, command: tuple[str, ...]
) -> None:
    env = _env(
        tmp_path,
        "production",
        PASTEFILE_DATABASE_URL=fresh_postgresql,
        PASTEFILE_BROKER_URL=AMQP_URL,
        PASTEFILE_REDIS_URL=REDIS_URL,
    )
    message = _refused(tmp_path, env, *command)
    assert "run `pastefile db upgrade`" in message


def test_unreachable_redis_and_broker_are_named_at_start(tmp_path: Path) -> None:
    redis, broker = f"redis://127.0.0.1:{free_port()}/0", f"amqp://u:p@127.0.0.1:{free_port()}//"
    env = _env(tmp_path, "production", PASTEFILE_REDIS_URL=redis, PASTEFILE_BROKER_URL=broker)
    message = _refused(tmp_path, env, "serve", "--port", str(free_port()))
    assert f"cannot reach Redis at {redis}" in message
    assert "cannot reach the broker at amqp://u:***@127.0.0.1" in message


def test_a_storage_root_that_cannot_be_made_is_named_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = _env(tmp_path, "development", PASTEFILE_STORAGE_URL=f"file://{blocker / 'files'}")
    message = _refused(tmp_path, env, "serve", "--port", str(free_port()))
    assert f"the storage at file://{blocker / 'files'} is missing or not writable" in message
