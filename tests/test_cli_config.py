"""The ``pastefile`` command and the configuration it validates at start."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from pastefile.composition import build_services
from pastefile.config import DEFAULT_DENIED_TYPES, Settings
from pastefile.db import migrate
from pastefile.services.links import build_links
from pastefile.web import create_app
from tests.support.cli import cli_env, run_cli
from tests.support.servers import free_port
from tests.support.settings import make_settings

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


def test_settings_can_come_from_a_dotenv_file(tmp_path, monkeypatch):
    for name in ("APP_ENV", "PASTEFILE_MAX_UPLOAD_SIZE", "PASTEFILE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        "PASTEFILE_MAX_UPLOAD_SIZE=2MiB\nPASTEFILE_BASE_URL=https://dotenv.example\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.max_upload_size == 2 * 1024 * 1024
    assert settings.base_url == "https://dotenv.example"


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10MiB", 10 * 1024 * 1024),
        ("10MB", 10_000_000),
        ("1GiB", 1024**3),
        ("1.5KiB", 1536),
        ("4096", 4096),
        ("512 kib", 512 * 1024),
    ],
)
def test_max_upload_size_accepts_human_units(monkeypatch, raw, expected):
    monkeypatch.setenv("PASTEFILE_MAX_UPLOAD_SIZE", raw)
    assert Settings(_env_file=None).max_upload_size == expected  # type: ignore[call-arg]


def test_max_upload_size_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("PASTEFILE_MAX_UPLOAD_SIZE", "ten megs")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_type_lists_are_comma_separated_trimmed_and_lowercased(monkeypatch):
    monkeypatch.setenv("PASTEFILE_ALLOWED_TYPES", " image/* , Application/PDF,,text/plain ")
    monkeypatch.setenv("PASTEFILE_DENIED_TYPES", "image/svg+xml")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.allowed_types == ["image/*", "application/pdf", "text/plain"]
    assert settings.denied_types == ["image/svg+xml"]


def test_type_lists_default_to_allow_all_deny_executables(monkeypatch):
    monkeypatch.delenv("PASTEFILE_ALLOWED_TYPES", raising=False)
    monkeypatch.delenv("PASTEFILE_DENIED_TYPES", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.allowed_types == []
    assert settings.denied_types == DEFAULT_DENIED_TYPES


def test_an_empty_deny_list_denies_nothing(monkeypatch):
    monkeypatch.setenv("PASTEFILE_DENIED_TYPES", "")
    assert Settings(_env_file=None).denied_types == []  # type: ignore[call-arg]


def test_the_configured_size_limit_is_what_the_app_enforces(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("PASTEFILE_MAX_UPLOAD_SIZE", "1KiB")
    settings = make_settings(tmp_path, sqlite_url)
    assert settings.max_upload_size == 1024
    services = build_services(settings)
    migrate.upgrade(services.db)
    client = create_app(services=services).test_client()
    ok = client.put("/ok.txt", data=b"x" * 1024, headers={"Accept": "*/*"})
    assert ok.status_code == 201
    over = client.put("/over.txt", data=b"x" * 1025, headers={"Accept": "application/json"})
    assert over.status_code == 413
    services.close()


def test_a_command_before_migrations_says_to_run_db_upgrade(tmp_path):
    env = cli_env(PASTEFILE_DATA_DIR=str(tmp_path / "fresh"))
    result = run_cli("get-file", "0" * 64, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "pastefile db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
