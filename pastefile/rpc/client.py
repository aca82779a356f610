"""A pooled, retrying client for the PasteFile RPC service.

One ``PasteFileClient`` is shared by all threads of a process, instead of a
client per request: connections are opened lazily, kept in a small pool,
checked before reuse, and dropped whenever a call leaves them in an unknown
state.

Calls are retried a fixed number of times with an interval, but only on
connection errors, never on an answer
such as ``NotFound``. ``create`` is retried only when the request never left
this process, because a lost reply may mean it already ran.
"""

from __future__ import annotations

import functools
import logging
import select
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any, TypeVar

from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.thrift import TApplicationException, TClient
from thriftpy2.transport import TBufferedTransportFactory, TSocket, TTransportException

from pastefile.rpc import DEFAULT_PORT
from pastefile.rpc.schema import idl

log = logging.getLogger(__name__)

Func = TypeVar("Func", bound=Callable[..., Any])

# Answers that leave the connection in sync, ready for the next call.
_ANSWERS = (
    TApplicationException,
    idl.NotFound,
    idl.ServiceUnavailable,
    idl.ImageNotSupported,
    idl.UploadImageError,
)


class RpcConnectionError(Exception):
    """The server could not be reached, or the connection broke."""


class ConnectFailed(RpcConnectionError):
    """No connection was made, so the request was never sent."""


class ConnectionLost(RpcConnectionError):
    """The connection broke or timed out after the request was sent."""


def retry(
    times: int = 3,
    delay: float = 0.2,
    backoff: float = 2.0,
    on: tuple[type[BaseException], ...] = (RpcConnectionError,),
) -> Callable[[Func], Func]:
    """Call again up to ``times`` more times on ``on`` errors, waiting in between."""

    def decorate(func: Func) -> Func:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wait = delay
            for attempt in range(1, times + 1):
                try:
                    return func(*args, **kwargs)
                except on as exc:
                    log.warning("rpc %s (try %d of %d), again in %.2fs", exc, attempt, times, wait)
                    time.sleep(wait)
                    wait *= backoff
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class _Connection:
    def __init__(self, host: str, port: int, connect_timeout: float, read_timeout: float) -> None:
        self.socket = TSocket(  # type: ignore[no-untyped-call]
            host,
            port,
            connect_timeout=int(connect_timeout * 1000),
            socket_timeout=int(read_timeout * 1000),
        )
        # thriftpy2's factories are untyped (and Cython-built on CPython).
        self.transport = TBufferedTransportFactory().get_transport(self.socket)  # type: ignore[no-untyped-call]
        protocol = TBinaryProtocolFactory().get_protocol(self.transport)  # type: ignore[no-untyped-call]
        self.client = TClient(idl.PasteFileService, protocol)
        self.last_used = time.monotonic()

    def open(self) -> None:
        try:
            self.transport.open()
        except TTransportException as exc:
            raise ConnectFailed(str(exc.message)) from exc

    def usable(self, max_idle_age: float) -> bool:
        """Whether an idle pooled connection can carry the next call."""
        raw = self.socket.sock
        if raw is None or time.monotonic() - self.last_used > max_idle_age:
            return False
        # An idle connection has nothing to read: readable means the server
        # closed or reset it (restart, idle timeout), or stray bytes; all unusable.
        poller = select.poll()
        poller.register(raw, select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        self.transport.close()


class ConnectionPool:
    """Idle connections to one server, opened only when none is free."""

    def __init__(
        self,
        host: str,
        port: int,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        max_idle: int = 8,
        max_idle_age: float = 60.0,
    ) -> None:
        self.host, self.port = host, port
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_idle, self.max_idle_age = max_idle, max_idle_age
        self.opened = 0  # connections opened so far: visible reuse, for tests and metrics
        self._idle: deque[_Connection] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                break
            if conn.usable(self.max_idle_age):
                return conn
            conn.close()
        conn = _Connection(self.host, self.port, self.connect_timeout, self.read_timeout)
        conn.open()
        with self._lock:
            self.opened += 1
        return conn

    def release(self, conn: _Connection) -> None:
        conn.last_used = time.monotonic()
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.close()


class PasteFileClient:
    """``PasteFileService`` over a pool; safe to share between threads."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        retries: int = 3,
        retry_delay: float = 0.2,
        pool_size: int = 8,
    ) -> None:
        self.pool = ConnectionPool(host, port, connect_timeout, read_timeout, max_idle=pool_size)
        self._idempotent = retry(retries, retry_delay, on=(RpcConnectionError,))(self._call)
        self._once = retry(retries, retry_delay, on=(ConnectFailed,))(self._call)

    def get(self, pid: int) -> Any:
        return self._idempotent("get", pid)

    def get_file_info(self, filename: str, mimetype: str) -> list[str]:
        return self._idempotent("get_file_info", filename, mimetype)  # type: ignore[no-any-return]

    def create(self, request: Any) -> Any:
        return self._once("create", request)

    def upload(
        self,
        data: bytes | IO[bytes],
        filename: str,
        mimetype: str = "application/octet-stream",
        width: int | None = None,
        height: int | None = None,
    ) -> Any:
        """The web flow: get_file_info, place the bytes, create."""
        token, path = self.get_file_info(filename, mimetype)
        with open(path, "xb") as placed:
            if isinstance(data, bytes):
                placed.write(data)
            else:
                shutil.copyfileobj(data, placed, 1024 * 1024)
        request = idl.CreatePasteFileRequest(
            filehash=token, filename=filename, mimetype=mimetype, width=width, height=height
        )
        return self.create(request)

    def close(self) -> None:
        self.pool.close()

    def _call(self, method: str, *args: Any) -> Any:
        conn = self.pool.acquire()
        try:
            result = getattr(conn.client, method)(*args)
        except (TTransportException, OSError) as exc:
            conn.close()
            raise ConnectionLost(f"{method}: {exc}") from exc
        except _ANSWERS:
            self.pool.release(conn)
            raise
        except BaseException:
            conn.close()  # half a message may be left on the wire
            raise
        self.pool.release(conn)
        return result


_shared: dict[tuple[str, int], PasteFileClient] = {}
_shared_lock = threading.Lock()


def get_client(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> PasteFileClient:
    """One shared client per server, created on first use (behind a LocalProxy)."""
    with _shared_lock:
        client = _shared.get((host, port))
        if client is None:
            client = _shared[(host, port)] = PasteFileClient(host, port)
        return client
