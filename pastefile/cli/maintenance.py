"""``pastefile check``, ``backup`` and ``restore``: keeping what was stored.

Each shows a progress bar on a terminal (tqdm writes to stderr, and stays
quiet when stderr is not a terminal) and prints a summary at the end.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from tqdm import tqdm

from pastefile.cli.settings import services as _services


def _bar(label: str, unit: str = "B") -> Any:
    return tqdm(
        desc=label,
        total=0,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    )


@click.command("check")
@click.option(
    "--repair", is_flag=True, help="quarantine corrupt bytes, mark damaged files, drop orphans"
)
@click.option(
    "--rate", default=0, type=int, help="read at most this many bytes/s (0: as fast as it goes)"
)
def check(repair: bool, rate: int) -> None:
    """Re-hash every stored blob and compare storage with the database."""
    services = _services()
    with _bar("scrub") as bar:

        def total(size: int) -> None:
            bar.total = size
            bar.refresh()

        report = services.scrub.run(repair=repair, rate=rate, advance=bar.update, on_total=total)
    summary = report.as_dict()
    mib_s = report.bytes / 1048576 / report.seconds if report.seconds else 0.0
    click.echo(
        f"checked {report.checked} blob(s), {report.bytes} bytes in {report.seconds:.1f}s "
        f"({mib_s:.1f} MiB/s)"
    )
    for kind in ("corrupt", "missing", "orphans", "sourceless_variants"):
        click.echo(f"  {kind.replace('_', ' ')}: {summary[kind]}")
        for example in summary["examples"][kind]:
            click.echo(f"    {example}")
    if repair:
        click.echo("repaired: " + ", ".join(f"{k} {v}" for k, v in report.repaired.items()))
    if report.problems and not repair:
        click.echo("run `pastefile check --repair` to fix what can be fixed")
    services.close()
    sys.exit(1 if report.problems and not repair else 0)
