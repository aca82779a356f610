"""The WSGI entry point for a gunicorn started with ``deploy/gunicorn.conf.py``.

Importing this module imports the application's code and builds nothing. With
``preload_app`` the arbiter imports it once and every worker shares those pages;
each worker then builds its own app (database pool, Redis clients, job runner
threads) after the fork, so no connection or thread crosses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import pastefile.composition  # noqa: F401 - imported so that preloading shares it
from pastefile.web.app import create_worker_app  # every web module, for the same reason

StartResponse = Callable[..., Any]


class LazyApp:
    """A WSGI callable that builds the Flask app in the process that first uses it."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = create_worker_app()
        return self._app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        app = self._app or self.load()
        return app(environ, start_response)  # type: ignore[no-any-return]


application = LazyApp()
