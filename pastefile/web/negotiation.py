"""Who is asking: a browser gets pages, every other client gets JSON."""

from __future__ import annotations

from flask import request


def wants_html() -> bool:
    """True when the client prefers HTML over JSON (browsers do; curl does not)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]
    )
