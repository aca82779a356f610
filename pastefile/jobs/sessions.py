"""Sessions for job bookkeeping: one per thread, removed after use.

The rule for background threads: a ``scoped_session``
registry hands each thread its own session, and whoever owns the thread
(a runner's worker, a Celery task, a web request) calls ``remove()`` when its
unit of work is over. Every transaction closes the session at its end, so
objects handed out are detached snapshots and a later read never sees a
stale identity map.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, scoped_session, sessionmaker

from pastefile.db.database import Database


class ThreadSessions:
    def __init__(self, db: Database) -> None:
        # Writes start with BEGIN IMMEDIATE on SQLite, as Database.write() does.
        engine = db.engine.execution_options(pastefile_immediate=True)
        self.registry = scoped_session(sessionmaker(engine, expire_on_commit=False))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """This thread's session, in a transaction that commits on success."""
        session = self.registry()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def remove(self) -> None:
        """End this thread's session; call when the thread's unit of work is done."""
        self.registry.remove()
