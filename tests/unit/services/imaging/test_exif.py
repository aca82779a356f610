"""EXIF summaries of broken blocks say unreadable instead of raising."""

from __future__ import annotations

from pastefile.services.imaging.exif import summarize


def test_garbage_exif_does_not_break_the_upload():
    assert summarize(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", 1) == {"unreadable": True}
    assert summarize(b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", 1) == {"unreadable": True}
