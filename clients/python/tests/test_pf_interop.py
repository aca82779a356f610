"""pf's files are plain age files: Debian's ``age`` opens what pf pushed, fetched with curl,
and pf opens what ``age`` made. No pastefile code on the other side. And pf itself loads
none of the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.pf import file_id, run_pf

pytestmark = pytest.mark.system
TOOLS = [shutil.which(name) for name in ("age", "age-keygen", "curl")]
needs_age = pytest.mark.skipif(
    not all(TOOLS), reason="needs age, age-keygen and curl (apt-get install age curl)"
)


@needs_age
def test_age_decrypts_what_pf_pushed(server, env, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 7)
    (tmp_path / "photo.raw").write_bytes(data)
    pushed = run_pf(
        "--server", server.base, "push", "--encrypt", "photo.raw", env=env, cwd=tmp_path
    )
    assert pushed.returncode == 0, pushed.stderr
    link = pushed.stdout.strip()
    key = dict(part.split("=", 1) for part in link.split("#", 1)[1].split("&"))["k"]
    (tmp_path / "key.txt").write_text(key + "\n")
    subprocess.run(
        ["curl", "-sSf", "-o", "photo.age", server.url(f"/i/{file_id(link)}")],
        cwd=tmp_path,
        check=True,
    )
    subprocess.run(
        ["age", "--decrypt", "-i", "key.txt", "-o", "photo.out", "photo.age"],
        cwd=tmp_path,
        check=True,
    )
    assert (tmp_path / "photo.out").read_bytes() == data


@needs_age
def test_pf_decrypts_what_age_encrypted(server, env, tmp_path):
    data = os.urandom(1024 * 1024)
    (tmp_path / "plain.bin").write_bytes(data)
    subprocess.run(["age-keygen", "-o", "key.txt"], cwd=tmp_path, check=True, capture_output=True)
    key_file = (tmp_path / "key.txt").read_text()
    secret = next(line for line in key_file.splitlines() if line.startswith("AGE-SECRET-KEY-"))
    public = next(line.split(": ")[1] for line in key_file.splitlines() if "public key" in line)
    subprocess.run(["age", "-r", public, "-o", "plain.age", "plain.bin"], cwd=tmp_path, check=True)
    pushed = run_pf("--server", server.base, "push", "plain.age", env=env, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    pulled = run_pf(
        "pull", f"{pushed.stdout.strip()}#k={secret}", "-o", "back.bin", env=env, cwd=tmp_path
    )
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "back.bin").read_bytes() == data


def test_pf_loads_none_of_the_server():
    probe = (
        "import sys, pastefile_client.cli\n"
        "heavy = {'pastefile', 'flask', 'werkzeug', 'pyvips', 'celery', 'sqlalchemy'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
