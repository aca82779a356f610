"""Strip GPS from an original without re-encoding it (``PASTEFILE_STRIP_GPS``).

The file is walked as a container (JPEG segments, PNG chunks, WebP chunks or
a TIFF). In EXIF, the GPS directory's pointer is removed from IFD0 and the
directory and its values are zeroed; in XMP, ``exif:GPS*`` values are blanked
with spaces. Every edit keeps lengths, so the pixels are untouched and the
copy streams: only the small metadata segments are held in memory.
"""

from __future__ import annotations

import itertools
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pastefile.services.imaging.exif import TAG_GPS_IFD, Entry, Reader, Tiff, bytes_reader

# Metadata segments larger than this are left alone (and the result re-checked).
MAX_SEGMENT = 4 * 1024 * 1024
COPY_CHUNK = 1024 * 1024
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_ATTRIBUTE = re.compile(rb'(exif:GPS[A-Za-z]+\s*=\s*")([^"]*)(")')
_XMP_ELEMENT = re.compile(rb"(<exif:GPS([A-Za-z]+)>)(.*?)(</exif:GPS\2>)", re.DOTALL)


@dataclass(frozen=True)
class Patch:
    offset: int
    data: bytes


def gps_patches(stream: BinaryIO, mimetype: str) -> list[Patch]:
    """The same-length edits that remove GPS from a file; empty when none is found."""
    walker = _WALKERS.get(mimetype)
    if walker is None:
        return []
    try:
        patches = sorted(walker(stream), key=lambda p: p.offset)
    except (ValueError, struct.error):
        return []
    for before, after in itertools.pairwise(patches):
        if before.offset + len(before.data) > after.offset:
            return []  # overlapping structures: a crafted file; let the re-check decide
    return patches


def copy_patched(source: BinaryIO, sink: Callable[[bytes], object], patches: list[Patch]) -> None:
    """Stream ``source`` into ``sink`` with ``patches`` laid over it."""
    source.seek(0)
    position = 0
    for patch in patches:
        _copy(source, sink, patch.offset - position)
        sink(patch.data)
        source.seek(patch.offset + len(patch.data))
        position = patch.offset + len(patch.data)
    _copy(source, sink, None)


def _copy(source: BinaryIO, sink: Callable[[bytes], object], size: int | None) -> None:
    remaining = size
    while remaining is None or remaining > 0:
        chunk = source.read(COPY_CHUNK if remaining is None else min(COPY_CHUNK, remaining))
        if not chunk:
            return
        sink(chunk)
        if remaining is not None:
            remaining -= len(chunk)


def tiff_gps_patches(read: Reader, base: int) -> list[Patch]:
    """Edits that drop the GPS directory from a TIFF structure starting at ``base``."""
    tiff = Tiff(read)
    entries = tiff.entries(tiff.first_ifd)
    gps = next((e for e in entries if e.tag == TAG_GPS_IFD), None)
    if gps is None:
        return []
    gps_offset = tiff.u32(read(gps.value_offset, 4))
    patches = [_without_entry(tiff, tiff.first_ifd, entries, gps, base)]
    if gps_offset:
        gps_entries = tiff.entries(gps_offset)
        for entry in gps_entries:
            if entry.size > 4:
                patches.append(Patch(base + entry.value_offset, bytes(entry.size)))
        patches.append(Patch(base + gps_offset, bytes(2 + 12 * len(gps_entries) + 4)))
    return patches


def _without_entry(tiff: Tiff, offset: int, entries: list[Entry], drop: Entry, base: int) -> Patch:
    raw = tiff.read(offset, 2 + 12 * len(entries) + 4)
    kept = [raw[2 + i * 12 : 14 + i * 12] for i, e in enumerate(entries) if e is not drop]
    count = struct.pack(tiff.order + "H", len(kept))
    rebuilt = count + b"".join(kept) + raw[-4:] + bytes(12)
    return Patch(base + offset, rebuilt)


