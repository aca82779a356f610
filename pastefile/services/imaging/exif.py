"""A small, defensive reader of EXIF's TIFF structure, and the summary we store.

libvips hands us the raw EXIF block; parsing the few tags we show here keeps
the values exact (libvips formats them for humans) and shares the code that
finds the GPS directory with the GPS stripper.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

# Directory entries we read at most: real files have a few dozen.
MAX_ENTRIES = 512
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class Entry:
    tag: int
    kind: int
    count: int
    position: int  # where the 12-byte entry starts
    value_offset: int  # where the value is: inside the entry or elsewhere

    @property
    def size(self) -> int:
        return _TYPE_SIZES.get(self.kind, 1) * self.count


class Tiff:
    """Directories of a TIFF structure, read through ``read(offset, size)``."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        head = read(0, 8)
        if head[:4] not in (b"II*\x00", b"MM\x00*"):
            raise ValueError("not a TIFF structure")
        self.order = "<" if head[:2] == b"II" else ">"
        self.first_ifd = self.u32(head[4:8])

    def u16(self, raw: bytes) -> int:
        return int(struct.unpack(self.order + "H", raw)[0])

    def u32(self, raw: bytes) -> int:
        return int(struct.unpack(self.order + "I", raw)[0])

    def entries(self, offset: int) -> list[Entry]:
        count = self.u16(self.read(offset, 2))
        if count > MAX_ENTRIES:
            raise ValueError("implausibly large TIFF directory")
        raw = self.read(offset + 2, 12 * count)
        found = []
        for i in range(count):
            tag, kind, n = struct.unpack(self.order + "HHI", raw[i * 12 : i * 12 + 8])
            position = offset + 2 + i * 12
            entry = Entry(tag, kind, n, position, position + 8)
            if entry.size > 4:
                entry = Entry(tag, kind, n, position, self.u32(raw[i * 12 + 8 : i * 12 + 12]))
            found.append(entry)
        return found

    def value(self, entry: Entry) -> Any:
        raw = self.read(entry.value_offset, min(entry.size, 4096))
        if entry.kind == 2:
            return raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
        if entry.kind in (3, 4) and entry.count >= 1:
            return self.u16(raw[:2]) if entry.kind == 3 else self.u32(raw[:4])
        if entry.kind in (5, 10) and entry.count >= 1:
            num, den = self.u32(raw[:4]), self.u32(raw[4:8])
            return (num, den) if den else None
        return None


def bytes_reader(data: bytes) -> Reader:
    def read(offset: int, size: int) -> bytes:
        if offset < 0 or offset + size > len(data):
            raise ValueError("offset outside the EXIF block")
        return data[offset : offset + size]

    return read


def tiff_of_exif(exif: bytes) -> bytes:
    """libvips and WebP may prefix the TIFF structure with ``Exif\\0\\0``."""
    return exif[6:] if exif.startswith(b"Exif\x00\x00") else exif


def summarize(exif: bytes | None, orientation: int) -> dict[str, Any]:
    """Camera, lens, taken-at, exposure and whether GPS is present."""
    summary: dict[str, Any] = {"orientation": orientation} if orientation != 1 else {}
    if not exif:
        return summary
    try:
        tiff = Tiff(bytes_reader(tiff_of_exif(exif)))
        main = _tags(tiff, tiff.first_ifd)
        detail = _tags(tiff, main[TAG_EXIF_IFD]) if isinstance(main.get(TAG_EXIF_IFD), int) else {}
        summary.update(_described(main, detail))
        summary["has_gps"] = _has_gps(tiff, main.get(TAG_GPS_IFD))
    except (ValueError, struct.error):
        summary["unreadable"] = True
    return summary


def summary_json(summary: dict[str, Any]) -> str | None:
    return orjson.dumps(summary).decode() if summary else None


def summary_from_json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        loaded = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _tags(tiff: Tiff, offset: int) -> dict[int, Any]:
    return {entry.tag: tiff.value(entry) for entry in tiff.entries(offset)}


def _has_gps(tiff: Tiff, offset: object) -> bool:
    if not isinstance(offset, int) or offset == 0:
        return False
    # GPSVersionID alone carries no position.
    return any(entry.tag != 0 for entry in tiff.entries(offset))


def _described(main: dict[int, Any], detail: dict[int, Any]) -> dict[str, Any]:
    make, model = main.get(0x010F), main.get(0x0110)
    camera = model if make and model and str(model).startswith(str(make)) else None
    described = {
        "camera": camera or " ".join(str(v) for v in (make, model) if v) or None,
        "lens": detail.get(0xA434),
        "taken_at": _iso(detail.get(0x9003) or main.get(0x0132)),
        "exposure": _exposure(detail.get(0x829A)),
        "aperture": _ratio(detail.get(0x829D), "f/{:.1f}"),
        "iso": detail.get(0x8827),
        "focal_length": _ratio(detail.get(0x920A), "{:.0f} mm"),
    }
    return {key: value for key, value in described.items() if value not in (None, "")}


def _iso(value: object) -> str | None:
    # EXIF writes "2024:05:01 11:59:58", local time with no zone.
    if not isinstance(value, str) or len(value) < 19:
        return None
    return value[:10].replace(":", "-") + "T" + value[11:19]


def _exposure(value: object) -> str | None:
    if not isinstance(value, tuple):
        return None
    num, den = value
    if num and den > num:
        return f"1/{round(den / num)} s"
    return f"{num / den:g} s"


def _ratio(value: object, template: str) -> str | None:
    if not isinstance(value, tuple):
        return None
    return template.format(value[0] / value[1])
