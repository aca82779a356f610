"""pf push and pull against a live server: round trips, stdin, encryption, and transfers
killed half way then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.pf import PF, file_id, pending_uploads, run_pf, server_offset, start_pf
from tests.support.production import ProductionServer
from tests.support.servers import TcpProxy, wait_until

pytestmark = pytest.mark.system


def _push(server: ProductionServer, env: dict[str, str], cwd: Path, *args: str) -> str:
    done = run_pf("--server", server.base, "push", *args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    links = done.stdout.split()
    assert len(links) == 1, done.stdout
    return links[0]


def _pull(env: dict[str, str], cwd: Path, link: str, *args: str) -> None:
    done = run_pf("pull", link, *args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_plain_push_and_pull_give_the_same_bytes(server, env, tmp_path):
    data = os.urandom(300_000)
    (tmp_path / "report.bin").write_bytes(data)
    link = _push(server, env, tmp_path, "report.bin")
    assert link == server.url(f"/p/{file_id(link)}")
    assert "#" not in link
    _pull(env, tmp_path, link, "-o", "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert not list(tmp_path.glob("*.part"))
    (tmp_path / "elsewhere").mkdir()
    _pull(env, tmp_path, link, "-o", "elsewhere")  # a folder: the server's name inside it
    assert (tmp_path / "elsewhere" / "report.bin").read_bytes() == data


def test_encrypted_push_keeps_the_key_and_name_in_the_fragment(server, env, tmp_path):
    data = b"the quarterly numbers " * 20_000
    (tmp_path / "numbers.txt").write_bytes(data)
    link = _push(server, env, tmp_path, "--encrypt", "numbers.txt")
    assert "#k=AGE-SECRET-KEY-1" in link
    assert "&n=bnVtYmVycy50eHQ&t=dGV4dC9wbGFpbg" in link  # numbers.txt, text/plain
    raw = requests.get(server.url(f"/i/{file_id(link)}"), timeout=10).content
    assert raw.startswith(b"age-encryption.org/v1\n")
    assert b"quarterly" not in raw
    pulled = tmp_path / "elsewhere"
    pulled.mkdir()
    _pull(env, pulled, link)  # no -o: the name comes from the fragment
    assert (pulled / "numbers.txt").read_bytes() == data


def test_stdin_is_pushed_and_pulled_to_stdout(server, env, tmp_path):
    data = os.urandom(200_000)
    done = run_pf(
        "--server",
        server.base,
        "push",
        "-",
        "--name",
        "piped.bin",
        env=env,
        cwd=tmp_path,
        stdin=data,
    )
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    info = requests.get(server.url(f"/api/v1/files/{file_id(link)}"), timeout=10).json()
    assert info["filename"] == "piped.bin"
    _pull(env, tmp_path, link, "-o", "piped-copy.bin")
    assert (tmp_path / "piped-copy.bin").read_bytes() == data


def test_stdin_bytes_reach_stdout_unchanged(server, env, tmp_path):
    data = os.urandom(150_000)
    pushed = subprocess.run(
        [PF, "--server", server.base, "push", "--encrypt", "-"],
        input=data,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert pushed.returncode == 0, pushed.stderr
    pulled = subprocess.run(
        [PF, "pull", pushed.stdout.decode().strip(), "-o", "-"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout == data


def test_passphrase_mode_asks_for_the_passphrase_not_a_key(server, env, tmp_path):
    data = os.urandom(100_000)
    (tmp_path / "p.bin").write_bytes(data)
    link = _push(
        server, {**env, "PF_PASSPHRASE": "correct horse"}, tmp_path, "--passphrase", "p.bin"
    )
    assert "#p=1&n=" in link and "k=" not in link
    _pull({**env, "PF_PASSPHRASE": "correct horse"}, tmp_path, link, "-o", "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data


def _kill_when(process, condition, timeout: float = 60) -> None:
    try:
        wait_until(lambda: condition() or process.poll() is not None, timeout=timeout)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("mode", ["plain", "encrypt"])
def test_a_push_killed_mid_upload_continues_from_the_server_offset(server, env, tmp_path, mode):
    data = os.urandom(24 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    args = ["--server", server.base, "push", "big.bin", "--chunk-size", "256k"]
    args += ["--encrypt"] if mode == "encrypt" else []
    slow = start_pf(*args, "--limit-rate", "4M", env=env, cwd=tmp_path)

    def some_bytes_sent() -> bool:
        records = [r for r in pending_uploads(env) if r.get("upload_url")]
        return bool(records) and server_offset(records[0]["upload_url"]) >= 2 * 1024 * 1024

    _kill_when(slow, some_bytes_sent)
    (record,) = pending_uploads(env)
    offset = server_offset(record["upload_url"])
    assert 0 < offset < record["length"], "killed half way"

    again = run_pf(*args, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"resuming at byte {offset} of {record['length']}" in again.stderr
    assert pending_uploads(env) == [], "the finished upload is forgotten, key and spool too"
    assert not list((Path(env["XDG_STATE_HOME"]) / "pastefile" / "uploads").iterdir())
    link = again.stdout.strip()
    _pull(env, tmp_path, link, "-o", "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data


def test_a_pull_killed_mid_download_resumes_with_range(server, env, tmp_path):
    data = os.urandom(16 * 1024 * 1024)
    (tmp_path / "video.bin").write_bytes(data)
    # A download is counted when a response carries the first byte: a resumed pull that
    # started over would count twice.
    link = _push(server, env, tmp_path, "video.bin", "--max-downloads", "5")
    part = tmp_path / "out.bin.part"
    slow = start_pf("pull", link, "-o", "out.bin", "--limit-rate", "2M", env=env, cwd=tmp_path)
    _kill_when(slow, lambda: part.exists() and part.stat().st_size >= 1024 * 1024)
    assert 0 < part.stat().st_size < len(data)

    _pull(env, tmp_path, link, "-o", "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert not part.exists()
    info = requests.get(server.url(f"/api/v1/files/{file_id(link)}"), timeout=10).json()
    assert info["downloads"] == 1


def test_a_password_protected_file_needs_its_password(server, env, tmp_path):
    (tmp_path / "locked.txt").write_bytes(b"behind a password\n")
    secret = {**env, "PF_FILE_PASSWORD": "open sesame"}
    link = _push(server, secret, tmp_path, "--password", "locked.txt")
    _pull(secret, tmp_path, link, "-o", "got.txt")
    assert (tmp_path / "got.txt").read_bytes() == b"behind a password\n"
    assert requests.get(server.url(f"/i/{file_id(link)}"), timeout=10).status_code == 403


def test_nothing_of_the_plaintext_name_or_key_reaches_the_server(server, env, tmp_path):
    secret_name = "payroll-do-not-share.csv"
    plain = b"employee,salary\nzoe-unique-marker,123456\n" * 1000
    (tmp_path / secret_name).write_bytes(plain)
    link = _push(server, env, tmp_path, "--encrypt", secret_name)
    key = link.split("#k=")[1].split("&")[0]
    time.sleep(0.5)  # let the workers finish their writes (logs, the database)
    needles = [b"zoe-unique-marker", secret_name.encode(), key.encode(), key.lower().encode()]
    for path in (p for p in server.root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"{needle!r} found in {path}"


def test_a_dropped_connection_is_retried_within_the_same_push(server, env, tmp_path):
    data = os.urandom(8 * 1024 * 1024)
    (tmp_path / "flaky.bin").write_bytes(data)
    proxy = TcpProxy(("127.0.0.1", server.port)).start()
    base = f"http://127.0.0.1:{proxy.port}"
    args = ["--server", base, "push", "flaky.bin", "--chunk-size", "256k", "--limit-rate", "4M"]
    pushing = start_pf(*args, env=env, cwd=tmp_path)
    try:

        def some_bytes_sent() -> bool:
            records = [r for r in pending_uploads(env) if r.get("upload_url")]
            return bool(records) and server_offset(records[0]["upload_url"]) >= 1024 * 1024

        wait_until(lambda: some_bytes_sent() or pushing.poll() is not None, timeout=60)
        assert pushing.poll() is None, "still uploading when the connection is cut"
        proxy.stop()  # every connection cut, and nobody listening for a moment
        time.sleep(0.5)
        proxy = TcpProxy(("127.0.0.1", server.port), port=proxy.port).start()
        out, err = pushing.communicate(timeout=120)
    finally:
        proxy.stop()
        if pushing.poll() is None:
            pushing.kill()
    assert pushing.returncode == 0, err
    link = out.decode().strip().replace(base, server.base)
    _pull(env, tmp_path, link, "-o", "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data
