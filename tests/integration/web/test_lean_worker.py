"""A web worker loads what serving needs, and the rest on first use: a worker that never
builds a zip, registers a webhook or renders a Markdown card does not carry the
libraries for them (cryptography's bindings, stream-zip with pycryptodome, nh3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import cli_env, run_cli

# Loaded on first use only; pyvips and alembic as well (images, migrations).
LAZY = ("cryptography.hazmat", "stream_zip", "Crypto", "nh3", "tarfile", "pyvips", "alembic")

SERVE = """
import sys
from pastefile.web import create_app

client = create_app().test_client()
assert client.get("/healthz").status_code == 200
put = client.put("/note.txt", data=b"hello, lean worker\\n")
assert put.status_code == 201, put.data
page = put.get_data(as_text=True).strip()
assert client.get(page).status_code == 200
file_id = page.rstrip("/").rsplit("/", 1)[-1]
assert client.get("/i/" + file_id).data == b"hello, lean worker\\n"
print(" ".join(m for m in sys.argv[1:] if m in sys.modules))
"""


def test_serving_a_text_file_loads_none_of_the_optional_libraries(tmp_path: Path) -> None:
    env = cli_env(PASTEFILE_DATA_DIR=str(tmp_path / "var"))
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    done = subprocess.run(
        [sys.executable, "-c", SERVE, *LAZY],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"loaded before first use: {done.stdout.strip()}"
