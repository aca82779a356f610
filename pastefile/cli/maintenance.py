"""``pastefile check``, ``backup`` and ``restore``: keeping what was stored.

Each shows a progress bar on a terminal (tqdm writes to stderr, and stays
quiet when stderr is not a terminal) and prints a summary at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from pastefile.cli.settings import services as _services
from pastefile.errors import PasteFileError
from pastefile.services.backup import Summary


def _bar(label: str, unit: str = "B", total: int | None = None) -> Any:
    return tqdm(
        desc=label,
        total=total,
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


class _Bars:
    """One bar per stage of a backup or restore (the Progress the services ask for)."""

    def __init__(self) -> None:
        self.bar: Any = None

    def stage(self, label: str, total: int, unit: str) -> Callable[[int], None]:
        self.close()
        self.bar = _bar(label, unit, total)
        return self.bar.update  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB"


def _report(action: str, summary: Summary, seconds: float) -> None:
    blobs = summary.blobs
    rows = sum(summary.tables.values())
    click.echo(f"{action} {summary.snapshot} (schema {summary.revision}) in {seconds:.1f}s")
    click.echo(f"  rows: {rows} in {len(summary.tables)} tables")
    for name, count in summary.tables.items():
        if count:
            click.echo(f"    {name}: {count}")
    click.echo(
        f"  blobs: {blobs.count} ({_mib(blobs.bytes)}); copied {blobs.copied} "
        f"({_mib(blobs.copied_bytes)}), the rest were there already"
    )
    for kind, shas in (("missing", blobs.missing), ("corrupt", blobs.corrupt)):
        if shas:
            click.echo(f"  warning: {len(shas)} blob(s) {kind}, e.g. {shas[0]}", err=True)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup(dest: Path) -> None:
    """Snapshot the database and the blobs it names into the folder DEST (incremental)."""
    services = _services()
    bars = _Bars()
    started = time.monotonic()
    try:
        summary = services.backup.run(dest, bars)
    finally:
        bars.close()
        services.close()
    _report("backed up to", summary, time.monotonic() - started)


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(src: Path) -> None:
    """Restore the backup SRC (a backup folder or one snapshot) into this empty instance."""
    services = _services()
    bars = _Bars()
    started = time.monotonic()
    try:
        summary = services.restore.run(src, bars)
    except PasteFileError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        bars.close()
        services.close()
    _report("restored", summary, time.monotonic() - started)


@click.command("backfill-crc32")
def backfill_crc32() -> None:
    """Compute the CRC-32 of blobs stored before it was kept (collections' zips need it).

    Safe to run while serving, and again: only blobs without one are read. A zip
    also computes a missing CRC-32 on first use.
    """
    services = _services()
    done, unreadable = services.blobs.backfill_crc32()
    click.echo(f"computed the CRC-32 of {done} blob(s); {unreadable} had no bytes")
    services.close()
    sys.exit(1 if unreadable else 0)
