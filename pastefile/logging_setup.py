"""Log format and handlers, shared by the web app, workers and the CLI.

Every line carries time, level, path, line, pid, thread and the request id,
so one request can be followed through the access and error logs.
"""

from __future__ import annotations

import contextvars
import logging
import logging.handlers
import os
from pathlib import Path

import orjson

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

FORMAT = (
    "%(asctime)s %(levelname)s %(pathname)s:%(lineno)d "
    "pid=%(process)d thread=%(threadName)s rid=%(request_id)s %(message)s"
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class LineFormatter(logging.Formatter):
    """The text format, made once per record however many handlers write it."""

    def format(self, record: logging.LogRecord) -> str:
        line: str | None = record.__dict__.get("_pastefile_line")
        if line is None:
            line = record._pastefile_line = super().format(record)  # type: ignore[attr-defined]
        return line


class JsonFormatter(LineFormatter):
    """One JSON object per line, with the same fields as the text format."""

    def _fields(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "path": record.pathname,
            "line": record.lineno,
            "pid": record.process,
            "thread": record.threadName,
            "request_id": getattr(record, "request_id", "-"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()

    def format(self, record: logging.LogRecord) -> str:
        line: str | None = record.__dict__.get("_pastefile_line")
        if line is None:
            line = record._pastefile_line = self._fields(record)  # type: ignore[attr-defined]
        return line


def configure_logging(
    level: str = "INFO", log_dir: Path | None = None, json_lines: bool | None = None
) -> None:
    """Send everything to stderr, and with ``log_dir`` also to access/error files.

    ``json_lines`` (``PASTEFILE_LOG_JSON=1``; read from the environment when None)
    writes one JSON object per line instead of the text format.
    """
    root = logging.getLogger()
    if getattr(root, "_pastefile_configured", False):
        return
    if json_lines is None:
        json_lines = os.environ.get("PASTEFILE_LOG_JSON", "").lower() in ("1", "true", "yes")
    formatter = JsonFormatter() if json_lines else LineFormatter(FORMAT)
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
