"""Readiness checks: database, storage, cache and broker, each bounded in time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import text

from pastefile.cache import Cache
from pastefile.db.database import Database
from pastefile.storage import Storage

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


class Readiness:
    """Is every part this process depends on reachable? Each check is bounded in time."""

    def __init__(self, db: Database, storage: Storage, cache: Cache, broker_url: str) -> None:
        self.db = db
        self.storage = storage
        self.cache = cache
        self.broker_url = broker_url

    def checks(self) -> dict[str, Callable[[], None]]:
        found: dict[str, Callable[[], None]] = {
            "database": self._database,
            "storage": self.storage.ping,
            "cache": self.cache.ping,
        }
        if self.broker_url:
            found["broker"] = self._broker  # without one, jobs run on in-process threads
        return found

    def check(self) -> dict[str, str]:
        """``{name: "ok" | "down: <reason>"}`` for every dependency, run in parallel."""
        futures = {name: _pool.submit(check) for name, check in self.checks().items()}
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                future.result(timeout=CHECK_TIMEOUT + 0.5)
                results[name] = "ok"
            except FutureTimeout:
                results[name] = "down: timed out"
            except Exception as exc:  # any failure means not ready; say which
                log.warning("readiness: %s is down: %s", name, exc)
                results[name] = f"down: {exc.__class__.__name__}"
        return results

    def _database(self) -> None:
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _broker(self) -> None:
        from kombu.connection import Connection

        with Connection(self.broker_url, connect_timeout=CHECK_TIMEOUT) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
