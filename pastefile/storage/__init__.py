"""Blob storage: bytes addressed by their sha256, behind one interface."""

from __future__ import annotations

from urllib.parse import urlparse

from pastefile.storage.base import BlobWriter, Storage
from pastefile.storage.local import LocalStorage

__all__ = ["BlobWriter", "LocalStorage", "Storage", "storage_from_url"]


def storage_from_url(url: str) -> Storage:
    """Pick the backend named by ``PASTEFILE_STORAGE_URL``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r} in {url!r}")
