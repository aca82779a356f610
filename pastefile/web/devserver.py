"""``pastefile serve`` in development: Werkzeug's server, saying less about itself.

It sends no ``Server: Werkzeug/… Python/…`` banner, and writes no access line of
its own: the app's access log (``pastefile.access``) already has one per request,
with credentials in the query redacted.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import WSGIRequestHandler


class QuietHandler(WSGIRequestHandler):
    def version_string(self) -> str:
        return "pastefile"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None  # the app's own access line, redacted, is the record


def run_development_server(app: Flask, host: str, port: int, debug: bool) -> None:
    app.run(host=host, port=port, threaded=True, debug=debug, request_handler=QuietHandler)
