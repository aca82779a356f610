"""pf: the command-line client of pastefile."""

__version__ = "0.1.0"
