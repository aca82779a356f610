"""Real servers for the RPC tests: the Thrift server, a TCP proxy, a silent peer.

Nothing here stands in for the database or the network: every helper opens
real sockets, and the proxy lets a test cut a live database connection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pastefile.composition import Services
from pastefile.config import Settings
from pastefile.rpc.client import PasteFileClient
from pastefile.rpc.handler import PasteFileHandler
from pastefile.rpc.schema import idl
from pastefile.rpc.server import RpcServer

ROOT = Path(__file__).resolve().parents[2]
TEXT = b"resilient bytes\n" * 64


def placed_request(client: PasteFileClient, data: bytes, name: str = "a.txt") -> Any:
    """Place ``data`` where the service asks for it; the create request that names it."""
    token, path = client.get_file_info(name, "text/plain")
    Path(path).write_bytes(data)
    return idl.CreatePasteFileRequest(filehash=token, filename=name, mimetype="text/plain")


@contextlib.contextmanager
def rpc_server(services: Services) -> Iterator[RpcServer]:
    """The real threaded server on a free port, in this process."""
    server = RpcServer(PasteFileHandler(services), "127.0.0.1", 0)
    server.bind()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
    env.update(
        APP_ENV="testing",
        PASTEFILE_DATA_DIR=str(settings.data_dir),
        PASTEFILE_DATABASE_URL=settings.database_url,
        PASTEFILE_STORAGE_URL=settings.storage_url,
        PASTEFILE_BASE_URL=settings.base_url,
        PASTEFILE_SECRET_KEY=settings.secret_key,
        PASTEFILE_LOG_LEVEL="WARNING",
    )
    return env


def spawn_rpc(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``pastefile rpc`` as a separate process, ready when this returns."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pastefile.cli", "rpc", "--port", str(port)],
            cwd=ROOT,
            env=server_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


class SilentPeer:
    """Accepts connections, reads the request and never answers."""

    def __init__(self, hang_up: bool = False) -> None:
        self.hang_up = hang_up
        self.accepted = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            conn.recv(65536)
            if self.hang_up:
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._listener.close()
        for conn in self._held:
            conn.close()
