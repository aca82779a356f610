"""A request class whose multipart file parts stream straight into storage.

Werkzeug would spool each file part to a temp file and we would copy it
again; here every part goes into a ``BlobWriter`` that hashes, counts and
writes to the storage's own temp area in one pass.
"""

from __future__ import annotations

import typing as t

from flask import Request, current_app, g
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser, MultiPartParser

from pastefile.storage.base import BlobWriter

PARSE_BUFFER = 1024 * 1024


class _BigBufferFormDataParser(FormDataParser):
    def _parse_multipart(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[t.IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=PARSE_BUFFER,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class StreamingRequest(Request):
    form_data_parser_class = _BigBufferFormDataParser

    def _get_file_stream(  # type: ignore[override]
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> BlobWriter:
        writer: BlobWriter = current_app.extensions["pastefile"].uploads.new_writer()
        open_writers(g).append(writer)
        return writer


def open_writers(ctx: t.Any) -> list[BlobWriter]:
    """Writers opened for this request; any not committed are aborted at teardown."""
    if "_pastefile_writers" not in ctx:
        ctx._pastefile_writers = []
    return t.cast(list[BlobWriter], ctx._pastefile_writers)
