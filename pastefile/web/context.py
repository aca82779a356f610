"""The running app and what it holds, typed: the one way web code reaches the services.

``create_app`` builds a ``PasteFileApp``; every module asks ``services()`` or
``base_url()`` instead of reading ``app.extensions``.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, request

from pastefile.composition import Services


class PasteFileApp(Flask):
    """Flask with the process's ``Services`` as an attribute."""

    services: Services


def app() -> PasteFileApp:
    return cast(PasteFileApp, current_app)


def services() -> Services:
    return app().services


def base_url() -> str:
    """Where links point: the configured base URL, else the host the request came to."""
    return services().settings.base_url or request.host_url.rstrip("/")