def blank_xmp_gps(xmp: bytes) -> bytes:
    """Blank ``exif:GPS*`` values with spaces, keeping the packet's length."""

    def attribute(m: re.Match[bytes]) -> bytes:
        return m.group(1) + b" " * len(m.group(2)) + m.group(3)

    def element(m: re.Match[bytes]) -> bytes:
        return m.group(1) + b" " * len(m.group(3)) + m.group(4)

    return _XMP_ELEMENT.sub(element, _XMP_ATTRIBUTE.sub(attribute, xmp))


def _segment_patches(data: bytes, offset: int, tiff_at: int | None) -> list[Patch]:
    """Patches for one metadata segment read whole: EXIF at ``tiff_at``, else XMP."""
    if tiff_at is not None:
        return tiff_gps_patches(bytes_reader(data[tiff_at:]), offset + tiff_at)
    blanked = blank_xmp_gps(data)
    return [Patch(offset, blanked)] if blanked != data else []


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    if size > MAX_SEGMENT:
        raise ValueError("metadata segment too large")
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("truncated")
    return data


def _jpeg(stream: BinaryIO) -> Iterator[Patch]:
    position = 2
    while True:
        head = _read_at(stream, position, 4)
        marker, length = head[1], struct.unpack(">H", head[2:4])[0]
        if head[0] != 0xFF or marker in (0xD9, 0xDA) or length < 2:
            return  # start of scan or end of image: metadata is over
        if marker == 0xE1:
            payload = _read_at(stream, position + 4, length - 2)
            yield from _jpeg_app1(payload, position + 4)
        position += 2 + length


def _jpeg_app1(payload: bytes, offset: int) -> list[Patch]:
    if payload.startswith(b"Exif\x00\x00"):
        return _segment_patches(payload, offset, 6)
    if payload.startswith(_XMP_JPEG):
        return _segment_patches(payload, offset, None)
    return []


def _png(stream: BinaryIO) -> Iterator[Patch]:
    position = 8
    while True:
        length, kind = struct.unpack(">I4s", _read_at(stream, position, 8))
        if kind == b"IEND":
            return
        if kind in (b"eXIf", b"iTXt"):
            data = _read_at(stream, position + 8, length)
            is_xmp = kind == b"iTXt" and data.startswith(b"XML:com.adobe.xmp\x00")
            if kind == b"eXIf" or is_xmp:
                yield from _png_chunk(kind, data, position, 0 if kind == b"eXIf" else None)
        position += 12 + length


def _png_chunk(kind: bytes, data: bytes, position: int, tiff_at: int | None) -> list[Patch]:
    # PNG chunks carry a CRC, so the whole chunk is rewritten with a new one.
    edited = bytearray(data)
    for patch in _segment_patches(data, 0, tiff_at):
        edited[patch.offset : patch.offset + len(patch.data)] = patch.data
    if edited == data:
        return []
    crc = struct.pack(">I", zlib.crc32(kind + bytes(edited)))
    return [Patch(position + 8, bytes(edited) + crc)]


def _webp(stream: BinaryIO) -> Iterator[Patch]:
    header = _read_at(stream, 0, 12)
    end = 8 + struct.unpack("<I", header[4:8])[0]
    position = 12
    while position + 8 <= end:
        kind, length = struct.unpack("<4sI", _read_at(stream, position, 8))
        if kind in (b"EXIF", b"XMP "):
            data = _read_at(stream, position + 8, length)
            tiff_at = (6 if data.startswith(b"Exif\x00\x00") else 0) if kind == b"EXIF" else None
            yield from _segment_patches(data, position + 8, tiff_at)
        position += 8 + length + (length & 1)


def _tiff(stream: BinaryIO) -> Iterator[Patch]:
    def read(offset: int, size: int) -> bytes:
        return _read_at(stream, offset, size)

    yield from tiff_gps_patches(read, 0)


_WALKERS: dict[str, Callable[[BinaryIO], Iterator[Patch]]] = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/webp": _webp,
    "image/tiff": _tiff,
}
