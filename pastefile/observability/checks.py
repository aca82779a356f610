"""Readiness checks: database, storage, cache and broker, each bounded in time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from pastefile.composition import Services

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def _database(services: Services) -> None:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _storage(services: Services) -> None:
    services.storage.ping()


def _cache(services: Services) -> None:
    services.cache.ping()


def _broker(services: Services) -> None:
    from kombu.connection import Connection

    url = services.settings.broker_url
    with Connection(url, connect_timeout=CHECK_TIMEOUT) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)


def checks_for(services: Services) -> dict[str, Callable[[Services], None]]:
    found: dict[str, Callable[[Services], None]] = {
        "database": _database,
        "storage": _storage,
        "cache": _cache,
    }
    if services.settings.broker_url:
        found["broker"] = _broker  # without one, jobs run on in-process threads
    return found


def run_checks(services: Services) -> dict[str, str]:
    """``{name: "ok" | "down: <reason>"}`` for every dependency, run in parallel."""
    futures = {name: _pool.submit(check, services) for name, check in checks_for(services).items()}
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
