"""pastefile under gunicorn with the options of ``pastefile serve`` but another worker class.

    python bench/_gunicorn_as.py PORT WORKER_CLASS THREADS

bench/servers.py runs its candidates with this after ``pastefile db upgrade``; the
production worker it runs as ``pastefile serve`` itself.
"""

from __future__ import annotations

import sys

from pastefile.gunicorn_app import _PasteFileGunicorn, gunicorn_options


def main(port: str, worker_class: str, threads: str) -> None:
    options = gunicorn_options("127.0.0.1", int(port), 1)
    options.update(worker_class=worker_class, threads=int(threads))
    _PasteFileGunicorn(options).run()


if __name__ == "__main__":
    main(*sys.argv[1:])
