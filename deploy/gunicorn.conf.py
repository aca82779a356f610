"""gunicorn settings for pastefile behind nginx (deploy/nginx.conf).

    gunicorn -c deploy/gunicorn.conf.py

Environment:
  PASTEFILE_BIND         where to listen: ``unix:/run/pastefile/web.sock`` (the default)
                         or ``127.0.0.1:8000``
  PASTEFILE_WEB_WORKERS  worker processes (default ``2 x CPUs + 1``)
  PASTEFILE_WEB_THREADS  threads per worker (default 8)
plus the application's own ``PASTEFILE_*`` settings (README.md).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from pastefile.gunicorn_app import _post_request, _post_worker_init

wsgi_app = "pastefile.wsgi:application"
bind = [os.environ.get("PASTEFILE_BIND", "unix:/run/pastefile/web.sock")]
# The socket's mode: the service's user and group by default (put nginx's user in that
# group); compose.yaml opens it to all, nginx being another container's user.
umask = int(os.environ.get("PASTEFILE_SOCKET_UMASK") or "007", 8)

# gthread that reads each request's head on its event loop and keeps threads for short
# requests: a slow client holds neither a process nor, until its request is in, a thread
# (pastefile/gunicorn_worker.py, docs/security.md). Uploads stream through a thread.
worker_class = "pastefile.gunicorn_worker.GuardedThreadWorker"
workers = int(os.environ.get("PASTEFILE_WEB_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("PASTEFILE_WEB_THREADS") or 8)

# Import the code once in the arbiter; pastefile.wsgi builds the app in each worker.
preload_app = True

# A request may take this long before the worker is killed (a 512 MiB upload at
# ~10 MB/s); on SIGTERM/HUP, workers get graceful_timeout to finish what they serve.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow forever.
max_requests = 10000
max_requests_jitter = 1000

# Logs go through the app's own access log (pastefile.access); gunicorn's errors to stderr.
accesslog = None
errorlog = "-"
forwarded_allow_ips = "127.0.0.1,::1"
# gunicorn 27's control socket is one per user ($HOME/.gunicorn/gunicorn.ctl): several
# instances on one machine would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Tune malloc for streamed bodies, then build this worker's app before its first request."""
    _post_worker_init(worker)
    from pastefile.wsgi import application

    application.load()


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    _post_request(worker, req, environ, resp)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: drop its live values from the Prometheus multiprocess directory."""
    mark_metrics_process_dead(server, worker)


def mark_metrics_process_dead(server: Any, worker: Any) -> None:
    """pastefile.observability.metrics.child_exit, where this pastefile has it."""
    try:
        from pastefile.observability.metrics import child_exit as metrics_child_exit
    except ImportError:
        return
    metrics_child_exit(server, worker)
