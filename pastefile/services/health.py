"""Can this process work? The one place that says so, at start and on ``/readyz``.

Every entry point (``pastefile serve`` in both modes and each gunicorn worker,
the job worker and beat, the RPC server) calls ``require_ready`` before it
serves, and ``/readyz`` reports ``check``. The checks: the database answers,
its schema is the one this code ships (shared databases are migrated on
purpose, with ``pastefile db upgrade``), the storage is there and writable,
and Redis and the broker answer when they are configured. Each is bounded in
time, and each failure says what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import text
from sqlalchemy.engine import make_url

from pastefile.cache import Cache
from pastefile.config import Settings
from pastefile.db import revisions
from pastefile.db.database import Database
from pastefile.errors import NotReady
from pastefile.storage import Storage

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
UPGRADE = "run `pastefile db upgrade`"
_pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="readyz")


class _Down(Exception):
    """A check's failure, worded for the operator."""


class Readiness:
    """Is every part this process depends on usable? Each check is bounded in time."""

    def __init__(self, settings: Settings, db: Database, storage: Storage, cache: Cache) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.cache = cache

    def checks(self) -> dict[str, Callable[[], None]]:
        found: dict[str, Callable[[], None]] = {
            "database": self._database,
            "schema": self._schema,
            "storage": self._storage,
            "cache": self._cache,
        }
        if self.settings.broker_url:
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
            except _Down as exc:
                results[name] = f"down: {exc}"
            except Exception as exc:  # any failure means not ready; say which
                log.warning("readiness: %s is down: %s", name, exc)
                results[name] = f"down: {exc.__class__.__name__}"
        return results

    def require_ready(self) -> None:
        """Raise ``NotReady`` naming every part that is not usable, and what to do."""
        down = {name: state for name, state in self.check().items() if state != "ok"}
        if down:
            lines = [f"  {name}: {state.removeprefix('down: ')}" for name, state in down.items()]
            raise NotReady("pastefile cannot start:\n" + "\n".join(lines))

    def _database(self) -> None:
        try:
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            where = self.db.url.render_as_string(hide_password=True)
            raise _Down(f"cannot reach the database at {where} ({_reason(exc)})") from exc

    def _schema(self) -> None:
        try:
            state = revisions.schema_state(self.db)
        except Exception as exc:
            raise _Down(f"cannot read the schema revision ({_reason(exc)})") from exc
        if not state.current:
            raise _Down(f"the database has no pastefile tables yet: {UPGRADE}")
        if state.current - state.known:
            raise _Down(
                f"the database schema is ahead of this pastefile (at {_revs(state.current)},"
                f" this code knows up to {_revs(state.heads)}): run the pastefile version"
                " that migrated it; `pastefile db upgrade` cannot go back"
            )
        if state.current != state.heads:
            raise _Down(
                f"the database schema is behind the code (at {_revs(state.current)},"
                f" the code needs {_revs(state.heads)}): {UPGRADE}"
            )

    def _storage(self) -> None:
        try:
            self.storage.ping()
        except Exception as exc:
            where = _public(self.settings.storage_url)
            raise _Down(
                f"the storage at {where} is missing or not writable ({_reason(exc)})"
            ) from exc

    def _cache(self) -> None:
        try:
            self.cache.ping()
        except Exception as exc:
            where = _public(self.settings.redis_url)
            raise _Down(f"cannot reach Redis at {where} ({_reason(exc)})") from exc

    def _broker(self) -> None:
        from kombu.connection import Connection

        try:
            with Connection(self.settings.broker_url, connect_timeout=CHECK_TIMEOUT) as conn:  # type: ignore[no-untyped-call]
                conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
        except Exception as exc:
            where = _public(self.settings.broker_url)
            raise _Down(f"cannot reach the broker at {where} ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{cause.__class__.__name__}: {first}" if first else cause.__class__.__name__


def _revs(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


def _public(url: str) -> str:
    """A URL fit for a log line: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy-shaped URL: keep only the part after any credentials
        return url.rsplit("@", 1)[-1]
