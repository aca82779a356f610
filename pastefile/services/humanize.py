"""Human-readable sizes: ``format_size``, the web UI's one format (IEC units, labelled as
such), and ``humanize_bytes``, the public API's and RPC's ``size`` as the book spells it
('33.69 kB' for 34,496 bytes), kept for the clients that read it."""

from __future__ import annotations

_UNITS = ((1 << 50, "PB"), (1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB"))


def humanize_bytes(size: int, precision: int = 2) -> str:
    if size == 1:
        return "1 byte"
    for factor, suffix in _UNITS:
        if size >= factor:
            return f"{size / factor:.{precision}f} {suffix}"
    return f"{size} bytes"


_IEC = ("KiB", "MiB", "GiB", "TiB", "PiB")


def format_size(size: int) -> str:
    """'512 bytes', '709 KiB', '2.4 MiB': powers of 1024 named with IEC units, one decimal
    rounded half up in whole numbers, a ".0" left out. static/ui.js (``pastefile.size``)
    computes the same, step by step, so a size reads the same in a page and in its script."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    tenths, power = 0, 0
    while power < len(_IEC):
        power += 1
        divisor = 1024**power
        tenths = (size * 10 + divisor // 2) // divisor
        if tenths < 10240:
            break
    whole, tenth, unit = *divmod(tenths, 10), _IEC[power - 1]
    return f"{whole} {unit}" if tenth == 0 else f"{whole}.{tenth} {unit}"
