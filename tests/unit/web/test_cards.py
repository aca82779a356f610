"""Card helpers: the QR code is our own SVG markup; relative times pick their unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pastefile.web.ui import cards


def test_qr_svg_is_our_markup_only():
    svg = str(cards.qr_svg('http://x.test/s/"><script>alert(1)</script>'))
    assert svg.startswith("<svg") and "<script" not in svg and "alert" not in svg


def test_relative_time_units():
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert cards.relative_time(now - timedelta(seconds=5), now) == (5, "seconds")
    assert cards.relative_time(now - timedelta(hours=3), now) == (3, "hours")
    assert cards.relative_time(now - timedelta(days=2), now) == (2, "days")
