"""The ``pastefile`` command as a separate process, in the environment of a fresh shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pastefile.config import Settings

PASTEFILE = str(Path(sys.executable).with_name("pastefile"))


def cli_env(settings: Settings | None = None, **values: str) -> dict[str, str]:
    """The environment of a fresh shell: no inherited PASTEFILE_* or APP_ENV."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_") and k != "APP_ENV"}
    if settings is not None:
        env["PASTEFILE_DATA_DIR"] = str(settings.data_dir)
        env["PASTEFILE_DATABASE_URL"] = settings.database_url
        env["PASTEFILE_STORAGE_URL"] = settings.storage_url
        env["PASTEFILE_BASE_URL"] = settings.base_url
    env.update(values)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PASTEFILE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
