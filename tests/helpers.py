"""Request builders the Flask test client lacks."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pastefile.config import Settings


def multipart_body(data: bytes, filename: str, field: str = "file") -> tuple[bytes, str]:
    """A multipart body encoded the way real clients do it.

    Quotes and backslashes are escaped as curl does, line breaks
    percent-encoded as browsers do.

    The test client writes a name with a ``"`` unescaped, which no real
    client does, so hostile names need this to reach the server intact.
    """
    boundary = f"------------------------{secrets.token_hex(8)}"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    quoted = quoted.replace("\r", "%0D").replace("\n", "%0A")  # as browsers do
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def curl_upload(client: FlaskClient, data: bytes, filename: str) -> TestResponse:
    body, content_type = multipart_body(data, filename)
    return client.post("/", data=body, content_type=content_type, headers={"Accept": "*/*"})


# --- real processes and servers -------------------------------------------------------

PASTEFILE = str(Path(sys.executable).with_name("pastefile"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        time.sleep(0.02)


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


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def http_upload(base: str, data: bytes, filename: str) -> tuple[int, dict[str, object]]:
    """POST a multipart upload over a real socket, as curl would."""
    body, content_type = multipart_body(data, filename)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(
            "POST", "/", body=body, headers={"Content-Type": content_type, "Accept": "*/*"}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class TcpProxy:
    """Forwards a local port to a server; ``stop`` cuts every connection at once."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
