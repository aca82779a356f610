"""Blob storage: bytes addressed by their sha256, behind one interface."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pastefile.storage.base import BlobWriter, Storage
from pastefile.storage.local import LocalStorage

if TYPE_CHECKING:
    from pastefile.storage.s3 import S3Options

__all__ = ["BlobWriter", "LocalStorage", "Storage", "storage_from_url"]


def storage_from_url(url: str, s3: S3Options | None = None) -> Storage:
    """Pick the backend named by ``PASTEFILE_STORAGE_URL``: ``file://…`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    if parsed.scheme == "s3" and parsed.netloc:
        from pastefile.storage.s3 import S3Storage

        return S3Storage(parsed.netloc, parsed.path, s3)
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r} in {url!r}")
