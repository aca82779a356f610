"""The libvips engine, through pyvips.

Speed and memory come from libvips itself: ``thumbnail`` shrinks JPEGs while
decoding them (shrink-on-load) and every pipeline streams in sequential
access, so a 24 MP image never sits in memory whole. The header is read
lazily first and checked against the pixel budget; only then is anything
decoded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyvips

from pastefile.errors import CorruptImage
from pastefile.services.imaging.engines.base import (
    Encoded,
    ImageEngine,
    ImageInfo,
    ImageSource,
    Limits,
    check_pixels,
)
from pastefile.services.imaging.params import ANIMATED_FORMATS, MIMETYPES, RenderSpec

log = logging.getLogger(__name__)

# libvips's largest coordinate: "no constraint" on one side of a thumbnail box.
_MAX_COORD = 10_000_000
# Only the decoders we serve; SVG, PDF, CSV, matrix, raw and vips files never load.
_LOADERS = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadWebp",
    "VipsForeignLoadNsgif",
    "VipsForeignLoadTiff",
    "VipsForeignLoadHeif",
)
_configured = threading.Lock()
_CONFIGURED: list[bool] = []


def configure_vips() -> None:
    """Process-wide libvips settings, applied once."""
    with _configured:
        if _CONFIGURED:
            return
        # The operation cache keeps decoded results around; with a few
        # entries it cannot grow into the memory creep thumbor users report.
        pyvips.cache_set_max(16)
        pyvips.cache_set_max_mem(16 * 1024 * 1024)
        pyvips.cache_set_max_files(4)
        pyvips.operation_block_set("VipsForeignLoad", True)
        # Decoder warnings on hostile files are expected; ours is one INFO line.
        logging.getLogger("pyvips").setLevel(logging.ERROR)
        for loader in _LOADERS:
            pyvips.operation_block_set(loader, False)
        _CONFIGURED.append(True)


class _Input:
    """One image source, opened as often as libvips needs it."""

    def __init__(self, source: ImageSource) -> None:
        self.source = source
        # libvips reads a source lazily, long after the call that opened it returns, and
        # pyvips ties a source to an image only for some operations (not thumbnail_source).
        # A custom source's Python callbacks that are collected before that read crash the
        # whole process, so every source lives as long as this input.
        self._opened: list[pyvips.Source] = []

    def header(self) -> pyvips.Image:
        if isinstance(self.source, Path):
            return pyvips.Image.new_from_file(str(self.source), access="sequential")
        return pyvips.Image.new_from_source(self._stream(), "", access="sequential")

    def thumbnail(self, width: int, options: str, **kwargs: Any) -> pyvips.Image:
        if isinstance(self.source, Path):
            # Storage paths are hex digests, so no "[" can be misread as options.
            return pyvips.Image.thumbnail(f"{self.source}[{options}]", width, **kwargs)
        return pyvips.Image.thumbnail_source(self._stream(), width, option_string=options, **kwargs)

    def load(self) -> pyvips.Image:
        if isinstance(self.source, Path):
            return pyvips.Image.new_from_file(str(self.source), fail_on="error")
        return pyvips.Image.new_from_source(self._stream(), "", fail_on="error")

    def _stream(self) -> pyvips.Source:
        stream = self.source
        assert not isinstance(stream, Path)
        stream.seek(0)
        try:
            # libvips dups the descriptor and reads it in C, without the GIL.
            opened = pyvips.Source.new_from_descriptor(stream.fileno())
        except (AttributeError, OSError, ValueError):
            opened = _custom_source(stream)
        self._opened.append(opened)
        return opened


def _custom_source(stream: Any) -> pyvips.Source:
    source = pyvips.SourceCustom()

    def on_read(size: int) -> bytes:
        return bytes(stream.read(size))

    def on_seek(offset: int, whence: int) -> int:
        return int(stream.seek(offset, whence))

    source.on_read(on_read)
    source.on_seek(on_seek)
    return source


@contextmanager
def _decode_errors() -> Iterator[None]:
    try:
        yield
    except pyvips.Error as exc:
        log.info("image refused by libvips: %s", str(exc).replace("\n", " | ")[:300])
        raise CorruptImage("the image data is truncated, corrupt or not supported") from exc


class VipsEngine(ImageEngine):
    name = "vips"

    def __init__(self) -> None:
        configure_vips()

    def probe(self, source: ImageSource) -> ImageInfo:
        with _decode_errors():
            return _info(_Input(source).header())

    def render(self, source: ImageSource, spec: RenderSpec, limits: Limits) -> Encoded:
        with _decode_errors():
            image_input = _Input(source)
            info = _info(image_input.header())
            frames = _frames_kept(info, spec)
            check_pixels(info.width, info.height, frames, limits)
            image = _resize(image_input, info, spec, frames)
            image = _prepare_for(spec, _to_srgb(image))
            if spec.fit == "contain" and spec.w and spec.h:
                image = _per_page(image, lambda page: _pad(page, spec))
            return _encode(image, spec)

    def reencode_clean(self, source: ImageSource, fmt: str, limits: Limits) -> Encoded:
        with _decode_errors():
            image_input = _Input(source)
            info = _info(image_input.header())
            check_pixels(info.width, info.height, 1, limits)
            image = image_input.load().autorot()
            data = _SAVERS[fmt](image, 92, "icc")
            return Encoded(data, MIMETYPES[fmt], image.width, image.height)


def _info(header: pyvips.Image) -> ImageInfo:
    orientation = _int_field(header, "orientation", 1)
    width, height = header.width, header.height
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    exif = header.get("exif-data") if header.get_typeof("exif-data") else None
    # CMYK and tagged images are colour-managed into sRGB; untagged RGB is sRGB already.
    managed = bool(header.get_typeof("icc-profile-data")) or header.interpretation == "cmyk"
    return ImageInfo(
        width=width,
        height=height,
        pages=_int_field(header, "n-pages", 1),
        orientation=orientation,
        exif=bytes(exif) if exif else None,
        has_profile=managed,
    )


def _int_field(image: pyvips.Image, name: str, default: int) -> int:
    return int(image.get(name)) if image.get_typeof(name) else default


def _frames_kept(info: ImageInfo, spec: RenderSpec) -> int:
    """All frames of an animation within the limit; otherwise the first frame."""
    if spec.fmt in ANIMATED_FORMATS and 1 < info.pages <= spec.max_frames:
        return info.pages
    return 1


def _resize(image_input: _Input, info: ImageInfo, spec: RenderSpec, frames: int) -> pyvips.Image:
    # Without fail_on a truncated file decodes as grey padding. thumbnail()
    # honours only the keyword and thumbnail_source() only the option string.
    common: dict[str, Any] = {"fail_on": "error"}
    if info.has_profile:
        common["output_profile"] = "srgb"
    options = "fail_on=error" + (f",n={frames}" if frames > 1 else "")
    if frames > 1 and spec.fit == "cover" and spec.w and spec.h:
        return _animated_cover(image_input, info, spec, options, common)
    width, box = _box(spec)
    return image_input.thumbnail(width, options, **box, **common)


def _box(spec: RenderSpec) -> tuple[int, dict[str, Any]]:
    if spec.w and spec.h:
        extra = {"cover": {"crop": "centre"}, "fill": {"size": "force"}}.get(spec.fit, {})
        return spec.w, {"height": spec.h, **extra}
    if spec.w:
        return spec.w, {"height": _MAX_COORD}
    if spec.h:
        return _MAX_COORD, {"height": spec.h}
    return _MAX_COORD, {"height": _MAX_COORD, "size": "down"}


def _animated_cover(
    image_input: _Input, info: ImageInfo, spec: RenderSpec, options: str, common: dict[str, Any]
) -> pyvips.Image:
    # thumbnail's crop works on the whole strip of frames, so scale each
    # frame to cover the box and crop every frame on its own.
    assert spec.w and spec.h
    scale = max(spec.w / info.width, spec.h / info.height)
    width = max(spec.w, round(info.width * scale))
    height = max(spec.h, round(info.height * scale))
    strip = image_input.thumbnail(width, options, height=height, size="force", **common)
    left, top = (width - spec.w) // 2, (height - spec.h) // 2
    return _per_page(strip, lambda page: page.crop(left, top, spec.w, spec.h))


def _per_page(image: pyvips.Image, change: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    page_height = _int_field(image, "page-height", image.height)
    count = max(1, image.height // page_height)
    if count == 1:
        return change(image)
    pages = [change(image.crop(0, i * page_height, image.width, page_height)) for i in range(count)]
    joined = pyvips.Image.arrayjoin(pages, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", pages[0].height)
    return joined


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    target = {"srgb": None, "b-w": None, "grey16": "b-w"}.get(image.interpretation, "srgb")
    return image.colourspace(target) if target else image


def _prepare_for(spec: RenderSpec, image: pyvips.Image) -> pyvips.Image:
    """JPEG has no alpha: transparency is flattened onto white."""
    if spec.fmt == "jpeg" and image.hasalpha():
        return image.flatten(background=[255] * (image.bands - 1))
    return image


def _pad(page: pyvips.Image, spec: RenderSpec) -> pyvips.Image:
    assert spec.w and spec.h
    if spec.fmt == "jpeg":
        background = [255] * page.bands
    else:
        page = page if page.hasalpha() else page.addalpha()
        background = [0] * page.bands
    return page.gravity("centre", spec.w, spec.h, extend="background", background=background)


def _encode(image: pyvips.Image, spec: RenderSpec) -> Encoded:
    data = _SAVERS[spec.fmt](image, spec.q, "none")
    height = _int_field(image, "page-height", image.height)
    return Encoded(data, spec.mimetype, image.width, height)


# Savers take (image, quality, metadata to keep); "none" drops EXIF, XMP, IPTC and ICC.
_SAVERS: dict[str, Callable[[pyvips.Image, int | None, str], bytes]] = {
    "jpeg": lambda im, q, keep: im.jpegsave_buffer(Q=q or 90, keep=keep, optimize_coding=True),
    "png": lambda im, q, keep: im.pngsave_buffer(keep=keep),
    "webp": lambda im, q, keep: im.webpsave_buffer(Q=q or 90, keep=keep),
    "avif": lambda im, q, keep: im.heifsave_buffer(Q=q or 60, compression="av1", keep=keep),
    "gif": lambda im, q, keep: im.gifsave_buffer(keep=keep),
}
