"""Content negotiation: a browser gets pages, every other client gets JSON."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request

# Accept headers that can never prefer HTML: curl's, and what API clients send.
_NOT_HTML = frozenset({"", "*/*", "application/json"})


def wants_html() -> bool:
    """True when the client prefers HTML over JSON (browsers do; curl does not)."""
    if request.environ.get("HTTP_ACCEPT", "").strip().lower() in _NOT_HTML:
        return False  # the common answer, without parsing the header
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]
    )


def json_response(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=mimetype)
