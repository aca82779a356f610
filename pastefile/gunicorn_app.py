"""Run the app under gunicorn from ``pastefile serve`` in production."""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from pastefile import malloc


class _PasteFileGunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app, so no pool or file handle crosses a fork.
        from pastefile.web.app import create_worker_app

        return create_worker_app()


def tune_malloc() -> bool:
    """Let the worker reuse the big buffers of streamed bodies instead of faulting in new ones.

    Reading and parsing a request body allocates and frees buffers of 256 KiB
    to 1 MiB (gunicorn's, Werkzeug's, ours). glibc serves those with a fresh
    mmap and unmaps them on free (its adaptive threshold never covers a size
    equal to the one just freed), so a 1 GiB upload took ~500,000 page faults
    of zeroed memory: about half of the worker's CPU. With a 4 MiB threshold
    they come from the heap and are reused, and a 16 MiB trim threshold keeps
    the heap from shrinking and growing again between two chunks. False
    without glibc.
    """
    return malloc.tune(mmap_threshold=4 * 1024 * 1024, trim_threshold=16 * 1024 * 1024)


def receive_bodies_in(size: int) -> bool:
    """Make gunicorn receive a request body, and step through it, ``size`` bytes at a time.

    gunicorn 27 receives up to 1 MiB per ``recv`` and reads a body in steps
    of 1 MiB, keeping what a read did not ask for in buffers that are copied
    again on the next read: some 5 MB on top of the worker during an upload
    of any size. At 256 KiB it is about 1.5 MB, at the same speed. These are
    gunicorn's module-level knobs; False if this gunicorn has none of them.
    """
    from gunicorn.http import body, unreader

    found = False
    if hasattr(unreader.SocketUnreader, "max_body_chunk"):
        unreader.SocketUnreader.max_body_chunk = size
        found = True
    if hasattr(body, "MAX_READ_STEP"):
        body.MAX_READ_STEP = size
        found = True
    return found


def _post_worker_init(worker: Any) -> None:
    # After the app is loaded: what importing it freed has been given back already.
    from pastefile.web.streaming import BODY_READ_SIZE

    tune_malloc()
    receive_bodies_in(BODY_READ_SIZE)


def _post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    # A request body's buffers are free now; without this the worker would keep
    # them (below the trim threshold) on top of its steady size.
    if environ.get("CONTENT_LENGTH", "") not in ("", "0") or environ.get("HTTP_TRANSFER_ENCODING"):
        malloc.release()


def run_gunicorn(host: str, port: int, workers: int | None) -> None:
    """Become a fresh interpreter that runs gunicorn; this never returns.

    ``pastefile serve`` has imported the whole application (and migrated) by
    now. gunicorn forks its workers from this process, so each worker would
    carry all of that in its RSS, used or not. A fresh arbiter holds gunicorn
    only, and each worker imports what the app needs. ``-P``: no current
    directory on ``sys.path``.

    ``MALLOC_ARENA_MAX=1`` (unless the operator set it): ``tune_malloc`` asks for
    one arena only once the app is loaded, and the threads started before that
    (the app's own, libvips's) had made theirs: with eight uploads at once a
    worker grew by ~11 MB, and by ~6 MB with the limit in force from the start.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ.setdefault("MALLOC_ARENA_MAX", "1")
    args = [host, str(port), str(workers or 0)]
    os.execv(sys.executable, [sys.executable, "-P", "-m", __name__, *args])  # noqa: S606


def gunicorn_options(host: str, port: int, workers: int | None) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers or multiprocessing.cpu_count() * 2 + 1,
        "worker_class": "pastefile.gunicorn_worker.GuardedThreadWorker",
        "threads": 8,
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "post_worker_init": _post_worker_init,
        "post_request": _post_request,
        # gunicorn 27's control socket is one per user ($HOME/.gunicorn): two
        # `pastefile serve` on one machine would fight over it.
        "control_socket_disable": True,
    }


def main(argv: list[str]) -> None:
    host, port, workers = argv
    _PasteFileGunicorn(gunicorn_options(host, int(port), int(workers) or None)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
