"""Sessions for job bookkeeping: one per thread, removed after use.

The rule for background threads: a ``scoped_session``
registry hands each thread its own session, and whoever owns the thread
(a runner's worker, a Celery task, a web request) calls ``remove()`` when its
unit of work is over. Every transaction closes the session at its end, so
objects handed out are detached snapshots and a later read never sees a
stale identity map.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from pastefile.db.database import Database

T = TypeVar("T")
ATTEMPTS = 5


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

    def retried(self, work: Callable[[Session], T]) -> T:
        """``work`` in a transaction, run again when the database picked it to give way
        (a deadlock or a lock timeout): a job's outcome must not be lost to one, or the
        job would show ``running`` until its lease ran out."""
        for attempt in range(ATTEMPTS):
            try:
                with self.transaction() as session:
                    return work(session)
            except OperationalError as exc:
                if exc.connection_invalidated or attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # jittered: no lockstep
        raise AssertionError("unreachable: the last attempt returns or raises")

    def remove(self) -> None:
        """End this thread's session; call when the thread's unit of work is done."""
        self.registry.remove()
