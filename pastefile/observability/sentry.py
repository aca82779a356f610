"""Sentry error reporting, only when ``PASTEFILE_SENTRY_DSN`` is set."""

from __future__ import annotations

from pastefile.config import Settings


def init_sentry(settings: Settings) -> bool:
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.app_env,
        integrations=[FlaskIntegration()],
        traces_sample_rate=0.0,
    )
    return True
