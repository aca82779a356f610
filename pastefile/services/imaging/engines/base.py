"""The image engine interface, in the spirit of thumbor's pluggable engines.

The rest of the service only talks to ``ImageEngine``; ``VipsEngine`` is the
implementation. An engine must read headers lazily and refuse an image whose
``width x height x frames`` exceeds the limit before it decodes a pixel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pastefile.errors import ImageTooLarge
from pastefile.services.imaging.params import RenderSpec

# A local path lets the engine map and shrink-on-load; a stream works everywhere.
ImageSource = Path | BinaryIO

RESIZABLE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/tiff",
        "image/avif",
        "image/heic",
        "image/heif",
    }
)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, without decoding pixels."""

    width: int  # as displayed: EXIF orientation already applied
    height: int
    pages: int
    orientation: int
    exif: bytes | None  # the raw EXIF (TIFF structure), when present
    has_profile: bool = False  # an ICC profile or CMYK: needs converting to sRGB


@dataclass(frozen=True)
class Limits:
    max_pixels: int


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mimetype: str
    width: int
    height: int  # of one frame, for animations


class ImageEngine(ABC):
    """Decodes, transforms and encodes images."""

    name = "abstract"

    @abstractmethod
    def probe(self, source: ImageSource) -> ImageInfo:
        """Read the header only. ``CorruptImage`` when it is not a readable image."""

    @abstractmethod
    def render(self, source: ImageSource, spec: RenderSpec, limits: Limits) -> Encoded:
        """Produce the variant ``spec`` describes, with no metadata but the pixels."""

    @abstractmethod
    def reencode_clean(self, source: ImageSource, fmt: str, limits: Limits) -> Encoded:
        """The same image at full size without EXIF/XMP (orientation applied)."""


def check_pixels(width: int, height: int, frames: int, limits: Limits) -> None:
    """Refuse work above the pixel budget; called on header values only."""
    total = width * height * frames
    if total > limits.max_pixels:
        shape = f"{width}x{height}" + (f"x{frames} frames" if frames > 1 else "")
        raise ImageTooLarge(f"the image is {shape}; the limit is {limits.max_pixels} pixels")
