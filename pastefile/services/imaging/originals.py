"""Image work on originals at upload: probing, EXIF summaries, crop-resize and GPS stripping.

Everything goes through the process's one image engine, passed in by the
caller: the pixel count is checked from the lazily
read header before any pixel is decoded, so a small file that claims huge
dimensions costs nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import BinaryIO

from pastefile.errors import CorruptImage, InvalidDimensions, NotAnImage
from pastefile.services.imaging import exif, gps
from pastefile.services.imaging.engines.base import RESIZABLE_TYPES, ImageEngine, ImageInfo, Limits
from pastefile.services.imaging.params import book_spec
from pastefile.storage.base import BlobWriter, Storage

__all__ = [
    "RESIZABLE_TYPES",
    "Resized",
    "crop_resize",
    "exif_summary",
    "probe",
    "probe_size",
    "strip_gps",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resized:
    data: bytes
    mimetype: str
    width: int
    height: int


def probe(engine: ImageEngine, source: BinaryIO, mimetype: str) -> ImageInfo | None:
    """The header of an image, or None for non-images and unreadable ones."""
    if mimetype not in RESIZABLE_TYPES:
        return None
    try:
        return engine.probe(source)
    except CorruptImage:
        return None


def probe_size(engine: ImageEngine, source: BinaryIO, mimetype: str) -> tuple[int, int] | None:
    """Width and height as displayed (EXIF orientation applied), from the header alone."""
    info = probe(engine, source, mimetype)
    return (info.width, info.height) if info else None


def exif_summary(engine: ImageEngine, source: BinaryIO, mimetype: str) -> str | None:
    """The JSON EXIF summary stored with an original (camera, taken-at, has-GPS…)."""
    info = probe(engine, source, mimetype)
    return exif.summary_json(exif.summarize(info.exif, info.orientation)) if info else None


def crop_resize(
    engine: ImageEngine,
    source: BinaryIO,
    mimetype: str,
    size: tuple[int, int],
    max_pixels: int,
    max_upscale_pixels: int,
) -> Resized:
    """Scale and centre-crop to exactly ``size``."""
    if mimetype not in RESIZABLE_TYPES:
        raise NotAnImage(f"cannot resize a file of type {mimetype}")
    _check_enlargement(engine, source, size, max_upscale_pixels)
    out = engine.render(source, book_spec(size, mimetype), Limits(max_pixels))
    return Resized(out.data, out.mimetype, out.width, out.height)


def strip_gps(
    engine: ImageEngine, original: BlobWriter, mimetype: str, storage: Storage, max_pixels: int
) -> tuple[BlobWriter, str] | None:
    """A new writer holding the upload without GPS, or None when it had none.

    Same-length edits of the metadata keep the pixels bit for bit; a file
    whose GPS survives them (HEIC/AVIF, odd layouts) is re-encoded clean.
    """
    if mimetype not in RESIZABLE_TYPES:
        return None
    with original.reader() as stream:
        patches = gps.gps_patches(stream, mimetype)
        if not patches and not _has_gps(engine, stream, mimetype):
            return None
        writer = storage.writer()
        try:
            gps.copy_patched(stream, writer.write, patches)
            return _verified(engine, writer, stream, mimetype, storage, max_pixels)
        except BaseException:
            writer.abort()
            raise


def _verified(
    engine: ImageEngine,
    writer: BlobWriter,
    original: BinaryIO,
    mimetype: str,
    storage: Storage,
    max_pixels: int,
) -> tuple[BlobWriter, str]:
    with writer.reader() as stripped:
        if not _has_gps(engine, stripped, mimetype):
            return writer, mimetype
    writer.abort()
    log.info("GPS survived metadata edits of a %s; re-encoding it", mimetype)
    fmt = {"image/png": "png", "image/webp": "webp", "image/avif": "avif"}.get(mimetype, "jpeg")
    clean = engine.reencode_clean(original, fmt, Limits(max_pixels))
    replacement = storage.writer()
    try:
        replacement.write(clean.data)
    except BaseException:
        replacement.abort()
        raise
    return replacement, clean.mimetype


def _has_gps(engine: ImageEngine, stream: BinaryIO, mimetype: str) -> bool:
    info = probe(engine, stream, mimetype)
    return bool(info and exif.summarize(info.exif, 1).get("has_gps"))


def _check_enlargement(
    engine: ImageEngine, source: BinaryIO, size: tuple[int, int], max_upscale_pixels: int
) -> None:
    """Enlarging has a tighter budget than shrinking: its output is all new pixels."""
    wanted = size[0] * size[1]
    if wanted <= max_upscale_pixels:
        return
    info = engine.probe(source)
    source.seek(0)
    if wanted > info.width * info.height:
        raise InvalidDimensions(
            f"enlarging a {info.width}x{info.height} image to {size[0]}x{size[1]} is over "
            f"the limit of {max_upscale_pixels} pixels for enlargements"
        )
