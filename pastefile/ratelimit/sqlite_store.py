"""Rate-limit counts in a SQLite file, shared by every process of one machine.

Without Redis, ``memory://`` counted per process: with two gunicorn workers a
login budget of 10 let 17 of 40 guesses through. This store keeps the counts
in ``ratelimits.db`` beside the embedded database, so every worker, the RPC
server and the CLI spend one budget, as they already share the data. Counts
are cheap to lose, so the file is written without fsync.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

SCHEME = "pastefile-sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires REAL NOT NULL
)
"""
#: Ended windows are deleted once every this many hits of one process.
PURGE_EVERY = 1000
# One statement, so concurrent hits from any process are applied one at a time:
# a window that has ended starts over at this hit.
_INCR = """
INSERT INTO counts (key, count, expires) VALUES (:key, max(:amount, 0), :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires <= :now THEN max(:amount, 0) ELSE count + :amount END,
    expires = CASE WHEN expires <= :now THEN :now + :expiry ELSE expires END
RETURNING count
"""


class SqliteStorage(Storage):  # type: ignore[misc]
    """A ``limits`` storage for the fixed-window strategy, in one SQLite file."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str, wrap_exceptions: bool = False, key_prefix: str = "", **_: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = Path(uri.removeprefix(f"{SCHEME}://"))
        self.key_prefix = key_prefix
        self._local = threading.local()
        self._hits = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as conn:
            conn.execute(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process: a connection must not cross a fork.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _key(self, key: str) -> str:
        return f"{self.key_prefix}:{key}"

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        args = {"key": self._key(key), "amount": amount, "now": time.time(), "expiry": expiry}
        row = self._connection().execute(_INCR, args).fetchone()
        self._hits += 1
        if self._hits % PURGE_EVERY == 0:
            self.purge()
        return int(row[0])

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count FROM counts WHERE key = ? AND expires > ?",
                (self._key(key), time.time()),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT expires FROM counts WHERE key = ?", (self._key(key),))
            .fetchone()
        )
        return float(row[0]) if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return int(self._connection().execute("DELETE FROM counts").rowcount)

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counts WHERE key = ?", (self._key(key),))

    def purge(self) -> int:
        """Delete the counts of windows that have ended; returns how many."""
        done = self._connection().execute("DELETE FROM counts WHERE expires <= ?", (time.time(),))
        return int(done.rowcount)
