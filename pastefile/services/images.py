"""Image work for the core routes: probing size and the book's crop-resize.

The pixel count is checked from the lazily read header before any pixel is
decoded, so a small file that claims huge dimensions costs nothing.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from pastefile.errors import CorruptImage, ImageTooLarge, InvalidDimensions, NotAnImage

# Pillow's own bomb check is a warning below 2x its limit; ours is the limit.
Image.MAX_IMAGE_PIXELS = None

RESIZABLE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
)
_SAVE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Resized:
    data: bytes
    mimetype: str
    width: int
    height: int


def parse_dimensions(width: object, height: object, limit: int) -> tuple[int, int] | None:
    """Validate the book's ``w``/``h`` pair; both absent means no resize."""
    if width in (None, "") and height in (None, ""):
        return None
    try:
        w, h = int(str(width)), int(str(height))
    except ValueError as exc:
        raise InvalidDimensions("w and h must both be whole numbers") from exc
    if not (0 < w <= limit and 0 < h <= limit):
        raise InvalidDimensions(f"w and h must be between 1 and {limit}")
    return w, h


def probe_size(source: BinaryIO, mimetype: str) -> tuple[int, int] | None:
    """Width and height from the header alone, or None for non-images."""
    if mimetype not in RESIZABLE_TYPES:
        return None
    try:
        with Image.open(source) as im:
            return im.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def crop_resize(source: BinaryIO, mimetype: str, size: tuple[int, int], max_pixels: int) -> Resized:
    """Scale and centre-crop to exactly ``size``, as the book's crop_resize did."""
    if mimetype not in RESIZABLE_TYPES:
        raise NotAnImage(f"cannot resize a file of type {mimetype}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _crop_resize(source, size, max_pixels)
    except ImageTooLarge:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImage("the image data is truncated or corrupt") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(str(exc)) from exc


def _crop_resize(source: BinaryIO, size: tuple[int, int], max_pixels: int) -> Resized:
    with Image.open(source) as im:
        if im.width * im.height > max_pixels:
            raise ImageTooLarge(
                f"the image is {im.width}x{im.height}; the limit is {max_pixels} pixels"
            )
        fmt = im.format if im.format in _SAVE_FORMATS else "PNG"
        if fmt == "JPEG":
            im.draft("RGB", (size[0] * 2, size[1] * 2))
        im.load()
        oriented = ImageOps.exif_transpose(im)
        out = ImageOps.fit(oriented, size, Image.Resampling.LANCZOS)
        if fmt == "JPEG" and out.mode not in ("RGB", "L"):
            out = out.convert("RGB")
        buffer = io.BytesIO()
        out.save(buffer, format=fmt, **_save_options(fmt))
        return Resized(buffer.getvalue(), _SAVE_FORMATS[fmt], out.width, out.height)


def _save_options(fmt: str) -> dict[str, object]:
    if fmt == "JPEG":
        return {"quality": 88, "optimize": True}
    if fmt == "WEBP":
        return {"quality": 85}
    return {}
