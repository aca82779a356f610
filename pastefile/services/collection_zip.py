"""A collection's zip, whose every byte is known before it is sent (docs/collections.md).

The format is written by the ``stream-zip`` library, never by hand. Members
are *stored* (not deflated) with the size and CRC-32 kept at upload, so the
library writes each local header before the member's bytes and needs no data
descriptor: the zip is a fixed sequence

    header 0 | bytes of file 0 | header 1 | bytes of file 1 | … | central directory

That gives a ``Content-Length`` and a strong ETag up front, and lets a ``Range``
start anywhere without reading what it skips:

- a member's header is the library's first output for that member alone (it
  names no offset), taken before any data is asked for;
- a member's bytes are the stored bytes, read from the right offset;
- the central directory (the *tail*) is what the library writes after the
  last member. The library checks each member's bytes against the CRC-32 it
  was given, so the tail is made by running it over stand-in bytes of the same
  length and CRC-32 (zeros and four chosen bytes): arithmetic, no storage read.
  It is computed once per member set and cached.

A full download runs the library over the real bytes, so it checks every
member's CRC-32 as it goes (a damaged blob ends the stream instead of sending a
zip that lies).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from stream_zip import Method

CHUNK = 1024 * 1024
# Stored bytes are read and sent in larger pieces: fewer system calls and Python steps.
READ_CHUNK = 4 * CHUNK
ZIP32_LIMIT = 0xFFFFFFFF
# Room for every member's header (names are at most 255 UTF-8 bytes) when deciding
# whether the archive stays within ZIP32's 4 GiB offsets.
HEADER_ROOM = 1024
MODE = stat.S_IFREG | 0o644
LIBRARY = f"stream-zip {version('stream-zip')}"

OpenBlob = Callable[[str], BinaryIO]


@dataclass(frozen=True)
class Member:
    name: str  # unique within the zip
    sha256: str
    size: int
    crc32: int
    modified_at: datetime


@dataclass(frozen=True)
class ZipPlan:
    """The members of one zip, in order, and everything fixed about its bytes."""

    members: tuple[Member, ...]
    zip64: bool

    @cached_property
    def header_lengths(self) -> tuple[int, ...]:
        return tuple(len(_header(m, self._method(m))) for m in self.members)

    @cached_property
    def starts(self) -> tuple[int, ...]:
        """Where each member's header starts, then where the tail starts."""
        found = [0]
        for member, header in zip(self.members, self.header_lengths, strict=True):
            found.append(found[-1] + header + member.size)
        return tuple(found)

    @property
    def tail_start(self) -> int:
        return self.starts[-1]

    @cached_property
    def tail_length(self) -> int:
        """The tail's length depends only on the names and the format (fixed-width
        fields), so empty stand-ins with the same names give it without any bytes."""
        empty = [
            _entry(m, self._method(Member(m.name, m.sha256, 0, 0, m.modified_at)), ())
            for m in self.members
        ]
        written = sum(len(chunk) for chunk in _zipped(empty))
        return written - sum(self.header_lengths)

    @property
    def length(self) -> int:
        return self.tail_start + self.tail_length

    @cached_property
    def etag(self) -> str:
        """Strong: the same members (names, bytes, dates) in the same order, same library."""
        digest = hashlib.sha256(LIBRARY.encode())
        digest.update(b"zip64" if self.zip64 else b"zip32")
        for m in self.members:
            line = f"\n{m.name}\0{m.sha256}\0{m.size}\0{m.crc32}\0{m.modified_at.isoformat()}"
            digest.update(line.encode("utf-8"))
        return "z" + digest.hexdigest()[:40]

    def _method(self, member: Member) -> Method:
        from stream_zip import NO_COMPRESSION_32, NO_COMPRESSION_64

        kind = NO_COMPRESSION_64 if self.zip64 else NO_COMPRESSION_32
        return kind(member.size, member.crc32)

    # --- bytes ------------------------------------------------------------------------

    def stream(self, open_blob: OpenBlob) -> Iterator[bytes]:
        """The whole zip: the library over the real bytes, checking every CRC-32."""
        entries = (
            _entry(m, self._method(m), _read(open_blob, m.sha256, 0, m.size)) for m in self.members
        )
        return _zipped(entries)

    def tail(self, open_blob: OpenBlob) -> bytes:
        """The central directory, from the library run over stand-in bytes (see above)."""
        entries = (_entry(m, self._method(m), _stand_in(m, open_blob)) for m in self.members)
        out = bytearray()
        position = 0
        for chunk in _zipped(entries):
            end = position + len(chunk)
            if end > self.tail_start:
                out += chunk[max(0, self.tail_start - position) :]
            position = end
        return bytes(out)

    def byte_range(
        self, start: int, stop: int, open_blob: OpenBlob, tail: Callable[[], bytes]
    ) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` from headers, stored bytes and the tail: what is
        skipped is never read."""
        index = bisect.bisect_right(self.starts, start) - 1
        position = start
        for k in range(index, len(self.members)):
            if position >= stop:
                return
            member, header_at = self.members[k], self.starts[k]
            data_at = header_at + self.header_lengths[k]
            if position < data_at:
                header = _header(member, self._method(member))
                piece = header[position - header_at : min(stop, data_at) - header_at]
                yield piece
                position += len(piece)
            data_end = data_at + member.size
            if position < min(stop, data_end):
                end = min(stop, data_end)
                yield from _read(open_blob, member.sha256, position - data_at, end - data_at)
                position = end
        if position < stop:
            yield tail()[position - self.tail_start : stop - self.tail_start]


def plan_zip(
    files: Sequence[tuple[str, str, int, datetime]],
    crc_of: Callable[[str], int],
    force_zip64: bool = False,
) -> ZipPlan:
    """A plan from (name, sha256, size, modified) in order; ``crc_of`` gives a blob's CRC-32.

    ZIP64 only past 4 GiB (or when forced): smaller zips open in the oldest tools.
    """
    names = unique_names([name for name, _, _, _ in files])
    members = tuple(
        Member(name, sha, size, crc_of(sha), modified)
        for name, (_, sha, size, modified) in zip(names, files, strict=True)
    )
    room = sum(m.size for m in members) + HEADER_ROOM * (len(members) + 1)
    return ZipPlan(members, zip64=force_zip64 or room >= ZIP32_LIMIT)


def unique_names(names: Iterable[str]) -> list[str]:
    """Names as they go in the zip: a repeat gets " (2)", " (3)"… before its extension.

    Compared case-insensitively, since most file systems a zip is unpacked on do.
    """
    taken: set[str] = set()
    found = []
    for raw in names:
        name = raw.replace("/", "_").replace("\\", "_") or "file"
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        taken.add(candidate.casefold())
        found.append(candidate)
    return found


# --- the library's inputs ------------------------------------------------------------


def _zipped(entries: Iterable[Any]) -> Iterator[bytes]:
    # Loaded by the first zip: stream-zip brings pycryptodome and cffi (~3 MB) into a
    # process that may never build one.
    from stream_zip import stream_zip

    return iter(stream_zip(entries, chunk_size=CHUNK))


def _entry(
    member: Member, method: Method, chunks: Iterable[bytes]
) -> tuple[str, datetime, int, Method, Iterable[bytes]]:
    return (member.name, member.modified_at, MODE, method, chunks)


def _header(member: Member, method: Method) -> bytes:
    """A member's local header: the library's first output for it, before any data.

    The library flushes the header before asking for the member's bytes, so the
    generator is dropped there and nothing is read.
    """
    chunks = _zipped([_entry(member, method, ())])
    try:
        return next(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _read(open_blob: OpenBlob, sha256: str, start: int, stop: int) -> Iterator[bytes]:
    """Stored bytes ``[start, stop)`` of a blob, in chunks."""
    if stop <= start:
        return
    with open_blob(sha256) as stream:
        _sequential(stream)
        if start:
            stream.seek(start)
        left = stop - start
        while left > 0:
            chunk = stream.read(min(READ_CHUNK, left))
            if not chunk:
                raise OSError(f"blob {sha256} ended {left} bytes early")
            left -= len(chunk)
            yield chunk


def _sequential(stream: BinaryIO) -> None:
    """Tell the kernel a local file is read front to back (a larger read-ahead)."""
    try:
        os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
    except (AttributeError, OSError, ValueError):
        return  # not a local file (S3), or no fadvise here


_ZEROS = bytes(CHUNK)


def _stand_in(member: Member, open_blob: OpenBlob) -> Iterator[bytes]:
    """``member.size`` bytes whose CRC-32 is the member's: zeros, then four bytes that
    steer the CRC there.

    Appending four bytes maps the CRC state one-to-one onto every 32-bit value, and
    that map is affine over GF(2), so the four bytes are found by solving a 32-by-32
    linear system built from ``zlib.crc32`` itself. A member under four bytes
    leaves no such freedom; its (at most three) stored bytes are read instead.
    """
    if member.size < 4:
        yield from _read(open_blob, member.sha256, 0, member.size)
        return
    state, left = 0, member.size - 4
    while left > 0:
        piece = _ZEROS if left >= CHUNK else _ZEROS[:left]
        state = zlib.crc32(piece, state)
        left -= len(piece)
        yield piece
    yield _steer(state, member.crc32).to_bytes(4, "little")


def _steer(state: int, target: int) -> int:
    """The 32-bit little-endian word ``x`` with ``zlib.crc32(x, state) == target``."""
    base = zlib.crc32(b"\0\0\0\0", state)
    pivots: dict[int, tuple[int, int]] = {}  # leading bit -> (image, combination of bits)
    for bit in range(32):
        image = zlib.crc32((1 << bit).to_bytes(4, "little"), state) ^ base
        combo = 1 << bit
        while image:
            top = image.bit_length() - 1
            if top not in pivots:
                pivots[top] = (image, combo)
                break
            image ^= pivots[top][0]
            combo ^= pivots[top][1]
    want, word = target ^ base, 0
    while want:
        image, combo = pivots[want.bit_length() - 1]
        want ^= image
        word ^= combo
    return word
