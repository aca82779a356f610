"""``pastefile rpc``: the Thrift service, registered on the main command."""

from __future__ import annotations

import click

from pastefile.cli.settings import settings
from pastefile.rpc import DEFAULT_PORT


@click.command("rpc")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def rpc(host: str, port: int) -> None:
    """Run the Thrift RPC service (the PasteFile IDL) on the service layer."""
    from pastefile.rpc.server import run

    run(settings(), host, port)
