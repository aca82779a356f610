"""Client file names: kept for display and downloads, never used in a path."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
# C0 and C1 controls (NUL, CR, LF included), and the bidi controls that make
# "a\u202egnp.exe" display as "aexe.png".
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def sanitize_filename(raw: str | None, fallback_ext: str = "bin") -> str:
    """Reduce a client-supplied name to a safe display name.

    Every name a client gives (at upload, on tus, on rename) goes through here.
    Directory parts, control and bidi characters (NUL included) and leading dots go;
    the result is NFC-normalised and cut to 255 UTF-8 bytes, keeping the
    extension when it can.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = _CONTROL.sub("", name)
    name = re.split(r"[/\\]", name)[-1].strip().lstrip(".")
    if not name:
        return f"file.{fallback_ext}"
    return _truncate_utf8(name, MAX_NAME_BYTES)


def _truncate_utf8(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = limit - len(suffix.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + suffix
