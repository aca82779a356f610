"""pf login (device flow, password exchange, a token), logout, tokens, ls, info, rm."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests

from tests.support.pf import (
    approve_device,
    browser_token,
    failed,
    file_id,
    run_pf,
    start_pf,
)
from tests.support.servers import wait_until

pytestmark = pytest.mark.system
ALICE = ("alice", "alice password 1")


def _ok(*args, env, cwd, stdin=None):
    done = run_pf(*args, env=env, cwd=cwd, stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_login_with_a_password_then_tokens(server, env, tmp_path):
    login = _ok(
        "login",
        server.base,
        "--username",
        "alice",
        env={**env, "PF_PASSWORD": ALICE[1]},
        cwd=tmp_path,
    )
    assert f"logged in to {server.base} as alice" in login.stderr
    made = _ok("token", "create", "ci", "--scope", "read", env=env, cwd=tmp_path)
    value = made.stdout.strip()
    assert value.startswith("pf_")
    me = requests.get(
        server.url("/api/v1/me"), headers={"Authorization": f"Bearer {value}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["scopes"] == ["read"]

    listed = _ok("token", "list", "--json", env=env, cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) >= {"ci", f"pf on {socket.gethostname()}"}
    _ok("token", "revoke", str(rows["ci"]["id"]), env=env, cwd=tmp_path)
    gone = requests.get(
        server.url("/api/v1/me"), headers={"Authorization": f"Bearer {value}"}, timeout=10
    )
    assert gone.status_code == 401

    out = _ok("logout", env=env, cwd=tmp_path)
    assert f"logged out of {server.base}" in out.stderr
    failed(run_pf("ls", env=env, cwd=tmp_path), 3, "not logged in: run `pf login URL` first")
    own = rows[f"pf on {socket.gethostname()}"]["id"]
    session_token = browser_token(server, *ALICE)
    tokens = requests.get(
        server.url("/api/v1/tokens"),
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    ).json()
    assert [t["revoked_at"] for t in tokens if t["id"] == own] != [None], "logout revoked it"


def test_a_wrong_password_is_refused(server, env, tmp_path):
    done = run_pf(
        "login",
        server.base,
        "--username",
        "alice",
        env={**env, "PF_PASSWORD": "not it"},
        cwd=tmp_path,
    )
    failed(done, 3, "wrong username or password")


def test_login_without_a_terminal_or_password_says_how(server, env, tmp_path):
    done = run_pf("login", server.base, "--username", "alice", env=env, cwd=tmp_path)
    failed(done, 2, "no password given: pass $PF_PASSWORD")


def _device_login(server, env, cwd, decision):
    """Run ``pf login URL``, read the code it shows, and decide in the browser."""
    process = start_pf("login", server.base, env=env, cwd=cwd)
    assert process.stderr is not None
    shown = b""

    def code_shown() -> bool:
        nonlocal shown
        shown += process.stderr.read1(4096)  # type: ignore[attr-defined]
        return b"code:" in shown and shown.endswith(b"\n")

    wait_until(code_shown, timeout=30)
    code = re.search(rb"code: ([A-Z0-9-]+)", shown)
    assert code, shown
    assert server.base.encode() + b"/device?user_code=" in shown
    approve_device(server, *ALICE, code.group(1).decode(), decision)
    _, err = process.communicate(timeout=60)
    return process.returncode, err.decode()


def test_device_login_is_approved_in_the_browser(server, env, tmp_path):
    code, err = _device_login(server, env, tmp_path, "approve")
    assert code == 0, err
    assert "as alice" in err
    ls = _ok("ls", env=env, cwd=tmp_path)
    assert "ID" in ls.stdout


def test_device_login_denied_in_the_browser(server, env, tmp_path):
    code, err = _device_login(server, env, tmp_path, "deny")
    assert code == 3, err
    assert err.strip().endswith("pf: the login was denied in the browser")
    failed(run_pf("ls", env=env, cwd=tmp_path), 3, "not logged in")


def test_ls_info_and_rm_of_your_files(server, env, tmp_path):
    _ok("login", server.base, "--token", browser_token(server, *ALICE), env=env, cwd=tmp_path)
    (tmp_path / "holiday-notes.txt").write_text("sun and sea\n")
    link = _ok("push", "holiday-notes.txt", env=env, cwd=tmp_path).stdout.strip()
    ident = file_id(link)

    listed = _ok("ls", "--query", "holiday", env=env, cwd=tmp_path).stdout
    assert ident in listed and "holiday-notes.txt" in listed and "12 B" in listed
    info = _ok("info", link, env=env, cwd=tmp_path).stdout
    assert re.search(r"filename:\s+holiday-notes.txt", info)
    assert re.search(r"size:\s+12\n", info)

    (tmp_path / "diary.txt").write_text("dear diary\n")
    private = _ok("push", "--private", "diary.txt", env=env, cwd=tmp_path).stdout.strip()
    assert requests.get(server.url(f"/i/{file_id(private)}"), timeout=10).status_code == 404
    _ok("pull", private, "-o", "diary-copy.txt", env=env, cwd=tmp_path)
    assert (tmp_path / "diary-copy.txt").read_text() == "dear diary\n"

    _ok("rm", ident, env=env, cwd=tmp_path)
    assert ident not in _ok("ls", env=env, cwd=tmp_path).stdout
    failed(run_pf("pull", link, env=env, cwd=tmp_path), 4, "gone (410)")


def test_an_anonymous_upload_is_deleted_with_its_management_token(server, env, tmp_path):
    (tmp_path / "a.txt").write_text("anonymous\n")
    pushed = _ok("--server", server.base, "push", "--json", "a.txt", env=env, cwd=tmp_path)
    sent = json.loads(pushed.stdout)
    assert sent["token"].startswith("pf_")
    failed(run_pf("rm", sent["link"], env=env, cwd=tmp_path), 3, "not logged in")
    _ok("rm", sent["link"], "--token", sent["token"], env=env, cwd=tmp_path)
    # The other worker may answer from its local cache for up to PASTEFILE_CACHE_LOCAL_TTL
    # (at most a second), by design: then every worker says the file is gone.
    wait_until(lambda: requests.get(sent["link"], timeout=10).status_code == 410, timeout=5)
