"""Durations (``90``, ``30m``, ``1h``, ``7d``) and byte sizes (``500k``, ``2M``) as options."""

from __future__ import annotations

import re
from typing import Any

import click

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$", re.IGNORECASE)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BYTES = re.compile(r"^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)
_POWERS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        found = _DURATION.match(str(value))
        if not found or int(found.group(1)) == 0:
            self.fail(f"{value!r} is not a duration such as 90, 30m, 12h or 7d", param, ctx)
        return int(found.group(1)) * _SECONDS[found.group(2).lower()]


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    name = "bytes"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        found = _BYTES.match(str(value))
        if not found or int(found.group(1)) == 0:
            self.fail(f"{value!r} is not a size such as 65536, 500k or 2M", param, ctx)
        return int(found.group(1)) * _POWERS[found.group(2).lower()]
