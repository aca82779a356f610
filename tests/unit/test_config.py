"""Settings: read from a dotenv file; sizes and type lists parse as documented."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pastefile.config import DEFAULT_DENIED_TYPES, Settings


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
