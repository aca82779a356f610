"""The Flask adapter: pages and routes over the service layer (factory: app.py)."""

from pastefile.web.app import create_app

__all__ = ["create_app"]
