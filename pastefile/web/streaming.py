"""A request class whose multipart file parts stream straight into storage.

Werkzeug would spool each file part to a temp file and we would copy it
again; here every part goes into a ``BlobWriter`` that hashes, counts and
writes to the storage's own temp area in one pass.
"""

from __future__ import annotations

import typing as t

from flask import Request, g
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import (
    LINE_BREAK_RE,
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
    State,
)
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from pastefile.storage.base import BlobWriter
from pastefile.web.context import services

# The most of a request body read (and parsed, hashed, written) in one step.
# Big enough that the per-step Python work is small next to the copying, small
# enough that the buffers stay in the CPU cache and add little to the worker's
# RSS; the gunicorn worker receives in steps of the same size (gunicorn_app).
BODY_READ_SIZE = 256 * 1024


class _LimitedStream(LimitedStream):
    """Werkzeug's ``LimitedStream`` handing over the server's chunks as they are.

    The base class reads through ``io.RawIOBase.read`` and ``readinto``, which
    copy every chunk twice more when the server's stream only has ``read()``
    (gunicorn's). A read returns at most ``BODY_READ_SIZE`` bytes, as a raw
    stream may: a larger request would make the server buffer that much.
    Limits, 413 and disconnects are handled by the base class.
    """

    @classmethod
    def like(cls, other: LimitedStream) -> _LimitedStream:
        return cls(other._stream, other.limit, other._limit_is_max)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        remaining = self.limit - self._pos
        if remaining <= 0:
            self.on_exhausted()
            return b""
        try:
            data = self._stream.read(min(size, remaining, BODY_READ_SIZE))
        except (OSError, ValueError) as exc:
            self.on_disconnect(error=exc)
            return b""
        if not data:
            self.on_disconnect()
            return b""
        self._pos += len(data)
        return data


class _Decoder(MultipartDecoder):
    """Werkzeug's multipart decoder, with a buffer bound that fits large reads.

    Werkzeug refuses to buffer more than ``max_form_memory_size`` bytes (the
    text-field limit) at once, so any read larger than that limit made every
    file upload a 413. Here the buffer may hold one read plus that limit:
    memory stays bounded, and text fields are still held to the limit by
    ``_StreamingMultiPartParser.parse``. File data is also sliced out of the
    buffer with one copy instead of three.
    """

    def __init__(
        self, boundary: bytes, max_form_memory_size: int | None, max_parts: int | None, read: int
    ) -> None:
        super().__init__(boundary, max_form_memory_size, max_parts=max_parts)
        self._max_buffer = read + (max_form_memory_size or 0)
        self._delimiter = b"--" + boundary
        self._delimiter_line = len(b"\r\n--" + boundary)

    def receive_data(self, data: bytes | None) -> None:
        if data is None:
            self.complete = True
        elif len(self.buffer) + len(data) > self._max_buffer:
            raise RequestEntityTooLarge()
        else:
            self.buffer.extend(data)

    def _parse_data(self, data: bytes | bytearray, *, start: bool) -> tuple[bytes, int, bool]:
        # Werkzeug's logic, without slicing copies of the (large) buffer.
        data_start = 0
        if start:
            data_start = t.cast(t.Match[bytes], LINE_BREAK_RE.match(data)).end()
        match = None
        if data.find(self._delimiter) != -1:
            match = self.boundary_re.search(data)
        if match is not None:
            self.state = State.EPILOGUE if match.group(1).startswith(b"--") else State.PART
            data_end, del_index = match.start(), match.end()
        else:
            data_end = del_index = self._partial_boundary_start(data, data_start)
        with memoryview(data) as view:
            chunk = bytes(view[data_start:data_end])
        return chunk, del_index, match is None

    def _partial_boundary_start(self, data: bytes | bytearray, start: int) -> int:
        """Where a boundary cut by the end of the buffer could begin, or the end.

        The same as werkzeug's ``_last_partial_boundary_index(data[start:]) + start``.
        """
        end = len(data)
        lower = max(start, end - self._delimiter_line)
        found = [i for i in (data.rfind(b"\n", lower), data.rfind(b"\r", lower)) if i != -1]
        return min(found) if found else end


class _StreamingMultiPartParser(MultiPartParser):
    """Werkzeug's ``MultiPartParser.parse``, driving ``_Decoder``."""

    def parse(
        self, stream: t.IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = _Decoder(
            boundary, self.max_form_memory_size, self.max_form_parts, self.buffer_size
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        sink: t.IO[bytes] | None = None
        text = bytearray()
        while True:
            data = stream.read(self.buffer_size)
            done = not data
            decoder.receive_data(data or None)
            del data  # the decoder has its own copy; one buffer less at the peak
            event = decoder.next_event()
            while not isinstance(event, Epilogue | NeedData):
                if isinstance(event, File):
                    part, sink = event, self.start_file_streaming(event, content_length)
                elif isinstance(event, Field):
                    part, sink, text = event, None, bytearray()
                elif isinstance(event, Data):
                    assert part is not None
                    if sink is not None:
                        sink.write(event.data)
                    else:
                        self._collect_text(text, event.data)
                    if not event.more_data:
                        self._finish_part(part, sink, text, fields, files)
                event = decoder.next_event()
            if done:
                return self.cls(fields), self.cls(files)

    def _collect_text(self, text: bytearray, data: bytes) -> None:
        text += data
        if self.max_form_memory_size is not None and len(text) > self.max_form_memory_size:
            raise RequestEntityTooLarge()

    def _finish_part(
        self,
        part: Field | File,
        sink: t.IO[bytes] | None,
        text: bytearray,
        fields: list[tuple[str, str]],
        files: list[tuple[str, FileStorage]],
    ) -> None:
        if sink is None:
            charset = self.get_part_charset(part.headers)
            fields.append((part.name, text.decode(charset, "replace")))
            return
        assert isinstance(part, File)
        sink.seek(0)
        files.append((part.name, FileStorage(sink, part.filename, part.name, headers=part.headers)))


class _BigBufferFormDataParser(FormDataParser):
    def _parse_multipart(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[t.IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = _StreamingMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=BODY_READ_SIZE,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class StreamingRequest(Request):
    form_data_parser_class = _BigBufferFormDataParser

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """Werkzeug's ``Request.stream`` (same checks and limits), without the extra copies."""
        if self.shallow:
            raise RuntimeError("a shallow request may not read its input stream")
        stream = get_input_stream(self.environ, max_content_length=self.max_content_length)
        if isinstance(stream, LimitedStream):
            return t.cast(t.IO[bytes], _LimitedStream.like(stream))
        return stream

    def _get_file_stream(  # type: ignore[override]
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> BlobWriter:
        writer: BlobWriter = services().uploads.new_writer()
        open_writers(g).append(writer)
        return writer


def open_writers(ctx: t.Any) -> list[BlobWriter]:
    """Writers opened for this request; any not committed are aborted at teardown."""
    if "_pastefile_writers" not in ctx:
        ctx._pastefile_writers = []
    return t.cast(list[BlobWriter], ctx._pastefile_writers)
