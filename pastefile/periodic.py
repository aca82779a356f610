"""A flusher thread: it calls ``flush()`` on an object every ``interval`` seconds.

Buffered counters (page statistics, download history) write in batches from such a
thread. It keeps only a weak reference between rounds, so an app that is dropped (a
test's, a reloaded worker's) is collected with its counter, and the thread then ends.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol


class Flushing(Protocol):
    interval: float

    def flush(self) -> object: ...


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
