"""Charts escape their labels and scale their bars."""

from __future__ import annotations

from pastefile.stats import charts


def test_charts_escape_and_scale():
    svg = str(charts.bar_chart("a<b", ['"><script>'], [5]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&lt;b" in svg
    line = str(charts.line_chart("t", ["d1", "d2"], {"PV": [0, 0]}))
    assert "polyline" in line  # all-zero series still draw
