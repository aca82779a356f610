"""The app factory: every blueprint and every extension of the web adapter, in one place."""

from __future__ import annotations

import os
import sys
import time

from flask import Blueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from pastefile.composition import Services, build_services
from pastefile.config import Settings, load_settings
from pastefile.errors import NotReady
from pastefile.logging_setup import configure_logging
from pastefile.web import middleware, oauth, ops
from pastefile.web.api import blueprints as api
from pastefile.web.api import collections as api_collections
from pastefile.web.api import events as api_events
from pastefile.web.api import files as api_files
from pastefile.web.api import jobs as api_jobs
from pastefile.web.api import openapi as api_docs
from pastefile.web.api import requests as api_requests
from pastefile.web.api import stats as api_stats
from pastefile.web.api import tokens as api_tokens
from pastefile.web.api import tus as api_uploads
from pastefile.web.api import users as api_users
from pastefile.web.api import webhooks as api_webhooks
from pastefile.web.api.ratelimit import limit_api, limit_logins
from pastefile.web.auth import SessionCookies, protect_session_changes
from pastefile.web.context import PasteFileApp
from pastefile.web.counting import init_counting
from pastefile.web.i18n import init_i18n
from pastefile.web.problems import register_error_handlers
from pastefile.web.public import collections, file_requests, files, preview, resize, short, upload
from pastefile.web.streaming import StreamingRequest
from pastefile.web.ui import (
    account,
    admin,
    dashboards,
    device,
    help,
    jobs,
    language,
    my_files,
    notifications,
    templating,
)
from pastefile.web.ui import file_requests as request_pages

# Room for the multipart envelope around a file of exactly the size limit.
MULTIPART_OVERHEAD = 1024 * 1024

# The REST API (/api/v1): one rate-limit budget and the behaviour of api/blueprints.py.
REST_API: tuple[Blueprint, ...] = (
    api_files.bp,
    api_collections.bp,
    api_tokens.bp,
    api_users.bp,
    api_stats.bp,
    api_uploads.bp,
    api_webhooks.bp,
    api_requests.bp,
    api_docs.bp,
)


def _ready_services(settings: Settings) -> Services:
    """A server's own parts, refused before the first request when one is not usable."""
    built = build_services(settings)
    try:
        built.health.require_ready()
    except Exception:
        built.close()
        raise
    return built


def create_worker_app() -> PasteFileApp:
    """The app a server's worker serves, whichever way gunicorn was started.

    The server refused to start unless everything was ready (`pastefile serve`), or a
    load balancer reads `/readyz`. A worker that starts later (a recycled or crashed
    one) while the database, the storage or the broker is away must not stop the
    whole server, as gunicorn does when a worker fails to boot, nor leave requests
    waiting for a worker: it serves, and what needs the missing part answers 503
    until it is back. If even that app cannot be built, the worker exits after a
    pause so gunicorn starts another (exit 1, never its halting boot error).
    """
    try:
        return create_app()
    except NotReady as exc:
        print(f"worker {os.getpid()} starts without: {exc.detail}", file=sys.stderr)
    try:
        return create_app(services=build_services(load_settings()))
    except Exception as exc:
        print(f"worker {os.getpid()} exits to be replaced: {exc!r}", file=sys.stderr)
        time.sleep(2.0)
        raise SystemExit(1) from exc


def create_app(settings: Settings | None = None, services: Services | None = None) -> PasteFileApp:
    """The app factory. Tests pass their own settings; servers read the env."""
    settings = settings or (services.settings if services else load_settings())
    configure_logging(settings.log_level, settings.log_dir, settings.log_json)
    app = PasteFileApp(__name__)
    app.request_class = StreamingRequest
    app.config.update(
        SECRET_KEY=settings.secret_key,
        DEBUG=settings.debug,
        TESTING=settings.app_env == "testing",
        MAX_CONTENT_LENGTH=int(settings.max_upload_size) + MULTIPART_OVERHEAD,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        MAX_FORM_PARTS=32,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    app.session_interface = SessionCookies()
    app.services = services or _ready_services(settings)

    # The public contract: upload, bytes, preview, short links, resize.
    app.register_blueprint(upload.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(short.bp)
    app.register_blueprint(collections.bp)
    app.register_blueprint(resize.bp)
    app.register_blueprint(file_requests.bp)
    # The REST API and the job API.
    for blueprint in REST_API:
        app.register_blueprint(blueprint)
    app.register_blueprint(api_jobs.bp)
    app.register_blueprint(api_events.bp)
    # OAuth 2.0's device flow for clients without a browser (RFC 8628).
    app.register_blueprint(oauth.bp)
    # The browser's pages.
    app.register_blueprint(account.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(my_files.bp)
    app.register_blueprint(device.bp)
    app.register_blueprint(request_pages.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboards.bp)
    app.register_blueprint(help.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(language.bp)
    app.register_blueprint(templating.bp)
    # Operations: /healthz, /readyz, /metrics.
    app.register_blueprint(ops.bp)

    limit_api(app, (*REST_API, api_jobs.bp, oauth.bp))
    limit_logins(app, account.bp, account.LIMITED)
    app.before_request(api.no_upload_fallthrough)
    app.before_request(protect_session_changes)
    _init_jobs(app)
    init_counting(app, app.services.stats_recorder, settings.stats_enabled)
    init_i18n(app)
    templating.init_templating(app)
    api_events.sock.init_app(app)  # its route is on api_events.bp, registered above
    ops.init_observability(app, settings)
    register_error_handlers(app)
    middleware.init_middleware(app)
    if settings.trusted_proxies:
        # Only the last N hops of X-Forwarded-* are believed (deploy/nginx.conf sets them);
        # a client's own X-Forwarded-For never becomes remote_addr.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


def _init_jobs(app: PasteFileApp) -> None:
    """Each request's job session ends with it; the in-process runner starts unless testing."""
    jobs = app.services.jobs
    app.teardown_appcontext(lambda _exc: jobs.sessions.remove())
    if app.services.settings.app_env != "testing":
        jobs.start()
