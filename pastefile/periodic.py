"""A flusher thread: it calls ``flush()`` on an object every ``interval`` seconds.

Buffered counters (page statistics, download history) write in batches from such a
thread. It keeps only a weak reference between rounds, so an app that is dropped (a
test's, a reloaded worker's) is collected with its counter, and the thread then ends.
``Flusher`` starts that thread once per process, on first use: gunicorn forks its workers
after the app is built, and a thread does not survive a fork.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Flushing(Protocol):
    interval: float

    def flush(self) -> object: ...


T = TypeVar("T", bound=Flushing)


class Flusher(Generic[T]):
    """Starts ``target``'s flusher thread once per process, the first time ``start`` is
    called. In a forked child the parent's thread is gone and its buffer is not the
    child's: ``after_fork(target)`` resets the buffer, and the next ``start`` starts the
    child's own thread. Only weak references are kept, so ``target`` is still collected."""

    def __init__(self, target: T, name: str, after_fork: Callable[[T], None]) -> None:
        self._target = weakref.ref(target)
        self._name = name
        self._after_fork = after_fork
        self._reset()
        me = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forked(me))

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self._stop = threading.Event()

    def start(self) -> None:
        if self._started:  # the hot path: no lock once it runs
            return
        with self._lock:
            if self._started:
                return
            self._started = True
        target = self._target()
        if target is not None:
            start_flusher(target, self._stop, self._name)

    def stop(self) -> None:
        """The thread ends at its next wake-up, without flushing again."""
        self._stop.set()


def _forked(ref: weakref.ref[Flusher[T]]) -> None:
    flusher = ref()
    if flusher is None:
        return
    flusher._reset()
    target = flusher._target()
    if target is not None:
        flusher._after_fork(target)


def start_flusher(target: Flushing, stop: threading.Event, name: str) -> threading.Thread:
    """A daemon thread flushing ``target`` until ``stop`` is set or it is collected."""
    thread = threading.Thread(
        target=_loop, args=(weakref.ref(target), stop), name=name, daemon=True
    )
    thread.start()
    return thread


def _loop(ref: weakref.ref[Flushing], stop: threading.Event) -> None:
    while True:
        target = ref()
        if target is None:
            return
        interval = target.interval
        del target  # no strong reference while sleeping
        if stop.wait(interval):
            return
        target = ref()
        if target is None:
            return
        target.flush()
        del target
