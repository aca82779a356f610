"""Blob storage: bytes addressed by their sha256, behind one interface."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pastefile.storage.base import BlobWriter, Storage
from pastefile.storage.local import LocalStorage

if TYPE_CHECKING:
    from pastefile.config import Settings
    from pastefile.storage.s3 import S3Options

__all__ = [
    "BlobWriter",
    "LocalStorage",
    "Storage",
    "s3_options_from_settings",
    "storage_from_settings",
    "storage_from_url",
]


def storage_from_settings(settings: Settings) -> Storage:
    """The storage the settings name; boto3 is only imported for S3."""
    s3 = s3_options_from_settings(settings) if settings.storage_url.startswith("s3:") else None
    return storage_from_url(settings.storage_url, s3)


def s3_options_from_settings(settings: Settings) -> S3Options:
    """How to reach S3 (the blob storage's, and backups' on S3)."""
    from pastefile.storage.s3 import S3Options

    return S3Options(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        presigned_downloads=settings.s3_presigned_downloads,
        presign_seconds=settings.s3_presign_seconds,
    )


def storage_from_url(url: str, s3: S3Options | None = None) -> Storage:
    """Pick the backend named by ``PASTEFILE_STORAGE_URL``: ``file://…`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    if parsed.scheme == "s3" and parsed.netloc:
        from pastefile.storage.s3 import S3Storage

        return S3Storage(parsed.netloc, parsed.path, s3)
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r} in {url!r}")
