"""Charts escape their labels and scale their bars."""

from __future__ import annotations

from pastefile.stats import charts


def test_charts_escape_and_scale():
    svg = str(charts.bar_chart("a<b", ['"><script>'], [5]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&lt;b" in svg
    line = str(charts.line_chart("t", ["d1", "d2"], {"PV": [0, 0]}))
    assert "polyline" in line  # all-zero series still draw


def test_every_bar_is_labelled_and_no_label_is_wider_than_its_bar():
    import re

    labels = [f"a-very-long-file-name-{n}.png" for n in range(10)]
    svg = str(charts.bar_chart("Top files", labels, list(range(10, 0, -1))))
    shown = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert len(shown) == 10  # none skipped
    slot = (charts.WIDTH - charts.LEFT - charts.RIGHT) / 10
    assert all(len(text) * 6.5 <= slot for text in shown), shown
    assert "a-very-long-file-name-3.png: 7" in svg  # the full name in the bar's tooltip
