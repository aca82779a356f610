"""The UI's one size format (IEC, labelled so) and the API's compatible one."""

from __future__ import annotations

import pytest

from pastefile.services.humanize import format_size, humanize_bytes


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (1280, "1.3 KiB"),  # half up, in whole numbers: no float ties
        (726_033, "709 KiB"),  # the "709.0 kB" and "709.02 kB", one way now
        (1_048_575, "1 MiB"),  # 1023.999 KiB rounds into the next unit, not "1024 KiB"
        (512 * 1024**2, "512 MiB"),
        (2_500_000, "2.4 MiB"),
        (3 * 1024**5, "3 PiB"),
    ],
)
def test_format_size(size: int, shown: str) -> None:
    assert format_size(size) == shown


def test_the_api_keeps_the_books_spelling() -> None:
    assert humanize_bytes(34_496) == "33.69 kB"
