"""The ``pastefile`` command group: every command is registered at the end of this module.

A command's module, and the database and service code behind it, is imported only when
that command runs: ``pastefile worker``'s main process stays as small as Celery's own.
"""

from __future__ import annotations

import code
import importlib
import sys
from typing import TYPE_CHECKING, Any

import click

from pastefile.cli.settings import build, services
from pastefile.cli.settings import settings as _settings
from pastefile.errors import NotReady

if TYPE_CHECKING:
    from pastefile.composition import Services

_MISSING_SCHEMA = ("no such table", "doesn't exist", "does not exist")


class _Commands(click.Group):
    """Loads each command's module on first use; turns database errors every command can
    hit into one clear sentence."""

    lazy: dict[str, str] = {}  # command name -> "module:attribute" under pastefile.cli

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(f"pastefile.cli.{module}"), attribute))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotReady as exc:
            raise click.ClickException(exc.detail) from None
        except Exception as exc:
            _explain_database_error(exc)
            raise


def _explain_database_error(exc: Exception) -> None:
    """Raise a ``ClickException`` for a database error a user can act on."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")  # not loaded: not a database error
    if sqlalchemy_exc is None or not isinstance(exc, sqlalchemy_exc.DBAPIError):
        return
    message = str(exc.orig).lower()
    if any(marker in message for marker in _MISSING_SCHEMA):
        raise click.ClickException(
            "the database has no pastefile tables yet: run `pastefile db upgrade`"
        ) from None
    if exc.connection_invalidated or isinstance(exc, sqlalchemy_exc.OperationalError):
        raise click.ClickException(f"cannot use the database: {exc.orig}") from None


@click.group(cls=_Commands)
def main() -> None:
    """pastefile: self-hosted file and image hosting."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers (production)")
@click.option("--migrate/--no-migrate", default=None, help="run migrations first")
def serve(host: str, port: int, workers: int | None, migrate: bool | None) -> None:
    """Run the web service: Werkzeug in development, gunicorn in production."""
    settings = _settings()
    services = build(settings)
    # The embedded SQLite database migrates itself so `make run` just works;
    # shared databases are migrated on purpose, once, with `db upgrade`.
    if migrate or (migrate is None and services.db.is_sqlite):
        migrate_module_upgrade(services)
    try:
        services.health.require_ready()  # say so now, not with a 500 at the first request
    finally:
        services.close()
    if settings.app_env == "production":
        from pastefile.gunicorn_app import run_gunicorn

        run_gunicorn(host, port, workers)
        return
    from pastefile.web import create_app
    from pastefile.web.devserver import run_development_server

    click.echo(
        f"pastefile ({settings.app_env}) on http://{host}:{port}/  data: {settings.data_dir}"
    )
    run_development_server(create_app(settings), host, port, settings.debug)


def migrate_module_upgrade(services: Services) -> None:
    from pastefile.db import migrate

    migrate.upgrade(services.db)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations up to REVISION (default: every head)."""
    from pastefile.db import migrate

    built = services()
    migrate.upgrade(built.db, revision)
    click.echo(f"database at {revision}: {built.db.url.render_as_string(hide_password=True)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert the schema to REVISION."""
    from pastefile.db import migrate

    migrate.downgrade(services().db, revision)


@main.command("get-file")
@click.argument("sha256")
def get_file(sha256: str) -> None:
    """Print the file's URL for a content hash, or 'Not exists'."""
    settings = _settings()
    found = build(settings).files.find_by_sha256(sha256)
    if found is None:
        click.echo("Not exists")
        sys.exit(1)
    from pastefile.services.links import build_links

    click.echo(build_links(found, settings.base_url or "http://localhost:5000").url_i)


@main.command()
@click.argument("public_id")
def delete(public_id: str) -> None:
    """Delete a file by its public id; the bytes go with the last reference."""
    from pastefile.errors import NotFound

    try:
        services().files.delete(public_id)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"deleted {public_id}")


@main.command("cleanup-temp")
def cleanup_temp() -> None:
    """Remove temp files left by uploads that never finished."""
    settings = _settings()
    removed = build(settings).storage.cleanup_temp(settings.temp_max_age_seconds)
    click.echo(f"removed {removed} stale temp file(s)")


@main.command()
def shell() -> None:
    """A Python shell with `services`, `settings` and the models loaded."""
    from pastefile.db import models

    settings = _settings()
    namespace: dict[str, Any] = {
        "settings": settings,
        "services": build(settings),
        "models": models,
    }
    banner = f"pastefile shell ({settings.app_env}); names: {', '.join(namespace)}"
    code.interact(banner=banner, local=namespace)


_Commands.lazy = {
    "rpc": "rpc:rpc",
    "worker": "jobs:worker",
    "beat": "jobs:beat",
    "create-user": "accounts:create_user",
    "sweep": "accounts:sweep",
    "gc": "accounts:gc",
    "report": "stats:report",
    "logstats": "stats:logstats",
    "check": "maintenance:check",
    "backup": "maintenance:backup",
    "restore": "maintenance:restore",
    "backfill-crc32": "maintenance:backfill_crc32",
}
