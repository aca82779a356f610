"""``pastefile serve`` in production mode as its own process, and clients that talk to it.

The hostile-client suite (tests/system/hostile/) attacks this server as a user on the
network would: over real sockets, with nothing but HTTP and WebSocket.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.cli import PASTEFILE, cli_env, run_cli
from tests.support.servers import free_port, wait_until

# gunicorn's graceful_timeout in `pastefile serve` (pastefile/gunicorn_app.py).
GRACEFUL_TIMEOUT = 30

SECRET = "hostile-suite-secret-0123456789abcdef"


@dataclass
class ProductionServer:
    root: Path
    env: dict[str, str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def stored_objects(self) -> list[Path]:
        """Every file of bytes the server holds on its disk."""
        return sorted(p for p in (self.root / "files").rglob("*") if p.is_file())

    def create_user(self, name: str, password: str, admin: bool = False) -> None:
        args = ["create-user", name, "--password", password, *(["--admin"] if admin else [])]
        done = run_cli(*args, env=self.env, cwd=self.root)
        assert done.returncode == 0, done.stderr

    def login_form(self) -> tuple[requests.Session, str]:
        """A browser on the login page: its session and the form's CSRF token."""
        session = requests.Session()
        session.headers["Origin"] = self.base
        form = session.get(self.url("/login"), timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "the login form carries a CSRF token"
        return session, token.group(1)

    def browser(self, name: str, password: str) -> requests.Session:
        """A browser signed in through the login form; ``.headers`` carries this site's Origin."""
        session, token = self.login_form()
        answer = session.post(
            self.url("/login"),
            data={"username": name, "password": password, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 303, answer.text
        return session

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            return requests.get(self.url("/healthz"), timeout=timeout).status_code == 200
        except requests.RequestException:
            return False


def production_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of a production server whose data all lives under ``root``."""
    defaults = {
        "APP_ENV": "production",
        "PASTEFILE_SECRET_KEY": SECRET,
        "PASTEFILE_DATA_DIR": str(root / "var"),
        "PASTEFILE_DATABASE_URL": f"sqlite:///{root / 'pastefile.db'}",
        "PASTEFILE_STORAGE_URL": f"file://{root / 'files'}",
        "PASTEFILE_LOG_DIR": str(root / "logs"),
    }
    return cli_env(**{**defaults, **settings})


@contextmanager
def production_server(root: Path, **settings: str) -> Iterator[ProductionServer]:
    """``pastefile serve --workers 2`` with APP_ENV=production on SQLite and the local disk.

    The embedded defaults, as a self-hoster runs it: no Redis, so both workers share
    their rate limits through the SQLite file beside the data.
    """
    port = free_port()
    env = production_env(root, **settings)
    log = open(root / "server.out", "ab")  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(
        [PASTEFILE, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=root,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own group: a kill takes the workers too
    )
    server = ProductionServer(root, env, port)
    try:
        wait_until(lambda: server.healthy() or process.poll() is not None, timeout=60)
        assert process.poll() is None, (root / "server.out").read_text()
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=GRACEFUL_TIMEOUT + 10)
        # A worker still busy past the master (or a master killed) is never left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def until(deadline: float) -> Iterator[int]:
    """Count loop rounds until ``deadline`` (a monotonic time): every attack loop is bounded."""
    rounds = 0
    while time.monotonic() < deadline:
        yield rounds
        rounds += 1


def put_file(server: ProductionServer, name: str, data: bytes, **options: str) -> str:
    """``curl --upload-file`` with options in the query; returns the new file's id."""
    answer = requests.put(server.url(f"/{name}"), data=data, params=options, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    found = re.search(r"/p/([A-Za-z0-9]+)", answer.text)
    assert found, answer.text
    return found.group(1)
