"""S3 storage (boto3): ``<prefix>/ab/cd/<sha256>``, written by streaming multipart upload.

The design (docs/operations.md, S3 storage):

- A writer hashes and counts as bytes arrive and buffers at most one part
  (``PART_SIZE``, 8 MiB; S3 wants ≥ 5 MiB for every part but the last).
  Small uploads never leave memory until commit, which makes one PUT. Larger
  ones start a multipart upload of a temporary key ``<prefix>/tmp/<token>``
  and send each part as it fills, so memory stays flat whatever the size.
- The sha256 is only known at the end, so commit completes the temp object,
  copies it to its content-addressed key (a server-side copy) and deletes
  the temp key; content that is already stored is kept and the temp dropped.
  S3 objects appear whole, so nothing half-written is ever visible.
- ``abort`` aborts the multipart upload (or deletes the temp object);
  ``cleanup_temp`` aborts multipart uploads and deletes temp objects older
  than the cut-off, left by crashed processes.
- ``open`` returns a seekable reader over ranged GETs, so werkzeug answers
  Range requests; ``presigned_url`` lets downloads redirect to S3 instead.
"""

from __future__ import annotations

import functools
import io
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as S3ConnectionError

from pastefile.errors import Unavailable
from pastefile.storage.base import BlobWriter, Storage
from pastefile.storage.local import _SHA256

PART_SIZE = 8 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


@dataclass(frozen=True)
class S3Options:
    endpoint_url: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: str = ""
    presigned_downloads: bool = False
    presign_seconds: int = 300


