"""The ``pastefile`` command as a process.

db upgrade and get-file; production refuses unsafe settings; a bad setting names itself.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pastefile.composition import build_services
from pastefile.config import Settings
from pastefile.services.links import build_links
from tests.support.cli import cli_env, run_cli
from tests.support.servers import free_port

GOOD_KEY = "a-production-secret-of-enough-length"


def _fresh_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return cli_env(PASTEFILE_DATA_DIR=str(tmp_path / "data"), **values)


# --- db upgrade and get-file on the embedded defaults ------------------------------------------


def test_db_upgrade_then_get_file_prints_the_url(tmp_path):
    env = _fresh_env(tmp_path)
    upgraded = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "data" / "pastefile.db").exists()

    # Upload through the service layer, configured from the same environment.
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    services = build_services(settings)
    stored = services.uploads.save_stream(io.BytesIO(b"find me by hash\n"), "found.txt").file
    services.close()

    found = run_cli("get-file", stored.sha256, env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    url = found.stdout.strip()
    assert url == build_links(stored, "http://localhost:5000").url_i
    assert url.endswith(f"/i/{stored.public_id}.txt")

    upper = run_cli("get-file", stored.sha256.upper(), env=env, cwd=tmp_path)
    assert upper.stdout.strip() == url

    env["PASTEFILE_BASE_URL"] = "https://files.example.org/"
    based = run_cli("get-file", stored.sha256, env=env, cwd=tmp_path)
    assert based.stdout.strip() == f"https://files.example.org/i/{stored.public_id}.txt"


def test_get_file_of_an_unknown_hash_prints_not_exists(tmp_path):
    env = _fresh_env(tmp_path)
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    for sha in ["0" * 64, "not-a-hash", "'; DROP TABLE files; --"]:
        result = run_cli("get-file", sha, env=env, cwd=tmp_path)
        assert result.stdout.strip() == "Not exists"
        assert result.returncode != 0
        assert "Traceback" not in result.stderr


def test_db_upgrade_is_idempotent_on_every_database(settings, tmp_path):
    # The server databases arrive migrated; upgrading again must change nothing.
    env = cli_env(settings)
    for _ in range(2):
        result = run_cli("db", "upgrade", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert run_cli("get-file", "0" * 64, env=env, cwd=tmp_path).stdout.strip() == "Not exists"


# --- production refuses unsafe settings -------------------------------------------------------


def _serve(tmp_path: Path, **values: str):  # type: ignore[no-untyped-def]
    env = _fresh_env(tmp_path, APP_ENV="production", **values)
    return run_cli("serve", "--port", str(free_port()), env=env, cwd=tmp_path, timeout=30)


def test_production_refuses_the_default_secret_key(tmp_path):
    result = _serve(tmp_path)
    assert result.returncode != 0
    assert "PASTEFILE_SECRET_KEY" in result.stderr
    assert "production" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = _serve(tmp_path, PASTEFILE_SECRET_KEY="short")
    assert result.returncode != 0
    assert "PASTEFILE_SECRET_KEY" in result.stderr


def test_production_refuses_debug(tmp_path):
    result = _serve(tmp_path, PASTEFILE_SECRET_KEY=GOOD_KEY, PASTEFILE_DEBUG="1")
    assert result.returncode != 0
    assert "PASTEFILE_DEBUG" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_with_safe_settings_is_accepted(tmp_path):
    env = _fresh_env(tmp_path, APP_ENV="production", PASTEFILE_SECRET_KEY=GOOD_KEY)
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = run_cli("get-file", "0" * 64, env=env, cwd=tmp_path)
    assert result.stdout.strip() == "Not exists"
    assert "invalid configuration" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("APP_ENV", "staging"),
        ("PASTEFILE_MAX_UPLOAD_SIZE", "lots"),
        ("PASTEFILE_BASE_URL", "files.example.org"),
        ("PASTEFILE_SLOW_QUERY_MS", "-1"),
    ],
)
def test_a_bad_setting_stops_the_command_and_names_the_variable(tmp_path, variable, value):
    result = run_cli(
        "get-file", "0" * 64, env=_fresh_env(tmp_path, **{variable: value}), cwd=tmp_path
    )
    assert result.returncode != 0
    assert f"  {variable}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_before_migrations_says_to_run_db_upgrade(tmp_path):
    env = cli_env(PASTEFILE_DATA_DIR=str(tmp_path / "fresh"))
    result = run_cli("get-file", "0" * 64, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "pastefile db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
