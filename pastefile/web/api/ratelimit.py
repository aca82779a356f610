"""Rate limits with Flask-Limiter: per token, else per client IP.

In memory by default; on Redis when ``PASTEFILE_REDIS_URL`` is set, so every
worker and node shares the counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from flask import Blueprint, Flask
from flask.typing import RouteCallable
from flask_limiter import Limiter

from pastefile.config import Settings
from pastefile.ratelimit import storage_uri
from pastefile.web.auth import rate_key


def build_limiter(app: Flask, settings: Settings) -> Limiter:
    return Limiter(
        rate_key,
        app=app,
        storage_uri=storage_uri(settings),  # where the service layer's limiter counts too
        headers_enabled=True,
        strategy="fixed-window",
        # Deployments that share a Redis keep their counts apart, as they do their cache.
        key_prefix=f"{settings.cache_prefix}:rl",
        # A rate-limit store that is down must not take the service down with it.
        swallow_errors=True,
    )


def limit_api(limiter: Limiter, settings: Settings, blueprints: Iterable[Blueprint]) -> None:
    """One budget for the whole API per caller, not one per endpoint or blueprint."""
    shared = limiter.shared_limit(lambda: settings.api_rate_limit, scope="api_v1")
    for bp in blueprints:
        shared(bp)


def limit_logins(
    app: Flask, limiter: Limiter, settings: Settings, endpoints: Iterable[str]
) -> None:
    """Guessing passwords at the login and register forms costs a try each POST."""
    limit = limiter.limit(lambda: settings.login_rate_limit, methods=["POST"])
    for endpoint in endpoints:
        app.view_functions[endpoint] = cast(RouteCallable, limit(app.view_functions[endpoint]))
