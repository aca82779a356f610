"""``pastefile rpc``: the Thrift service, registered on the main command."""

from __future__ import annotations

import click

from pastefile.rpc import DEFAULT_PORT


@click.command("rpc")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def rpc(host: str, port: int) -> None:
    """Run the Thrift RPC service (the book's chapter 10) on the service layer."""
    # Imported here: pastefile.cli imports this module while it is still loading.
    from pastefile.cli import _settings
    from pastefile.rpc.server import run

    run(_settings(), host, port)
