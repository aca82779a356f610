"""Rate limits with Flask-Limiter: per token, else per client IP.

In memory by default; on Redis when ``PASTEFILE_REDIS_URL`` is set, so every
worker and node shares the counts.
"""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from pastefile.web.context import PasteFileApp


def rate_key() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # Keyed by a digest, so the token itself never reaches the limiter's storage.
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "-")


def build_limiter(app: PasteFileApp) -> Limiter:
    settings = app.services.settings
    limiter = Limiter(
        rate_key,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix="pastefile-rl",
        # A rate-limit store that is down must not take the service down with it.
        swallow_errors=True,
    )
    app.limiter = limiter
    from pastefile.web.api import bp

    # One budget for the whole API per caller, not one per endpoint.
    limiter.shared_limit(lambda: settings.api_rate_limit, scope="api_v1")(bp)
    return limiter
