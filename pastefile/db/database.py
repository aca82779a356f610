"""Engine and session handling.

``Database.read()`` and ``Database.write()`` open one short session each.
On SQLite, write sessions start with ``BEGIN IMMEDIATE`` so two writers
queue on the lock instead of failing when one upgrades from a read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pastefile.errors import Unavailable

slow_log = logging.getLogger("pastefile.slowquery")
_AFTER_COMMIT = "pastefile.after_commit"


def after_commit(session: Session, hook: Callable[[], object]) -> None:
    """Run ``hook`` after the ``Database.write`` transaction of ``session`` commits.

    For work that must not happen unless the commit did, such as unlinking bytes
    whose row the transaction removes.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)


class Database:
    def __init__(self, url: str, slow_query_ms: int = 200, echo: bool = False) -> None:
        self.url = make_url(url)
        self.engine = _make_engine(url, echo)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        _install_slow_query_log(self.engine, slow_query_ms)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = self.engine.execution_options(pastefile_immediate=True)
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._answering(), self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on error.

        What ``after_commit`` registered runs once the commit succeeded, outside
        the transaction; a rollback forgets it.
        """
        with self._answering(), self._writer() as session:
            with session.begin():
                yield session
            hooks = session.info.pop(_AFTER_COMMIT, [])
        for hook in hooks:
            hook()

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """A database that does not answer is ``Unavailable`` (503, try again), not a
        crash; a lock or a deadlock stays what it is, for the callers that retry it."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            if exc.connection_invalidated or not self._answers():
                raise Unavailable("the database is unavailable; try again shortly") from exc
            raise

    def _answers(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kwargs["pool_recycle"] = 3600
    return create_engine(parsed, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("pastefile_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _install_slow_query_log(engine: Engine, threshold_ms: int) -> None:
    if threshold_ms <= 0:
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("pastefile_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info["pastefile_query_start"].pop()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms >= threshold_ms:
            slow_log.warning("slow query %.1f ms: %s", elapsed_ms, " ".join(statement.split()))
