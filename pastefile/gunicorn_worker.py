"""gunicorn's gthread worker, made so that a slow client cannot hold its threads.

Stock gthread hands a connection to a thread as soon as its first byte
arrives; the thread then blocks on the socket until the whole request is in.
Forty clients sending their headers a byte a second, or their bodies ten bytes
a second, took every thread of ``pastefile serve --workers 2`` and ``/healthz``
stopped answering. Behind ``deploy/nginx.conf`` nginx buffers requests, but
the service must stand on its own too. This worker:

- reads the request line, the headers and a small body (``SMALL_BODY`` bytes
  or less) on the worker's event loop, without a thread, and gives up on a
  client that has not sent them within ``client_header_timeout`` (408);
- runs a request whose body is large or chunked, or that upgrades to a
  WebSocket, in one of the "long" slots: all threads but ``RESERVED_THREADS``,
  so short requests always find a thread. A long request that finds every
  slot taken waits on the loop, then gets 503 with Retry-After;
- drops a body that pauses longer than ``client_body_timeout`` or arrives
  slower than ``client_min_rate`` bytes a second (after that same timeout's
  worth of grace): the upload ends with 400, and its thread is free.
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from pastefile.config import load_settings

#: A body of at most this many bytes is read with the headers, on the loop.
SMALL_BODY = 64 * 1024
#: Threads that only short requests (headers and a small body in) may take.
RESERVED_THREADS = 2
#: How long a closing connection is read from before it is dropped.
LINGER_SECONDS = 2.0
_HEAD_END = b"\r\n\r\n"
_HEAD_LIMIT = 64 * 1024 + SMALL_BODY


class ClientTooSlow(TimeoutError):
    """The client paused, or sent its body slower than the minimum rate."""


class PacedUnreader(SocketUnreader):  # type: ignore[misc]
    """A socket reader that gives up on a pause or a trickle instead of waiting forever."""

    def __init__(self, sock: socket.socket, idle: float, min_rate: float) -> None:
        super().__init__(sock)
        self.idle = idle
        self.min_rate = min_rate
        self.timed_out = False
        self.begin()

    def begin(self) -> None:
        """Start the clock for one request."""
        self._started = time.monotonic()
        self._received = 0

    def chunk(self, size_hint: int | None = None) -> bytes:
        now = time.monotonic()
        allowed = self._started + self.idle + self._received / self.min_rate
        wait = min(self.idle, allowed - now)
        if wait <= 0 or not _readable(self.sock, wait):
            self.timed_out = True
            raise ClientTooSlow(errno.ETIMEDOUT, "client sent too slowly")
        data: bytes = super().chunk(size_hint)
        self._received += len(data)
        return data


def _readable(sock: socket.socket, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout))


class _Pending:
    """What the loop knows about a connection it is reading a request from."""

    __slots__ = ("deadline", "head", "long", "upgrade")

    def __init__(self, deadline: float, head: bytes) -> None:
        self.deadline = deadline
        self.head = bytearray(head)
        self.long = False
        self.upgrade = False


class GuardedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread with requests read on the loop and a bulkhead for long requests."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = load_settings()
        self.header_timeout = settings.client_header_timeout
        self.body_timeout = settings.client_body_timeout
        self.min_rate = float(settings.client_min_rate)
        self.long_slots = max(1, self.cfg.threads - RESERVED_THREADS)
        self.long_running = 0
        self.reading: dict[TConn, _Pending] = {}
        self.waiting: deque[tuple[TConn, _Pending]] = deque()
        self.lingering: dict[TConn, float] = {}

    # -- the way in: every request is read on the loop first ---------------

    def enqueue_req(self, conn: TConn) -> None:
        pending = getattr(conn, "pf_ready", None)
        if pending is not None:
            conn.pf_ready = None
            super().enqueue_req(conn)
            return
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        state = _Pending(time.monotonic() + self.header_timeout, leftover)
        conn.sock.setblocking(False)
        self.reading[conn] = state
        if not self._advance(conn, state):
            self._watch(conn, self._on_readable)

    def _on_readable(self, conn: TConn, _sock: socket.socket) -> None:
        state = self.reading[conn]
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._forget(conn, registered=True)
            self._close(conn)
            return
        state.head += data
        if self._advance(conn, state):
            self.poller.unregister(conn.sock)

    def _advance(self, conn: TConn, state: _Pending) -> bool:
        """Dispatch the request if enough of it is in; True when it left the loop."""
        end = state.head.find(_HEAD_END)
        if end < 0:
            if len(state.head) <= _HEAD_LIMIT:
                return False
            # Too large a head: the parser answers it (431/400) on a thread.
            return self._dispatch(conn, state)
        fields = _headers(bytes(state.head[: end + 4]))
        state.upgrade = any(name == b"upgrade" for name, _ in fields)
        state.long = state.upgrade or _is_long(fields)
        body_length = _content_length(fields)
        if not state.long and len(state.head) < end + 4 + body_length:
            return False
        return self._dispatch(conn, state)

    def _dispatch(self, conn: TConn, state: _Pending) -> bool:
        del self.reading[conn]
        if state.long and self.long_running >= self.long_slots:
            self.waiting.append((conn, state))
            return True
        self._start(conn, state)
        return True

    def _start(self, conn: TConn, state: _Pending) -> None:
        if state.long:
            self.long_running += 1
        conn.pf_long = state.long
        conn.pf_upgrade = state.upgrade
        if conn.parser is None:
            conn.init()
            parser: Any = conn.parser
            parser.unreader = PacedUnreader(conn.sock, self.body_timeout, self.min_rate)
        conn.sock.setblocking(True)
        conn.parser.unreader.unread(bytes(state.head))
        conn.pf_ready = state
        self.enqueue_req(conn)

    # -- on a thread -------------------------------------------------------

    def handle(self, conn: TConn) -> Any:
        reader = conn.parser.unreader
        reader.begin()
        keep = super().handle(conn)
        if reader.timed_out:
            conn.pf_hard_close = True
            return False
        return keep

    # -- the way out -------------------------------------------------------

    def finish_request(self, conn: TConn, fs: Any) -> None:
        if getattr(conn, "pf_long", False):
            conn.pf_long = False
            self.long_running -= 1
        if fs.cancelled() or fs.exception() is not None or not fs.result():
            # gunicorn would linger here, on the loop, for up to 2 s per connection
            # whose client keeps it open: a few such clients stall every other one.
            # An upgraded socket (a WebSocket) belongs to its handler, which may close
            # it at any moment: it is closed at once, never watched.
            hard = getattr(conn, "pf_hard_close", False) or getattr(conn, "pf_upgrade", False)
            self._end(conn, hard=hard)
        else:
            super().finish_request(conn, fs)
        while self.waiting and self.long_running < self.long_slots:
            waiting_conn, state = self.waiting.popleft()
            self._start(waiting_conn, state)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn, state in list(self.reading.items()):
            if state.deadline <= now:
                self._forget(conn, registered=True)
                _answer(conn.sock, 408, "Request Timeout", "The request was not sent in time.")
                self._end(conn)
        while self.waiting and self.waiting[0][1].deadline + self.body_timeout <= now:
            conn, _state = self.waiting.popleft()
            _answer(conn.sock, 503, "Service Unavailable", "Too many uploads at once; retry.")
            self._end(conn)
        for conn, deadline in list(self.lingering.items()):
            if deadline <= now:
                self._unlinger(conn)

    # -- closing without waiting on the loop -------------------------------

    def _end(self, conn: TConn, hard: bool = False) -> None:
        """Close after the answer: send FIN, then read what the client still sends
        (so the kernel does not reset the answer away) until it closes or time is up."""
        try:
            if hard:
                raise OSError
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            self._close(conn)
            return
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        self._watch(conn, self._on_linger)

    def _watch(self, conn: TConn, callback: Any) -> None:
        try:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(callback, conn))
        except KeyError:
            # The selector still maps this number to a socket someone else closed
            # (the kernel already forgot it): that entry is stale, this socket is new.
            self.poller.unregister(conn.sock.fileno())
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(callback, conn))

    def _on_linger(self, conn: TConn, _sock: socket.socket) -> None:
        try:
            if conn.sock.recv(65536):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._unlinger(conn)

    def _unlinger(self, conn: TConn) -> None:
        del self.lingering[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self._close(conn)

    def _forget(self, conn: TConn, *, registered: bool) -> None:
        self.reading.pop(conn, None)
        if registered:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)

    def _close(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()


def _headers(head: bytes) -> list[tuple[bytes, bytes]]:
    fields = []
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            fields.append((name.strip().lower(), value.strip().lower()))
    return fields


def _is_long(fields: list[tuple[bytes, bytes]]) -> bool:
    """A request that may keep its thread waiting on the client: a big, chunked or upgraded one.

    This only chooses the lane; gunicorn's parser still decides what the
    request is, and a head this reading gets wrong is merely run in the
    other lane.
    """
    for name, value in fields:
        if name in (b"transfer-encoding", b"upgrade"):
            return True
        if name == b"content-length" and (not value.isdigit() or int(value) > SMALL_BODY):
            return True
    return False


def _content_length(fields: list[tuple[bytes, bytes]]) -> int:
    for name, value in fields:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


def _answer(sock: socket.socket, status: int, reason: str, detail: str) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + ("Retry-After: 5\r\n" if status == 503 else "")
        + "\r\n"
    )
    with contextlib.suppress(OSError):
        sock.send(head.encode() + body)
