"""Per-request plumbing: request ids, the access log, security headers, cleanup."""

from __future__ import annotations

import logging
import os
import re
import time
from urllib.parse import urlencode

from flask import Flask, Response, g, request

from pastefile.logging_setup import request_id_var
from pastefile.web.streaming import open_writers

access_log = logging.getLogger("pastefile.access")
# The app's own HTML pages: scripts and styles from this site only, no inline
# script, nothing framed or posted elsewhere. Uploaded bytes get the stricter
# sandbox of web/serving.py instead. An encrypted file's card (static/e2e/) frames its
# decrypted preview from a blob: URL (the frame itself is sandboxed, without scripts)
# and saves through a service worker from /static/e2e/.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "frame-src 'self' blob:; worker-src 'self'; "
    "object-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
# Query parameters whose values must never reach a log file.
_SECRET_PARAMS = frozenset({"access_token", "token", "password", "api_key", "key"})
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_ACCESS_FORMAT = '%s "%s %s" %s %s %.1fms "%s"'


def init_middleware(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_cleanup)


def _start() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    # fullmatch: "$" would let a trailing newline into the header and the logs.
    rid = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
    g.request_id = rid
    g.started = time.perf_counter()
    g.request_id_token = request_id_var.set(rid)


def _finish(response: Response) -> Response:
    headers = response.headers
    # One pass over the headers instead of a lookup (and werkzeug's KeyError) per header.
    present = {key.lower() for key, _ in headers.items()}
    headers.set("X-Request-Id", g.get("request_id", "-"))
    headers.set("X-Content-Type-Options", "nosniff")
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "strict-origin-when-cross-origin")
    if "x-frame-options" not in present:
        headers.add("X-Frame-Options", "SAMEORIGIN")
    if "content-security-policy" not in present and response.mimetype == "text/html":
        headers.add("Content-Security-Policy", PAGE_CSP)
    if access_log.isEnabledFor(logging.INFO):
        _log_access(response)
    return response


def elapsed() -> float:
    """Seconds since this request's first hook (the latency the metrics and log record)."""
    started: float = g.get("started", time.perf_counter())
    return time.perf_counter() - started


def _log_access(response: Response) -> None:
    elapsed_ms = elapsed() * 1000
    args = (
        request.remote_addr,
        request.method,
        _logged_path(),
        response.status_code,
        response.content_length if response.content_length is not None else "-",
        elapsed_ms,
        request.environ.get("HTTP_USER_AGENT", ""),
    )
    # Built by hand: the line always comes from here, so logging's walk up the stack
    # to find its caller (a good part of an access line's cost) is skipped.
    record = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, _ACCESS_LINE, _ACCESS_FORMAT, args, None
    )
    access_log.handle(record)


_ACCESS_LINE = _log_access.__code__.co_firstlineno  # the path:line every access line shows


def _logged_path() -> str:
    """The request path for the access log, with credentials in the query masked."""
    if not request.query_string:
        return request.path
    pairs = [
        (key, "[redacted]" if key.lower() in _SECRET_PARAMS else value)
        for key, value in request.args.items(multi=True)
    ]
    return f"{request.path}?{urlencode(pairs)}"


def _cleanup(_exc: BaseException | None) -> None:
    # Aborting is a no-op for writers that were committed.
    for writer in open_writers(g):
        writer.abort()
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)
