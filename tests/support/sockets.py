"""WebSocket clients that are closed however a test ends.

simple-websocket's reader thread is not a daemon: a client a failing test left open
keeps the whole pytest run from exiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from simple_websocket import Client, ConnectionClosed


@contextmanager
def websocket(url: str, headers: dict[str, str] | None = None) -> Iterator[Client]:
    client = Client.connect(url, headers=headers)
    try:
        yield client
    finally:
        with suppress(ConnectionClosed):  # the server closed it first: as wanted
            client.close()
