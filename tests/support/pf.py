"""``pf``, the command-line client (clients/python), as a user runs it: its own process, a
fresh home for its config and state, talking to a live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.support.production import ProductionServer

PF = str(Path(sys.executable).with_name("pf"))


def pf_env(home: Path, **extra: str) -> dict[str, str]:
    """A shell with a fresh home for pf: no inherited PF_* settings, no colours, wide lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PF_", "XDG_"))}
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        NO_COLOR="1",
        COLUMNS="200",
        TERM="dumb",
    )
    env.update(extra)
    return env


def run_pf(
    *args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PF, *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def start_pf(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PF, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def failed(done: subprocess.CompletedProcess[str], code: int, message: str) -> str:
    """The command failed with ``code`` and one ``pf: …`` line saying ``message``; no traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("pf: ")]
    assert len(lines) == 1, done.stderr
    assert message in lines[0], lines[0]
    return lines[0]


def browser_token(server: ProductionServer, name: str, password: str) -> str:
    """A token made on /account/tokens by a signed-in browser (no pf involved)."""
    session = server.browser(name, password)
    page = session.get(server.url("/account/tokens"), timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, page
    form = {"csrf_token": csrf.group(1), "name": "tests", "scopes": ["read", "upload", "delete"]}
    shown = session.post(server.url("/account/tokens"), data=form, timeout=10).text
    value = re.search(r"pf_[A-Za-z0-9_-]{20,}", shown)
    assert value, shown
    return value.group(0)


def file_id(link: str) -> str:
    found = re.search(r"/p/([A-Za-z0-9]+)", link)
    assert found, link
    return found.group(1)


def pending_uploads(env: dict[str, str]) -> list[dict[str, Any]]:
    """The unfinished uploads pf keeps in its state directory."""
    folder = Path(env["XDG_STATE_HOME"]) / "pastefile" / "uploads"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def server_offset(upload_url: str) -> int:
    """Where the server says a tus upload stands."""
    answer = requests.head(upload_url, headers={"Tus-Resumable": "1.0.0"}, timeout=10)
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def approve_device(
    server: ProductionServer, name: str, password: str, user_code: str, decision: str = "approve"
) -> None:
    """A signed-in browser approves (or denies) a device login at /device, as its user would."""
    session = server.browser(name, password)
    page = session.get(server.url("/device"), params={"user_code": user_code}, timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, page
    form = {"csrf_token": csrf.group(1), "user_code": user_code, "decision": decision}
    done = session.post(server.url("/device"), data=form, timeout=10)
    shown = "Approved" if decision == "approve" else "Denied"
    assert done.status_code == 200 and shown in done.text, done.text
