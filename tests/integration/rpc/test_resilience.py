"""The RPC service when things go wrong: the database down, the server killed,
20 clients at once, garbage on the wire; and the client's pool, timeouts and
retries. All over real sockets, against real databases."""

from __future__ import annotations

import errno
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.db.database import Database
from pastefile.db.models import Blob, File
from pastefile.rpc.client import (
    ConnectionLost,
    PasteFileClient,
    get_client,
)
from pastefile.rpc.schema import idl
from tests.support.files import temp_files
from tests.support.rpc import TEXT, SilentPeer, placed_request, rpc_server
from tests.support.servers import TcpProxy, free_port
from tests.support.settings import make_settings


def incoming(services: Services) -> list[Path]:
    root = Path(services.settings.storage_url.removeprefix("file://"))
    return list((root / "incoming").iterdir())


@pytest.fixture
def sqlite_services(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path, sqlite_url))
    migrate.upgrade(built.db)
    yield built
    built.close()


# the database down ---------------------------------------------------------


@contextmanager
def sqlite_outage(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A database in a directory that disappears: nothing can open it."""
    folder = tmp_path / "dbdir"
    url = f"sqlite:///{folder / 'pastefile.db'}"

    def cut() -> None:
        for entry in folder.iterdir():
            entry.unlink()
        folder.rmdir()

    def restore() -> None:
        folder.mkdir()
        database = Database(url)
        migrate.upgrade(database)
        database.dispose()

    restore()
    yield url, cut, restore


@contextmanager
def server_outage(url: str) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """The database reached through a TCP proxy that the test can pull."""
    parsed = make_url(url)
    default_port = 3306 if parsed.get_backend_name() in ("mysql", "mariadb") else 5432
    target = (parsed.host or "127.0.0.1", parsed.port or default_port)
    proxy = TcpProxy(target).start()
    holder = [proxy]

    def restore() -> None:
        holder[0] = TcpProxy(target, port=proxy.port).start()

    through_proxy = parsed.set(host="127.0.0.1", port=proxy.port)
    try:
        yield through_proxy.render_as_string(hide_password=False), holder[0].stop, restore
    finally:
        holder[0].stop()


def outage_for(
    database_url: str, tmp_path: Path
) -> AbstractContextManager[tuple[str, Callable[[], None], Callable[[], None]]]:
    if database_url.startswith("sqlite"):
        return sqlite_outage(tmp_path)
    return server_outage(database_url)


def test_database_down_is_service_unavailable_and_the_service_recovers(
    database_url, tmp_path, caplog
):
    sqlite = database_url.startswith("sqlite")
    with outage_for(database_url, tmp_path) as (url, cut, restore):
        services = build_services(make_settings(tmp_path, url))
        try:
            with rpc_server(services) as server:
                client = PasteFileClient("127.0.0.1", server.port, retries=0)
                # On a server database, cut a live pooled connection. An open
                # SQLite connection survives its file's removal, so there the
                # database is gone before the first call.
                before = None if sqlite else client.upload(TEXT, "before.txt")
                cut()
                with pytest.raises(idl.ServiceUnavailable, match="database is unavailable"):
                    client.get(before.id if before else 1)
                pending = placed_request(client, b"written while the database was down")
                with pytest.raises(idl.ServiceUnavailable):
                    client.create(pending)
                # Transient: the placed bytes stay for a retry with the same token.
                assert len(incoming(services)) == 1
                restore()
                before = before or client.upload(TEXT, "before.txt")
                assert client.get(before.id).filehash == before.filehash
                assert client.create(pending).filename == "a.txt"
                assert incoming(services) == []
                assert client.pool.opened == 1  # the RPC connection lived through it
                client.close()
        finally:
            services.close()
    assert "the database is unavailable" in caplog.text


# many clients at once ------------------------------------------------------


def test_twenty_concurrent_clients_create_and_get_without_errors_or_duplicates(services):
    shared = b"the same bytes from every client\n" * 200

    def work(index: int, port: int, barrier: threading.Barrier) -> tuple[int, int]:
        client = PasteFileClient("127.0.0.1", port, retries=0, read_timeout=120)
        try:
            barrier.wait()
            common = client.upload(shared, f"shared-{index}.txt")
            own = client.upload(f"client {index}\n".encode() * 100, f"own-{index}.txt")
            assert client.get(common.id).filehash == common.filehash
            assert client.get(own.id).filename == f"own-{index}.txt"
            return common.id, own.id
        finally:
            client.close()

    with rpc_server(services) as server:
        barrier = threading.Barrier(20)
        with ThreadPoolExecutor(20) as pool:
            futures = [pool.submit(work, i, server.port, barrier) for i in range(20)]
            results = [future.result() for future in futures]
    assert len({common for common, _ in results}) == 1
    assert len({own for _, own in results}) == 20
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(File)) == 21
        assert session.scalar(select(func.count()).select_from(Blob)) == 21
    assert incoming(services) == []
    assert temp_files(services.settings) == []


# the client: lazy pool, timeouts, what is retried ----------------------------


def test_connections_are_opened_lazily_and_reused(sqlite_services):
    idle = PasteFileClient("127.0.0.1", free_port())
    assert idle.pool.opened == 0  # constructing connects to nothing
    with rpc_server(sqlite_services) as server:
        client = PasteFileClient("127.0.0.1", server.port)
        for _ in range(10):
            client.get_file_info("a.txt", "text/plain")
        assert client.pool.opened == 1
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: client.get_file_info("a", "b"), range(40)))
        assert client.pool.opened <= 4
        client.close()
    assert get_client("127.0.0.1", 1) is get_client("127.0.0.1", 1)


def test_answers_are_not_retried(sqlite_services):
    with rpc_server(sqlite_services) as server:
        client = PasteFileClient("127.0.0.1", server.port, retries=3, retry_delay=2.0)
        started = time.monotonic()
        with pytest.raises(idl.NotFound):
            client.get(424242)
        with pytest.raises(idl.UploadImageError):
            client.create(idl.CreatePasteFileRequest(filehash="nope", filename="a", mimetype="b"))
        assert time.monotonic() - started < 1.5  # one retry would have slept 2 s
        client.close()


def test_a_lost_reply_retries_get_but_never_create():
    peer = SilentPeer(hang_up=True)
    client = PasteFileClient("127.0.0.1", peer.port, retries=2, retry_delay=0.01)
    try:
        request = idl.CreatePasteFileRequest(filehash="0" * 32, filename="a", mimetype="b")
        with pytest.raises(ConnectionLost):
            client.create(request)
        assert peer.accepted == 1  # it may have run: not sent again
        with pytest.raises(ConnectionLost):
            client.get(1)
        assert peer.accepted == 1 + 3  # idempotent: the first try and two retries
    finally:
        peer.close()


def test_the_read_timeout_bounds_a_call_to_a_silent_server():
    peer = SilentPeer()
    client = PasteFileClient("127.0.0.1", peer.port, read_timeout=0.3, retries=0)
    try:
        started = time.monotonic()
        with pytest.raises(ConnectionLost, match="timed out"):
            client.get(1)
        assert time.monotonic() - started < 2
    finally:
        peer.close()


# garbage on the wire ---------------------------------------------------------


def call_frame(name: str, body: bytes) -> bytes:
    encoded = name.encode()
    return struct.pack("!iI", -2147418111, len(encoded)) + encoded + struct.pack("!i", 1) + body


GARBAGE = {
    "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "negative string length": call_frame("get_file_info", struct.pack("!bhi", 11, 1, -5)),
    "huge string length": call_frame("get_file_info", struct.pack("!bhi", 11, 1, 2**31 - 1)),
    "unknown method": call_frame("drop_tables", b"\x00"),
    "wrong field type": call_frame("get", struct.pack("!bhq", 10, 1, 5) + b"\x00"),
    "nested lists": call_frame("get", struct.pack("!bh", 15, 1) + struct.pack("!bi", 15, 1) * 5000),
    "invalid utf-8": call_frame(
        "create",
        struct.pack("!bh", 12, 1)
        + struct.pack("!bhi", 11, 1, 32)
        + b"0" * 32
        + struct.pack("!bhi", 11, 2, 2)
        + b"\xff\xfe"
        + b"\x00\x00",
    ),
    "random bytes": os.urandom(4096),
}


def _send_garbage(port: int, data: bytes, wait_for_hangup: float) -> None:
    """Send ``data``, end the request, and read to the end; the server may hang up first.

    Hanging up as soon as it has read something it cannot parse is right, so
    the client's own shutdown or reads may then find the socket closed or reset.
    ``wait_for_hangup`` lets the server do that before the client ends its side.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            raw.sendall(data)
            with selectors.DefaultSelector() as readable:
                readable.register(raw, selectors.EVENT_READ)
                readable.select(wait_for_hangup)
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65536):  # an answer or a hang-up; never a hang
                pass
        except OSError as exc:
            if exc.errno not in _HUNG_UP:
                raise


_HUNG_UP = {errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE}


def test_garbage_on_the_wire_never_takes_the_server_down(sqlite_services, caplog):
    caplog.set_level(logging.WARNING)
    with rpc_server(sqlite_services) as server:
        for data in GARBAGE.values():
            for wait in (0.0, 0.5):  # the client ends its side first, or the server hangs up first
                _send_garbage(server.port, data, wait)
        client = PasteFileClient("127.0.0.1", server.port, retries=0)
        assert len(client.get_file_info("still", "alive")) == 2
        client.close()
    assert "dropped a connection after a protocol error" in caplog.text
