"""A backup on S3: ``s3://bucket/prefix`` holds ``blobs/``, ``snapshots/`` and ``LATEST``.

Blobs go through the S3 blob storage itself (streaming multipart, content-addressed
keys, nothing half-written visible), under ``prefix/blobs``. A snapshot is staged
in a local temporary folder, uploaded file by file with its manifest last, and
only then named by ``LATEST``: a restore never starts from half a snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from pastefile.errors import InvalidInput
from pastefile.services.backup_places.base import (
    LATEST,
    MANIFEST,
    SNAPSHOTS,
    BackupPlace,
    latest_name,
    staged_files,
)
from pastefile.storage.s3 import S3Options, S3Storage, is_missing

# The temp keys of a crashed backup's blob uploads, once surely abandoned.
PARTIAL_AGE = 6 * 3600


class S3Place(BackupPlace):
    def __init__(self, url: str, options: S3Options) -> None:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise InvalidInput(f"{url} names no bucket: write s3://bucket/prefix")
        parts = PurePosixPath(parsed.path.strip("/") or ".").parts
        self.given: str | None = None
        if len(parts) >= 2 and parts[-2] == SNAPSHOTS:
            self.given = latest_name(parts[-1], url)
            parts = parts[:-2]
        self.prefix = "/".join(p for p in parts if p != ".")
        self.name = url
        self.blobs = S3Storage(parsed.netloc, self._key("blobs"), options)
        self.bucket = parsed.netloc
        self.client: Any = self.blobs.client

    def _key(self, *names: str) -> str:
        return "/".join(n for n in (self.prefix, *names) if n)

    def has_blob(self, sha256: str, size: int) -> bool:
        return self.blobs.exists(sha256)

    def put_blob(self, sha256: str, reader: BinaryIO) -> bool:
        return self.blobs.put_checked(sha256, reader)

    def open_blob(self, sha256: str) -> BinaryIO:
        return self.blobs.open(sha256)

    @contextmanager
    def staging(self, stamp: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="pastefile-backup-") as folder:
            yield Path(folder)

    def publish(self, stamp: str, staged: Path) -> str:
        for name, path in staged_files(staged):
            self.client.upload_file(str(path), self.bucket, self._key(SNAPSHOTS, stamp, name))
        self.client.put_object(Bucket=self.bucket, Key=self._key(LATEST), Body=stamp.encode())
        return f"s3://{self.bucket}/{self._key(SNAPSHOTS, stamp)}"

    @contextmanager
    def snapshot(self) -> Iterator[Path]:
        stamp = self.given or self._latest()
        root = self._key(SNAPSHOTS, stamp) + "/"
        with tempfile.TemporaryDirectory(prefix="pastefile-restore-") as folder:
            local = Path(folder)
            for key in self._keys(root):
                # Only names we wrote: the manifest and tables/<table>.jsonl.
                relative = PurePosixPath(key[len(root) :])
                if relative.name != MANIFEST and relative.parent.as_posix() != "tables":
                    continue
                target = local.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                self.client.download_file(self.bucket, key, str(target))
            if not (local / MANIFEST).is_file():
                raise InvalidInput(f"{self.name} has no complete snapshot {stamp}")
            yield local

    def _latest(self) -> str:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(LATEST))["Body"]
        except ClientError as exc:
            if is_missing(exc):
                raise InvalidInput(f"{self.name} is not a pastefile backup") from None
            raise
        return latest_name(body.read().decode("ascii", "replace"), self.name)

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def remove_partial(self) -> None:
        self.blobs.cleanup_temp(PARTIAL_AGE)
