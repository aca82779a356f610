"""Sample images for the image-pipeline tests: real files, built here, some hostile.

The image tests import these builders; image_bytes is the plain sample most tests upload.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pyvips
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from pastefile.services.imaging.engines.vips import VipsEngine

VipsEngine()  # the same loader restrictions as the service


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    """A small real image with gradients and noise, so resizes are not trivial."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = Image.merge("RGB", (gradient, noise, mirrored))
    if mode != "RGB":
        im = im.convert(mode)
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


def header(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def pixel(data: bytes, x: int, y: int) -> list[float]:
    return list(pyvips.Image.new_from_buffer(data, "")(x, y))


def frames_of(data: bytes) -> int:
    image = pyvips.Image.new_from_buffer(data, "", n=-1)
    return int(image.get("n-pages")) if image.get_typeof("n-pages") else 1


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 60000) -> bytes:
    """A small PNG whose header claims side x side pixels (a decompression bomb)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row) for _ in range(400)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def _ifd(entries: list[tuple[int, int, int, int]], next_offset: int) -> bytes:
    packed = b"".join(struct.pack("<HHII", *entry) for entry in sorted(entries))
    return struct.pack("<H", len(entries)) + packed + struct.pack("<I", next_offset)


def nested_tiff(depth: int = 1000, side: int = 50000) -> bytes:
    """A TIFF with a chain of ``depth`` directories, each claiming side x side pixels,
    every one also pointing at the next through SubIFDs: deep nesting and a
    bomb in one small file."""
    ifd_size = 2 + 9 * 12 + 4
    start = 8
    strip = start + depth * ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", start))
    for i in range(depth):
        nxt = start + (i + 1) * ifd_size if i + 1 < depth else 0
        entries = [
            (256, 4, 1, side),  # ImageWidth
            (257, 4, 1, side),  # ImageLength
            (258, 3, 1, 8),  # BitsPerSample
            (259, 3, 1, 1),  # no compression
            (262, 3, 1, 1),  # BlackIsZero
            (273, 4, 1, strip),  # StripOffsets
            (278, 4, 1, side),  # RowsPerStrip
            (279, 4, 1, 16),  # StripByteCounts
            (330, 13, 1, nxt or start),  # SubIFDs: the next one (or back to the first)
        ]
        out += _ifd(entries, nxt)
    out += bytes(16)
    return bytes(out)


def huge_ifd_tiff() -> bytes:
    """A TIFF whose first directory claims 65535 entries it does not have."""
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF) + bytes(64)


def gif_js_polyglot() -> bytes:
    """The classic GIF/JavaScript polyglot: a GIF header that is also a script."""
    return b"GIF89a/*\x00\x00\x00\x00*/=1;alert(document.domain);//" + b"\x3b" + b"<html></html>"


def png_html_polyglot() -> bytes:
    """A PNG signature and header followed by an HTML page instead of image data."""
    ihdr = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    html = b"<html><script>alert(1)</script></html>"
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", html)


def photo(fmt: str = "JPEG", size: tuple[int, int] = (320, 240), **save: object) -> bytes:
    """Gradients plus noise, so encoders have real work."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30)
    im = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def exif_block(orientation: int = 1, gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0112] = orientation
    detail = exif.get_ifd(0x8769)
    detail[0x9003] = "2024:05:01 11:59:58"
    detail[0x829A] = IFDRational(1, 125)
    detail[0x829D] = IFDRational(28, 10)
    detail[0x8827] = 100
    if gps:
        position = exif.get_ifd(0x8825)
        position[1] = "N"
        position[2] = (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2940, 100))
        position[3] = "E"
        position[4] = (IFDRational(2, 1), IFDRational(21, 1), IFDRational(0, 1))
    return exif.tobytes()


def jpeg_with_exif(
    size: tuple[int, int] = (80, 60), orientation: int = 1, gps: bool = True
) -> bytes:
    """A JPEG whose top-left quarter is red, so rotations can be told apart."""
    im = Image.new("RGB", size, (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=95, exif=exif_block(orientation, gps))
    return buffer.getvalue()


def half_transparent(fmt: str = "PNG") -> bytes:
    """Left half opaque red, right half fully transparent."""
    im = Image.new("RGBA", (100, 50), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (50, 0, 100, 50))
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


def animation(fmt: str = "GIF", frames: int = 5, size: tuple[int, int] = (120, 80)) -> bytes:
    images = [Image.new("RGB", size, (20 * i, 255 - 20 * i, 0)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format=fmt, save_all=True, append_images=images[1:], duration=100, loop=0
    )
    return buffer.getvalue()


def display_p3_green() -> bytes:
    """Pure sRGB green, stored as Display-P3 pixels with an embedded P3 profile."""
    green = pyvips.Image.black(64, 64, bands=3).new_from_image([0, 255, 0]).cast("uchar")
    green = green.copy(interpretation="srgb")
    p3 = green.icc_transform("p3", input_profile="srgb")
    return bytes(p3.jpegsave_buffer(Q=95, keep="icc"))


def sizes_of(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in root.rglob("*") if p.is_file()}
