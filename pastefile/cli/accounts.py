"""``pastefile create-user``, ``sweep`` and ``gc``: accounts, expiry and leftovers."""

from __future__ import annotations

import click

from pastefile.cli.settings import services as build
from pastefile.errors import PasteFileError
from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER


@click.command("create-user")
@click.argument("username")
@click.option("--admin", is_flag=True, help="give every permission (0xff)")
@click.password_option(help="prompted for when not given")
def create_user(username: str, admin: bool, password: str) -> None:
    """Create an account; `--admin` bootstraps the first administrator."""
    services = build()
    try:
        user = services.accounts.create_user(username, password, ROLE_ADMIN if admin else ROLE_USER)
    except PasteFileError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        services.close()
    click.echo(f"created {'admin' if admin else 'user'} {user.username} (id {user.id})")


@click.command()
def sweep() -> None:
    """Delete expired and used-up files (their links already answer 410), and
    expired resumable uploads with their partial bytes."""
    services = build()
    try:
        removed = services.access.sweep()
        uploads = services.tus.expire()
    finally:
        services.close()
    click.echo(f"swept {removed} file(s) and {uploads} abandoned upload(s)")


@click.command()
def gc() -> None:
    """Remove what crashes leave behind, past PASTEFILE_GC_GRACE_SECONDS: stale temp
    files, blobs nothing references and bytes without a row (the periodic `gc` job's work)."""
    from pastefile.jobs.maintenance import collect_garbage

    services = build()
    try:
        removed = collect_garbage(services)
    finally:
        services.close()
    click.echo(
        f"removed {removed['temp_files']} temp file(s), {removed['orphan_blobs']} "
        f"unreferenced blob(s) and {removed['stray_objects']} stray object(s)"
    )
