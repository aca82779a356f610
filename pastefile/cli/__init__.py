"""The ``pastefile`` command: a thin adapter over the service layer."""

from pastefile.cli.main import main

__all__ = ["main"]
