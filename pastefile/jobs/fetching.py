"""``fetch_url``: upload from a URL, through the SSRF-safe fetcher.

The bytes stream into a storage writer (the size limit holds while they
arrive) and then take the normal upload path. Idempotent: a retry of a fetch
that already stored the file finds it again through content dedup.
"""

from __future__ import annotations

from typing import Any

from pastefile.errors import InvalidInput
from pastefile.jobs.context import JobContext
from pastefile.services.upload_options import UploadOptions
from pastefile.storage.base import BlobWriter

_MB = 1024 * 1024


class _ProgressSink:
    """Passes bytes to the writer and reports how many arrived (and hears cancels)."""

    def __init__(self, writer: BlobWriter, ctx: JobContext) -> None:
        self.writer = writer
        self.ctx = ctx

    def write(self, data: bytes) -> int:
        written = self.writer.write(data)
        received = self.writer.size
        self.ctx.progress(min(80, 10 + received // _MB), f"received {received} bytes")
        return written


def fetch_url(ctx: JobContext) -> dict[str, Any]:
    url = ctx.params.get("url")
    if not isinstance(url, str) or not url:
        raise InvalidInput("fetch_url needs a url")
    ctx.progress(5, "connecting")
    uploads = ctx.services.uploads
    writer = uploads.new_writer()
    try:
        fetched = ctx.services.fetcher.fetch(url, _ProgressSink(writer, ctx))
    except BaseException:
        writer.abort()
        raise
    ctx.progress(90, "storing")
    asked = ctx.params.get("options")
    options = UploadOptions.from_params(asked) if isinstance(asked, dict) else None
    stored = uploads.finish(
        writer, fetched.filename, options=options or UploadOptions(ctx.job.owner_id)
    )
    return {
        "file_id": stored.file.id,
        "file": stored.file.public_id,
        "url": fetched.url,
        "redirects": fetched.redirects,
        "size": stored.file.size,
        "mimetype": stored.file.mimetype,
        "created": stored.created,
    }


def _options(ctx: JobContext) -> UploadOptions:
    """The options the upload was asked with; jobs queued before they were kept
    carry only their owner."""
    asked = ctx.params.get("options")
    if isinstance(asked, dict):
        return UploadOptions.from_params(asked)
    return UploadOptions(ctx.job.owner_id)
