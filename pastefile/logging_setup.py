"""Log format and handlers, shared by the web app, workers and the CLI.

Every line carries time, level, path, line, pid, thread and the request id,
so one request can be followed through the access and error logs.
"""

from __future__ import annotations

import contextvars
import logging
import logging.handlers
from pathlib import Path

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

FORMAT = (
    "%(asctime)s %(levelname)s %(pathname)s:%(lineno)d "
    "pid=%(process)d thread=%(threadName)s rid=%(request_id)s %(message)s"
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO", log_dir: Path | None = None) -> None:
    """Send everything to stderr, and with ``log_dir`` also to access/error files."""
    root = logging.getLogger()
    if getattr(root, "_pastefile_configured", False):
        return
    formatter = logging.Formatter(FORMAT)
    console = logging.StreamHandler()
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        errors = logging.handlers.WatchedFileHandler(log_dir / "error.log")
        errors.setLevel(logging.WARNING)
        handlers.append(errors)
        access = logging.handlers.WatchedFileHandler(log_dir / "access.log")
        access.addFilter(lambda record: record.name == "pastefile.access")
        handlers.append(access)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    root._pastefile_configured = True  # type: ignore[attr-defined]
