"""Run the app under gunicorn from ``pastefile serve`` in production."""

from __future__ import annotations

import multiprocessing
from typing import Any

from gunicorn.app.base import BaseApplication


class _PasteFileGunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app, so no pool or file handle crosses a fork.
        from pastefile.web import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int | None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or multiprocessing.cpu_count() * 2 + 1,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
    }
    _PasteFileGunicorn(options).run()
