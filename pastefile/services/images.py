"""Image work for the core routes: probing at upload and the book's crop-resize.

Everything goes through the one image engine (libvips, see
``pastefile.services.imaging``): the pixel count is checked from the lazily
read header before any pixel is decoded, so a small file that claims huge
dimensions costs nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import BinaryIO

from pastefile.errors import CorruptImage, InvalidDimensions, NotAnImage
from pastefile.services.imaging import exif, gps
from pastefile.services.imaging.engine import RESIZABLE_TYPES, ImageEngine, ImageInfo, Limits
from pastefile.services.imaging.params import book_spec, check_output_area
from pastefile.storage.base import BlobWriter, Storage

_DIGITS = re.compile(r"[0-9]{1,9}")

__all__ = [
    "RESIZABLE_TYPES",
    "Resized",
    "crop_resize",
    "exif_summary",
    "parse_dimensions",
    "probe",
    "probe_size",
    "strip_gps",
]

log = logging.getLogger(__name__)
_engines: list[ImageEngine] = []


def engine() -> ImageEngine:
    """The process's image engine, created on first use."""
    if not _engines:
        # libvips loads on the first image, not in every process that imports us.
        from pastefile.services.imaging.vips import VipsEngine

        _engines.append(VipsEngine())
    return _engines[0]


@dataclass(frozen=True)
class Resized:
    data: bytes
    mimetype: str
    width: int
    height: int


def parse_dimensions(
    width: object, height: object, limit: int, max_pixels: int | None = None
) -> tuple[int, int] | None:
    """Validate the book's ``w``/``h`` pair; both absent means no resize.

    Only plain ASCII digits count: ``int()`` alone would also take ``+5``,
    ``1_0``, padded spaces and non-ASCII digits.
    """
    if width in (None, "") and height in (None, ""):
        return None
    w, h = _whole_number(width), _whole_number(height)
    if w is None or h is None:
        raise InvalidDimensions("w and h must both be whole numbers")
    if not (0 < w <= limit and 0 < h <= limit):
        raise InvalidDimensions(f"w and h must be between 1 and {limit}")
    if max_pixels is not None:
        check_output_area(w, h, max_pixels)
    return w, h


def _whole_number(value: object) -> int | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if _DIGITS.fullmatch(text) else None


def probe(source: BinaryIO, mimetype: str) -> ImageInfo | None:
    """The header of an image, or None for non-images and unreadable ones."""
    if mimetype not in RESIZABLE_TYPES:
        return None
    try:
        return engine().probe(source)
    except CorruptImage:
        return None


def probe_size(source: BinaryIO, mimetype: str) -> tuple[int, int] | None:
    """Width and height as displayed (EXIF orientation applied), from the header alone."""
    info = probe(source, mimetype)
    return (info.width, info.height) if info else None


def exif_summary(source: BinaryIO, mimetype: str) -> str | None:
    """The JSON EXIF summary stored with an original (camera, taken-at, has-GPS…)."""
    info = probe(source, mimetype)
    return exif.summary_json(exif.summarize(info.exif, info.orientation)) if info else None


def crop_resize(source: BinaryIO, mimetype: str, size: tuple[int, int], max_pixels: int) -> Resized:
    """Scale and centre-crop to exactly ``size``, as the book's crop_resize did."""
    if mimetype not in RESIZABLE_TYPES:
        raise NotAnImage(f"cannot resize a file of type {mimetype}")
    out = engine().render(source, book_spec(size, mimetype), Limits(max_pixels))
    return Resized(out.data, out.mimetype, out.width, out.height)


def strip_gps(
    original: BlobWriter, mimetype: str, storage: Storage, max_pixels: int
) -> tuple[BlobWriter, str] | None:
    """A new writer holding the upload without GPS, or None when it had none.

    Same-length edits of the metadata keep the pixels bit for bit; a file
    whose GPS survives them (HEIC/AVIF, odd layouts) is re-encoded clean.
    """
    if mimetype not in RESIZABLE_TYPES:
        return None
    with original.reader() as stream:
        patches = gps.gps_patches(stream, mimetype)
        if not patches and not _has_gps(stream, mimetype):
            return None
        writer = storage.writer()
        try:
            gps.copy_patched(stream, writer.write, patches)
            return _verified(writer, stream, mimetype, storage, max_pixels)
        except BaseException:
            writer.abort()
            raise


def _verified(
    writer: BlobWriter, original: BinaryIO, mimetype: str, storage: Storage, max_pixels: int
) -> tuple[BlobWriter, str]:
    with writer.reader() as stripped:
        if not _has_gps(stripped, mimetype):
            return writer, mimetype
    writer.abort()
    log.info("GPS survived metadata edits of a %s; re-encoding it", mimetype)
    fmt = {"image/png": "png", "image/webp": "webp", "image/avif": "avif"}.get(mimetype, "jpeg")
    clean = engine().reencode_clean(original, fmt, Limits(max_pixels))
    replacement = storage.writer()
    try:
        replacement.write(clean.data)
    except BaseException:
        replacement.abort()
        raise
    return replacement, clean.mimetype


def _has_gps(stream: BinaryIO, mimetype: str) -> bool:
    info = probe(stream, mimetype)
    return bool(info and exif.summarize(info.exif, 1).get("has_gps"))
