"""``pastefile check``, ``backup`` and ``restore`` as a user runs them: exit codes and
the summary they print."""

from __future__ import annotations

import io
from pathlib import Path

from pastefile.composition import build_services
from pastefile.config import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.s3 import s3_settings


def _instance(tmp_path: Path, name: str) -> tuple[dict[str, str], Settings]:
    data = tmp_path / name
    env = cli_env(PASTEFILE_DATA_DIR=str(data), PASTEFILE_UPLOAD_JOBS="")
    return env, Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]


def _upload(settings: Settings, *contents: bytes) -> list[str]:
    services = build_services(settings)
    shas = [services.uploads.save_stream(io.BytesIO(c), "f.txt").file.sha256 for c in contents]
    services.close()
    return shas


def test_check_reports_corrupt_bytes_and_repair_sets_them_aside(tmp_path: Path) -> None:
    env, settings = _instance(tmp_path, "data")
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    good, bad = _upload(settings, b"fine bytes", b"bytes about to rot")
    blob = settings.data_dir / "files" / "objects" / bad[:2] / bad[2:4] / bad
    blob.chmod(0o644)
    blob.write_bytes(b"rotten")

    found = run_cli("check", env=env, cwd=tmp_path)
    assert found.returncode == 1, found.stderr
    assert "checked 2 blob(s)" in found.stdout and "corrupt: 1" in found.stdout
    assert bad in found.stdout and good not in found.stdout
    assert "pastefile check --repair" in found.stdout

    repaired = run_cli("check", "--repair", env=env, cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert "quarantined 1" in repaired.stdout and "damaged_files 1" in repaired.stdout
    assert not blob.exists()


def test_backup_then_restore_into_a_new_instance(tmp_path: Path) -> None:
    env, settings = _instance(tmp_path, "source")
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    shas = _upload(settings, b"first file", b"second file")
    dest = tmp_path / "backup"

    first = run_cli("backup", str(dest), env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "backed up to" in first.stdout and "copied 2" in first.stdout
    again = run_cli("backup", str(dest), env=env, cwd=tmp_path)
    assert "copied 0" in again.stdout and "files: 2" in again.stdout

    target_env, target = _instance(tmp_path, "target")  # never migrated: restore does it
    restored = run_cli("restore", str(dest), env=target_env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout and "files: 2" in restored.stdout
    services = build_services(target)
    for sha in shas:
        found = services.files.find_by_sha256(sha)
        assert found is not None
        with services.storage.open(sha) as reader:
            assert reader.read() in (b"first file", b"second file")
    services.close()

    refused = run_cli("restore", str(dest), env=target_env, cwd=tmp_path)
    assert refused.returncode == 1
    assert "already holds data (blobs: 2, files: 2)" in refused.stderr


def test_backup_to_s3_and_restore_from_it(tmp_path: Path, moto_endpoint: str) -> None:
    reach = s3_settings(moto_endpoint)
    bucket = str(reach.pop("storage_url")).split("/")[2]
    s3_env = {f"PASTEFILE_{k.upper()}": str(v) for k, v in reach.items()}
    env, settings = _instance(tmp_path, "source")
    env.update(s3_env)
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    _upload(settings, b"kept offsite")

    made = run_cli("backup", f"s3://{bucket}/nightly", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"backed up to s3://{bucket}/nightly/snapshots/" in made.stdout
    target_env, _ = _instance(tmp_path, "target")
    target_env.update(s3_env)
    restored = run_cli("restore", f"s3://{bucket}/nightly", env=target_env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "files: 1" in restored.stdout

    nothing = run_cli("restore", f"s3://{bucket}/elsewhere", env=target_env, cwd=tmp_path)
    assert nothing.returncode == 1
    assert "is not a pastefile backup" in nothing.stderr
    nameless = run_cli("backup", "s3:///nightly", env=env, cwd=tmp_path)
    assert nameless.returncode == 1 and "names no bucket" in nameless.stderr
