"""The running app and what it holds, typed: the one way web code reaches the services.

``create_app`` builds a ``PasteFileApp``; every module asks ``services()`` or
``base_url()`` instead of reading ``app.extensions``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from flask import Flask, current_app, request
from werkzeug.sansio.utils import get_current_url

from pastefile.composition import Services


class PasteFileApp(Flask):
    """Flask with the process's ``Services`` as an attribute."""

    services: Services

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_funcs: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks this of every hook and view on every request; the answer for a
        # function never changes, and asking inspect each time showed in the profile.
        wrapped = self._sync_funcs.get(func)
        if wrapped is None:
            wrapped = self._sync_funcs[func] = super().ensure_sync(func)
        return wrapped


def app() -> PasteFileApp:
    return cast(PasteFileApp, current_app)


def services() -> Services:
    return app().services


def base_url() -> str:
    """Where links point: the configured base URL, else the host the request came to."""
    configured = services().settings.base_url
    if configured:
        return configured
    return _host_url(request.scheme, request.host)


@functools.lru_cache(maxsize=64)
def _host_url(scheme: str, host: str) -> str:
    # Building it (IDNA and quoting) showed in a short link's profile; bounded, since the
    # Host header is the client's to choose.
    return get_current_url(scheme, host).rstrip("/")
