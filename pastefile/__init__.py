"""pastefile: a self-hostable file and image hosting service."""

__version__ = "0.1.0"