def is_missing(exc: ClientError) -> bool:
    """The error S3 answers for a key (or upload) that is not there."""
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3BlobWriter(BlobWriter):
    def __init__(self, storage: S3Storage, max_size: int | None) -> None:
        super().__init__(max_size)
        self.storage = storage
        # The start time is in the name: cleanup_temp judges age by it (not every S3
        # implementation reports a multipart upload's Initiated time faithfully).
        self.temp_key = f"{storage.prefix}tmp/{int(time.time())}-{secrets.token_hex(16)}"
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.temp_object = False

    def _write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= PART_SIZE:
            self._send_part(bytes(self.buffer[:PART_SIZE]))
            del self.buffer[:PART_SIZE]

    def _send_part(self, chunk: bytes) -> None:
        s3, bucket = self.storage.client, self.storage.bucket
        if self.upload_id is None:
            started = s3.create_multipart_upload(Bucket=bucket, Key=self.temp_key)
            self.upload_id = started["UploadId"]
        number = len(self.parts) + 1
        sent = s3.upload_part(
            Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id, PartNumber=number, Body=chunk
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def finish(self) -> None:
        """Complete the multipart upload of the temp key, if one was started."""
        if self.upload_id is None or self.temp_object:
            return
        if self.buffer:
            self._send_part(bytes(self.buffer))
            self.buffer.clear()
        self.storage.client.complete_multipart_upload(
            Bucket=self.storage.bucket,
            Key=self.temp_key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        self.temp_object = True

    def reader(self) -> BinaryIO:
        self.finish()
        if self.temp_object:
            return self.storage.open_key(self.temp_key)
        return io.BytesIO(bytes(self.buffer))

    def abort(self) -> None:
        self.closed = True
        self.buffer.clear()
        s3, bucket = self.storage.client, self.storage.bucket
        if self.temp_object:
            s3.delete_object(Bucket=bucket, Key=self.temp_key)
            self.temp_object = False
        elif self.upload_id is not None:
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id)
            except ClientError as exc:
                if not is_missing(exc):
                    raise
        self.upload_id = None


class S3Reader(io.RawIOBase):
    """A seekable reader of one object: a streaming GET from the position, reopened on seek."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        super().__init__()
        self.client, self.bucket, self.key, self.size = client, bucket, key, size
        self.pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        target = max(0, base + offset)
        if target != self.pos:
            self._drop_body()
            self.pos = target
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.size or len(buffer) == 0:
            return 0
        if self._body is None:
            got = self.client.get_object(
                Bucket=self.bucket, Key=self.key, Range=f"bytes={self.pos}-{self.size - 1}"
            )
            self._body = got["Body"]
        data = self._body.read(min(len(buffer), self.size - self.pos))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()


class S3Storage(Storage):
    def __init__(self, bucket: str, prefix: str, options: S3Options | None = None) -> None:
        self.options = options or S3Options()
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=self.options.endpoint_url or None,
            region_name=self.options.region,
            aws_access_key_id=self.options.access_key or None,
            aws_secret_access_key=self.options.secret_key or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        self.client = _Answering(self.client)

    def key(self, sha256: str) -> str:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256 hex digest")
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def writer(self, max_size: int | None = None) -> S3BlobWriter:
        return S3BlobWriter(self, max_size)

    def commit(self, writer: BlobWriter) -> str:
        assert isinstance(writer, S3BlobWriter)
        writer.finish()
        sha = writer.sha256
        target = self.key(sha)
        if self.exists(sha):
            writer.abort()  # the same bytes are already stored: keep one copy
            return sha
        if writer.temp_object:
            source = {"Bucket": self.bucket, "Key": writer.temp_key}
            self.client.copy(source, self.bucket, target)  # multipart copy when large
        else:
            self.client.put_object(Bucket=self.bucket, Key=target, Body=bytes(writer.buffer))
        writer.abort()
        return sha

    def open(self, sha256: str) -> BinaryIO:
        return self.open_key(self.key(sha256))

    def open_key(self, key: str) -> BinaryIO:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        reader = S3Reader(self.client, self.bucket, key, int(head["ContentLength"]))
        return reader  # type: ignore[return-value]

    def size(self, sha256: str) -> int:
        head = self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        return int(head["ContentLength"])

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if is_missing(exc):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def quarantine(self, sha256: str) -> None:
        # "<sha256>-<time>" under quarantine/: not a blob name, so list_blobs skips it.
        target = f"{self.prefix}quarantine/{sha256}-{int(time.time())}"
        try:
            self.client.copy({"Bucket": self.bucket, "Key": self.key(sha256)}, self.bucket, target)
        except ClientError as exc:
            if is_missing(exc):
                return
            raise
        self.delete(sha256)

    def presigned_url(
        self, sha256: str, filename: str, mimetype: str, attachment: bool
    ) -> str | None:
        """A time-limited S3 URL for the download, when ``presigned_downloads`` is on."""
        if not self.options.presigned_downloads:
            return None
        disposition = "attachment" if attachment else "inline"
        params = {
            "Bucket": self.bucket,
            "Key": self.key(sha256),
            "ResponseContentType": mimetype,
            "ResponseContentDisposition": f"{disposition}; filename*=UTF-8''{_quote(filename)}",
        }
        url = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.options.presign_seconds
        )
        return str(url)

    def list_blobs(self, after: str = "") -> Iterator[tuple[str, float]]:
        # Keys are <prefix>ab/cd/abcd…, and S3 lists keys in order.
        for item in self._objects(self.prefix, self.key(after) if after else ""):
            name = item["Key"].rsplit("/", 1)[-1]
            if _SHA256.fullmatch(name) and not item["Key"].startswith(f"{self.prefix}tmp/"):
                yield name, item["LastModified"].timestamp()

    def cleanup_temp(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        temp = f"{self.prefix}tmp/"
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=temp):
            for upload in page.get("Uploads", []):
                if _started(upload["Key"], upload["Initiated"].timestamp()) < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        for item in self._objects(temp):
            if item["LastModified"].timestamp() < cutoff:
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                removed += 1
        return removed

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def _objects(self, prefix: str, start_after: str = "") -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2")
        since = {"StartAfter": start_after} if start_after else {}
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix, **since):
            yield from page.get("Contents", [])


def _started(key: str, fallback: float) -> float:
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    return float(stamp) if stamp.isdigit() else fallback


def _quote(filename: str) -> str:
    from urllib.parse import quote

    return quote(filename, safe="!#$&+-.^_`|~")


class _Answering:
    """The boto3 client, where "S3 does not answer" is ``Unavailable`` (503 with a
    problem body, try again) rather than a crash; every other error is unchanged."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._client, name)
        if not callable(found):
            return found

        @functools.wraps(found)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return found(*args, **kwargs)
            except (S3ConnectionError, HTTPClientError) as exc:
                raise Unavailable("the storage is unavailable; try again shortly") from exc

        return call
