"""Every error a pf user can hit: one ``pf: …`` line on stderr, a non-zero exit code of
docs/client.md, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from tests.support.pf import browser_token, failed, run_pf
from tests.support.servers import free_port

pytestmark = pytest.mark.system
BOB = ("bob", "bob password 22")


def _push(server, env, cwd: Path, name: str, data: bytes, *args: str) -> str:
    (cwd / name).write_bytes(data)
    done = run_pf("--server", server.base, "push", *args, name, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pull", "not a link"), "bad URL 'not a link'"),
        (("pull", "ftp://example.org/p/abc"), "bad URL"),
        (("pull", "http://example.org/elsewhere"), "not a pastefile file link"),
        (("login", "example.org"), "bad URL 'example.org': give the server as http(s)://"),
        (("login", "http://example.org:port"), "the port is not a number"),
        (("--server", "http://[::1", "push", "-"), "bad URL"),
    ],
)
def test_a_bad_url(env, tmp_path, args, message):
    failed(run_pf(*args, env=env, cwd=tmp_path, stdin=b"x"), 2, message)


def test_the_server_is_down(env, tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "f.txt").write_text("x")
    failed(
        run_pf("--server", down, "push", "f.txt", env=env, cwd=tmp_path),
        5,
        f"cannot reach {down}: ",
    )
    failed(run_pf("pull", f"{down}/p/abc", env=env, cwd=tmp_path), 5, "cannot reach")
    failed(
        run_pf("login", down, "--username", "a", env={**env, "PF_PASSWORD": "b"}, cwd=tmp_path),
        5,
        "cannot reach",
    )


def test_not_logged_in(env, tmp_path):
    for command in (("ls",), ("token", "list"), ("rm", "abc"), ("token", "create", "x")):
        failed(run_pf(*command, env=env, cwd=tmp_path), 3, "not logged in")


def test_an_unknown_token_is_401(server, env, tmp_path):
    bogus = {**env, "PF_SERVER": server.base, "PF_TOKEN": "pf_" + "x" * 40}
    failed(run_pf("ls", env=bogus, cwd=tmp_path), 3, "not authorised (401)")


def test_deleting_someone_elses_file_is_403(server, env, tmp_path):
    link = _push(server, env, tmp_path, "mine.txt", b"anonymous, not bob's")
    bob = {**env, "PF_SERVER": server.base, "PF_TOKEN": browser_token(server, *BOB)}
    failed(run_pf("rm", link, env=bob, cwd=tmp_path), 3, "forbidden (403)")


def test_an_unknown_file_is_404(server, env, tmp_path):
    failed(
        run_pf("pull", server.url("/p/NoSuchFile12"), env=env, cwd=tmp_path), 4, "not found (404)"
    )
    failed(run_pf("info", server.url("/s/nosuch"), env=env, cwd=tmp_path), 4, "not found (404)")


def test_a_file_over_the_size_limit_is_413_before_any_byte(server, env, tmp_path):
    big = tmp_path / "huge.iso"
    with open(big, "wb") as sparse:
        sparse.truncate(65 * 1024 * 1024)  # the test server's limit is 64 MiB
    done = run_pf("--server", server.base, "push", "--encrypt", "huge.iso", env=env, cwd=tmp_path)
    failed(done, 7, "too large (413)")
    uploads = Path(env["XDG_STATE_HOME"]) / "pastefile" / "uploads"
    assert not list(uploads.iterdir()), "no ciphertext spool or record is left behind"


def test_the_quota(server, env, tmp_path):
    bob = {**env, "PF_SERVER": server.base, "PF_TOKEN": browser_token(server, *BOB)}
    _push(server, bob, tmp_path, "six.bin", os.urandom(6 * 1024 * 1024))
    (tmp_path / "four.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    failed(run_pf("push", "four.bin", env=bob, cwd=tmp_path), 7, "quota exceeded (507)")
    (tmp_path / "nine.bin").write_bytes(os.urandom(9 * 1024 * 1024))
    failed(
        run_pf("push", "nine.bin", env=bob, cwd=tmp_path), 7, "larger than your whole quota (413)"
    )


def test_wrong_file_passwords_then_429_with_retry_after(server, env, tmp_path):
    locked = _push(
        server, {**env, "PF_FILE_PASSWORD": "right"}, tmp_path, "l.txt", b"l", "--password"
    )
    failed(run_pf("pull", locked, env=env, cwd=tmp_path), 3, "this file needs a password")
    wrong = {**env, "PF_FILE_PASSWORD": "wrong"}
    lines = []
    for _ in range(6):
        done = run_pf("pull", locked, "-o", "x", env=wrong, cwd=tmp_path)
        assert done.returncode in (3, 7), done.stderr
        lines.append(failed(done, done.returncode, ""))
        if done.returncode == 7:
            break
    assert "wrong password for this file" in lines[0]
    assert "too many requests (429); try again in " in lines[-1], lines
    assert lines[-1].endswith(" s")


def test_wrong_key_wrong_passphrase_and_corrupted_ciphertext(server, env, tmp_path):
    link = _push(server, env, tmp_path, "s.txt", b"secret " * 1000, "--encrypt")
    other = str(x25519.Identity.generate())
    wrong_key = link.split("#")[0] + "#k=" + other
    failed(
        run_pf("pull", wrong_key, "-o", "a", env=env, cwd=tmp_path),
        6,
        "cannot decrypt: wrong key or passphrase",
    )
    assert not (tmp_path / "a").exists(), "nothing half-written is left"

    phrase = _push(
        server, {**env, "PF_PASSPHRASE": "one"}, tmp_path, "p.txt", b"p" * 99, "--passphrase"
    )
    failed(
        run_pf("pull", phrase, "-o", "b", env={**env, "PF_PASSPHRASE": "two"}, cwd=tmp_path),
        6,
        "wrong key or passphrase",
    )

    identity = x25519.Identity.generate()
    damaged = bytearray(pyrage.encrypt(b"payload " * 20_000, [identity.to_public()]))
    damaged[len(damaged) // 2] ^= 0x01  # one bit in the middle of the payload
    plain_link = _push(server, env, tmp_path, "damaged.age", bytes(damaged))
    failed(
        run_pf("pull", f"{plain_link}#k={identity}", "-o", "c", env=env, cwd=tmp_path),
        6,
        "the ciphertext is corrupted",
    )
    failed(
        run_pf("pull", f"{plain_link}#k=nonsense", env=env, cwd=tmp_path), 2, "not an age identity"
    )
    bad_checksum = "AGE-SECRET-KEY-1" + "Q" * 58
    done = run_pf("pull", f"{plain_link}#k={bad_checksum}", env=env, cwd=tmp_path)
    failed(done, 2, "the key in the fragment is not a valid age identity")
    assert "downloading" not in done.stderr, "refused before fetching a byte"


def test_a_full_disk_and_an_existing_file(server, env, tmp_path):
    link = _push(server, env, tmp_path, "w.bin", os.urandom(100_000))
    failed(
        run_pf("pull", link, "-o", "/dev/full", env=env, cwd=tmp_path),
        8,
        "cannot write /dev/full: No space left on device",
    )
    failed(
        run_pf("pull", link, "-o", "w.bin", env=env, cwd=tmp_path), 2, "w.bin exists: pass --force"
    )
    failed(
        run_pf("--server", server.base, "push", "missing.txt", env=env, cwd=tmp_path),
        8,
        "cannot read missing.txt: No such file or directory",
    )
    encrypted = _push(server, env, tmp_path, "e.bin", os.urandom(100_000), "--encrypt")
    failed(
        run_pf("pull", encrypted, "-o", "/dev/full", env=env, cwd=tmp_path),
        8,
        "cannot write /dev/full: No space left on device",
    )


def test_options_that_take_no_value(server, env, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    done = run_pf(
        "--server", server.base, "push", "--expire", "soon", "f.txt", env=env, cwd=tmp_path
    )
    assert done.returncode == 2 and "is not a duration" in done.stderr
    done = run_pf("--server", server.base, "push", "--password", "f.txt", env=env, cwd=tmp_path)
    failed(done, 2, "no password given: pass $PF_FILE_PASSWORD")
