"""The Flask adapter: pages and routes over the service layer."""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from pastefile.composition import Services, build_services
from pastefile.config import Settings, load_settings
from pastefile.logging_setup import configure_logging
from pastefile.web.context import PasteFileApp
from pastefile.web.middleware import install_middleware
from pastefile.web.problems import register_error_handlers
from pastefile.web.requests import StreamingRequest
from pastefile.web.stats import install_stats

# Room for the multipart envelope around a file of exactly the size limit.
MULTIPART_OVERHEAD = 1024 * 1024


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
    )
    app.services = services or build_services(settings)

    from pastefile.web.views import bp

    app.register_blueprint(bp)
    from pastefile.web.api import install_api

    install_api(app)
    from pastefile.web.jobs_api import init_jobs

    init_jobs(app)
    install_stats(app)
    from pastefile.web.ui import install_ui

    install_ui(app)
    from pastefile.observability.web import install_observability

    install_observability(app)  # /healthz, /readyz, /metrics, Sentry
    register_error_handlers(app)
    install_middleware(app)
    if settings.trusted_proxies:
        # Only the last N hops of X-Forwarded-* are believed (deploy/nginx.conf sets them);
        # a client's own X-Forwarded-For never becomes remote_addr.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app
