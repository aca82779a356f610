"""``pastefile report`` and ``pastefile logstats`` (docs/stats.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pastefile.stats.counting import today

if TYPE_CHECKING:
    from pastefile.services import Services


def _services() -> Services:
    from pastefile.cli import _settings
    from pastefile.services import build_services

    return build_services(_settings())


@click.command()
@click.option(
    "--period", type=click.Choice(["daily", "weekly"]), default="weekly", show_default=True
)
@click.option("--to", "to", multiple=True, help="a recipient; repeat for more (none: keep only)")
def report(period: str, to: tuple[str, ...]) -> None:
    """Build the PV/UV report (HTML + .xlsx), keep it, and mail it to --to."""
    from pastefile.stats.reports import make_report
    from pastefile.stats.store import make_store

    services = _services()
    settings = services.settings
    try:
        store = make_store(services.db, settings.redis_url, settings.stats_redis_prefix)
        made = make_report(
            settings, services.db, services.storage, store, period, list(to), today()
        )
    except OSError as exc:  # smtplib's errors are OSErrors
        raise click.ClickException(f"the report was kept but not mailed: {exc}") from None
    finally:
        services.close()
    sent = f", mailed to {', '.join(to)}" if to else ""
    click.echo(
        f"report {made.id}: {made.start_day} to {made.end_day}, {made.size} bytes "
        f"(sha256 {made.sha256}){sent}"
    )


def register(main: click.Group) -> None:
    main.add_command(report)
