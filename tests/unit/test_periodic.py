"""The flusher thread starts once per process, and a forked child gets its own."""

from __future__ import annotations

import os
import threading
import time

from pastefile.periodic import Flusher


class Buffered:
    interval = 0.01

    def __init__(self) -> None:
        self.pending = 0
        self.written = 0
        self.flusher = Flusher(self, "test-flusher", Buffered.after_fork)

    def add(self) -> None:
        self.pending += 1
        self.flusher.start()

    def flush(self) -> None:
        self.written += self.pending
        self.pending = 0

    def after_fork(self) -> None:
        self.pending = 0


def flushers() -> int:
    return sum(t.name == "test-flusher" and t.is_alive() for t in threading.enumerate())


def written_soon(buffered: Buffered, expected: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if buffered.written == expected:
            return True
        time.sleep(0.01)
    return False


def test_the_thread_starts_on_first_use_and_only_once() -> None:
    buffered = Buffered()
    assert flushers() == 0
    for _ in range(3):
        buffered.add()
    assert written_soon(buffered, 3)
    assert flushers() == 1
    buffered.flusher.stop()


def test_a_forked_child_flushes_its_own_counts_with_its_own_thread() -> None:
    buffered = Buffered()
    buffered.add()
    assert written_soon(buffered, 1)
    buffered.flusher.stop()  # the parent's thread stops: only a new one can flush
    time.sleep(0.05)
    buffered.pending = 5  # the parent's, never the child's to write
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only when its own thread wrote its one count
        fresh = buffered.pending == 0
        buffered.add()
        ok = fresh and written_soon(buffered, 2) and flushers() == 1
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
