"""Small server-side SVG charts: no JavaScript, no CDN, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 36
COLORS = ("#2f6fde", "#e0782f", "#2a9d5c", "#b03a9c", "#7a7a7a", "#c9a227")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _scale(values: Sequence[float]) -> float:
    top = max((float(v) for v in values), default=0.0)
    return top if top > 0 else 1.0


def _frame(title: str, body: list[str], peak: float) -> Markup:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{_e(title)}" class="stats-chart">',
        f"<title>{_e(title)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{_e(title)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="10" text-anchor="end">'
        f"{_e(human(peak))}</text>",
        f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" font-size="10" text-anchor="end">0</text>',
        *body,
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - every dynamic part went through _e


def _x_labels(labels: Sequence[str], xs: Sequence[float], every: bool = False) -> list[str]:
    step = 1 if every else max(1, len(labels) // 6)
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
        f'text-anchor="middle">{_e(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % step == 0
    ]


def _legend(names: Sequence[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        x = LEFT + 110 * i
        color = COLORS[i % len(COLORS)]
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="10">{_e(name)}</text>'
        )
    return out


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> Markup:
    """One polyline per series over shared x labels (days)."""
    peak = _scale([v for values in series.values() for v in values])
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    n = max(len(labels) - 1, 1)
    xs = [LEFT + span_x * i / n for i in range(len(labels))]
    body = _x_labels(labels, xs)
    for i, values in enumerate(series.values()):
        points = " ".join(
            f"{x:.1f},{HEIGHT - BOTTOM - span_y * float(v) / peak:.1f}"
            for x, v in zip(xs, values, strict=False)
        )
        color = COLORS[i % len(COLORS)]
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
    return _frame(title, body + _legend(list(series)), peak)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """Vertical bars, one per label, with the value on top."""
    peak = _scale(values)
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    slot = span_x / max(len(values), 1)
    xs = [LEFT + slot * (i + 0.5) for i in range(len(values))]
    # Every bar has its label, cut to the bar's slot (about 6 px a character at 10 px),
    # so neighbours never overlap; the full name is in the bar's tooltip.
    fits = max(3, int(slot // 6.5))
    body = _x_labels([_short(label, fits) for label in labels], xs, every=True)
    for x, v, label in zip(xs, values, labels, strict=True):
        h = span_y * float(v) / peak
        y = HEIGHT - BOTTOM - h
        body.append(
            f'<rect x="{x - slot * 0.35:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLORS[0]}"><title>{_e(label)}: {_e(human(v))}</title></rect>'
        )
    return _frame(title, body, peak)


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def human(value: float) -> str:
    number = float(value)
    for unit in ("", "k", "M", "G", "T"):
        if abs(number) < 1000:
            return f"{number:.0f}{unit}" if unit == "" else f"{number:.1f}{unit}"
        number /= 1000
    return f"{number:.1f}P"
