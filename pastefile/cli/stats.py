"""``pastefile report`` and ``pastefile logstats`` (docs/stats.md)."""

from __future__ import annotations

import click

from pastefile.cli.settings import services as _services
from pastefile.stats.counting import today


@click.command()
@click.option(
    "--period", type=click.Choice(["daily", "weekly"]), default="weekly", show_default=True
)
@click.option("--to", "to", multiple=True, help="a recipient; repeat for more (none: keep only)")
def report(period: str, to: tuple[str, ...]) -> None:
    """Build the PV/UV report (HTML + .xlsx), keep it, and mail it to --to."""
    from pastefile.stats.reports import make_report

    services = _services()
    settings = services.settings
    try:
        made = make_report(
            settings, services.db, services.blobs, services.stats_store, period, list(to), today()
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


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "since", default="0000-00-00", help="first day, YYYY-MM-DD")
@click.option("--to", "until", default="9999-12-31", help="last day, YYYY-MM-DD")
@click.option("--processes", "-j", type=int, default=None, help="default: one per CPU")
@click.option("--chunk-mb", type=int, default=8, show_default=True, help="task size, plain")
@click.option("--top", type=int, default=20, show_default=True)
def logstats(
    files: tuple[str, ...], since: str, until: str, processes: int | None, chunk_mb: int, top: int
) -> None:
    """PV/UV per route and per file from access logs (ours or nginx combined; .gz, .bz2)."""
    import time

    from pastefile.stats.logstats import analyse, table

    started = time.perf_counter()
    result = analyse(list(files), since, until, processes, chunk_mb * 1024 * 1024)
    seconds = time.perf_counter() - started
    for kind in ("route", "file"):
        click.echo(f"{'PV':>10} {'UV':>8}  {kind}")
        for name, pv, uv in table(result, kind, top):
            click.echo(f"{pv:>10} {uv:>8}  {click.style(name, bold=False)}")
        click.echo("")
    click.echo(
        f"{result.lines} lines ({result.malformed} malformed, skipped; {result.outside} "
        f"outside {since}..{until}) in {seconds:.2f} s: {result.lines / seconds:,.0f} lines/s"
    )
