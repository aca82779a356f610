"""Transform parameters: parsed and validated once, then normalised into a cache key.

``TransformRequest`` is what the URL asked for (used for signatures and the
size allowlist). ``RenderSpec`` is every decision made, defaults included; its
``key`` names the variant, so ``?w=300`` and ``?w=300&fmt=jpeg&q=82`` on a
JPEG share one cached blob.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pastefile.errors import InvalidDimensions, InvalidTransform

FITS = ("cover", "contain", "fill", "inside")
FORMATS = ("jpeg", "png", "webp", "avif")
TRANSFORM_ARGS = ("w", "h", "fit", "fmt", "q")
SIGNATURE_ARG = "sig"

MIMETYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
}
DEFAULT_QUALITY = {"jpeg": 82, "webp": 80, "avif": 55}
ANIMATED_FORMATS = frozenset({"gif", "webp"})
# The output format when none is asked: the source's own when browsers show it.
_DEFAULT_FORMAT = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/tiff": "png",
    "image/heic": "jpeg",
    "image/heif": "jpeg",
}
_ALIASES = {"jpg": "jpeg"}
_INTEGER = re.compile(r"[0-9]{1,9}")
# Bumped when the pipeline's output changes, so old cached variants are not reused.
PIPELINE_VERSION = "v1"


@dataclass(frozen=True)
class TransformRequest:
    """The transform as asked: every field optional, values normalised."""

    w: int | None = None
    h: int | None = None
    fit: str | None = None
    fmt: str | None = None
    q: int | None = None

    def canonical(self) -> str:
        """A stable text of what was asked; signatures are computed over it."""
        given = ((k, getattr(self, k)) for k in TRANSFORM_ARGS)
        return "&".join(f"{k}={v}" for k, v in given if v is not None)

    @property
    def size_label(self) -> str:
        """``WxH`` with an empty side when absent, as the allowlist spells sizes."""
        return f"{self.w or ''}x{self.h or ''}"


@dataclass(frozen=True)
class RenderSpec:
    """Everything the engine needs to produce one variant."""

    w: int | None
    h: int | None
    fit: str
    fmt: str
    q: int | None
    max_frames: int

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.fmt]

    @property
    def key(self) -> str:
        frames = f"/frames{self.max_frames}" if self.fmt in ANIMATED_FORMATS else ""
        size = f"w{self.w or ''}/h{self.h or ''}"
        return f"{PIPELINE_VERSION}/{size}/{self.fit}/{self.fmt}/q{self.q or ''}{frames}"


def wants_transform(query: Mapping[str, str]) -> bool:
    """True when a query string asks for a derived image rather than the original."""
    return any(name in query for name in (*TRANSFORM_ARGS, SIGNATURE_ARG))


def parse_request(
    query: Mapping[str, str], max_dimension: int, max_pixels: int | None = None
) -> TransformRequest:
    """Validate ``w``, ``h``, ``fit``, ``fmt`` and ``q``; anything wrong is a 400."""
    request = TransformRequest(
        w=_dimension(query, "w", max_dimension),
        h=_dimension(query, "h", max_dimension),
        fit=_choice(query, "fit", FITS),
        fmt=_choice(query, "fmt", FORMATS),
        q=_quality(query),
    )
    if max_pixels is not None and request.w and request.h:
        check_output_area(request.w, request.h, max_pixels)
    return request


def check_output_area(width: int, height: int, max_pixels: int) -> None:
    """Refuse outputs bigger than the pixel limit: a tiny source blown up to
    8192x8192 would cost as much memory as the bomb the input check stops."""
    if width * height > max_pixels:
        raise InvalidDimensions(
            f"{width}x{height} is more than the limit of {max_pixels} pixels per image"
        )


def resolve(request: TransformRequest, source_mimetype: str, max_frames: int) -> RenderSpec:
    """Fill in the defaults that depend on the source image and the settings."""
    fmt = request.fmt or _DEFAULT_FORMAT.get(source_mimetype, "png")
    # With one side or none there is nothing to crop, pad or stretch.
    both = request.w is not None and request.h is not None
    fit = (request.fit or "cover") if both else "inside"
    quality = (request.q or DEFAULT_QUALITY[fmt]) if fmt in DEFAULT_QUALITY else None
    frames = max_frames if source_mimetype in ("image/gif", "image/webp") else 1
    return RenderSpec(request.w, request.h, fit, fmt, quality, frames)


def book_spec(size: tuple[int, int], source_mimetype: str) -> RenderSpec:
    """The ``w``/``h`` crop-resize: exact size, centre crop, the source's format when it can."""
    fmt = _BOOK_FORMAT.get(source_mimetype, "png")
    quality = {"jpeg": 88, "webp": 85}.get(fmt)
    return RenderSpec(size[0], size[1], "cover", fmt, quality, 1)


_BOOK_FORMAT = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def _dimension(query: Mapping[str, str], name: str, limit: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or not 0 < int(raw) <= limit:
        raise InvalidDimensions(f"{name} must be a whole number between 1 and {limit}")
    return int(raw)


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = query.get(name)
    if raw is None:
        return None
    value = _ALIASES.get(raw.lower(), raw.lower())
    if value not in allowed:
        raise InvalidTransform(f"{name} must be one of {', '.join(allowed)}")
    return value


def _quality(query: Mapping[str, str]) -> int | None:
    raw = query.get("q")
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or not 1 <= int(raw) <= 100:
        raise InvalidTransform("q must be a whole number between 1 and 100")
    return int(raw)


_DIGITS = re.compile(r"[0-9]{1,9}")


def parse_dimensions(
    width: object, height: object, limit: int, max_pixels: int | None = None
) -> tuple[int, int] | None:
    """Validate a ``w``/``h`` pair; both absent means no resize.

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
