"""gunicorn server hooks for Prometheus multiprocess mode.

``deploy/gunicorn.conf.py`` imports ``child_exit`` from here. This module
defines no metric, so importing it in the arbiter creates no metric files.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges (``PROMETHEUS_MULTIPROC_DIR`` only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
