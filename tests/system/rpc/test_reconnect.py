"""The RPC client against ``pastefile rpc`` in its own process: killed, restarted, or gone."""

from __future__ import annotations

import threading

import pytest

from pastefile.rpc.client import (
    ConnectFailed,
    PasteFileClient,
)
from tests.support.rpc import TEXT, placed_request, spawn_rpc, stop
from tests.support.servers import free_port
from tests.support.settings import make_settings

# the server killed under a client -------------------------------------------


def test_the_client_reconnects_when_the_server_is_killed_and_restarted(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url)
    port, log = free_port(), tmp_path / "rpc.log"
    procs = [spawn_rpc(settings, port, log)]
    client = PasteFileClient("127.0.0.1", port, retries=8, retry_delay=0.1)
    try:
        created = client.upload(TEXT, "notes.txt")
        pending = placed_request(client, b"placed before the crash")
        procs[0].kill()
        procs[0].wait()
        # Back in half a second; the client's retries bridge the gap.
        threading.Timer(0.5, lambda: procs.append(spawn_rpc(settings, port, log))).start()
        assert client.get(created.id) == created
        procs[-1].kill()
        procs[-1].wait()
        procs.append(spawn_rpc(settings, port, log))
        # create is never resent once sent, so this passes only because the
        # dead pooled connection is noticed before the request goes out.
        assert client.create(pending).filename == "a.txt"
        assert client.pool.opened == 3
    finally:
        client.close()
        for proc in procs:
            stop(proc)


def test_a_server_that_stays_down_is_connect_failed_after_the_retries(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url)
    port = free_port()
    proc = spawn_rpc(settings, port, tmp_path / "rpc.log")
    client = PasteFileClient("127.0.0.1", port, retries=2, retry_delay=0.05)
    try:
        client.get_file_info("a", "b")
        stop(proc)
        with pytest.raises(ConnectFailed):
            client.get(1)
    finally:
        client.close()
        stop(proc)
