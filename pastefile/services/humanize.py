"""Human-readable sizes, as the public API spells them ('33.69 kB')."""

from __future__ import annotations

_UNITS = ((1 << 50, "PB"), (1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB"))


def humanize_bytes(size: int, precision: int = 2) -> str:
    if size == 1:
        return "1 byte"
    for factor, suffix in _UNITS:
        if size >= factor:
            return f"{size / factor:.{precision}f} {suffix}"
    return f"{size} bytes"
