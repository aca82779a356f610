"""Shared pieces of the cache tests: query counting, a private redis-server."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import event

from pastefile.db.database import Database
from tests.support.servers import free_port, port_open, wait_until
from tests.support.settings import service_unavailable

REDIS_URL = os.environ.get("PASTEFILE_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


class QueryCounter:
    """Counts statements that read the files table (before_cursor_execute)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM files" in statement:
            with self._lock:
                self.count += 1


def need_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", exc)
    return REDIS_URL


def unique_prefix() -> str:
    return f"pftest{uuid.uuid4().hex[:10]}"


def run_together(count: int, fn: Callable[[], object]) -> list[object]:
    """Run ``fn`` on ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = fn()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@contextmanager
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of our own on a spare port (never the shared one on 6379)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port), timeout=10)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
