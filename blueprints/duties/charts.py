"""Server-side SVG bar charts: no JavaScript, no external library, readable when printed.
Colours are SVG presentation attributes (the CSP forbids inline style attributes)."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

from markupsafe import Markup

# A narrow drawing: on a 390 px phone it is shown about 330 px wide, so 14-unit text stays above 12 px; the
# title sits in its own band above the tallest bar's value label, so the two never overlap.
WIDTH, HEIGHT = 360, 256
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 36, 40, 48
BAR = "#0b4f8a"


def bar_chart(labels: list[str], values: list[float], title: str, unit: str = "") -> Markup:
    """A captioned bar chart; each bar carries a <title> so a screen reader or a hover reads its value."""
    top = max(values) if values and max(values) > 0 else 1
    top = -(-top // 4) * 4 if top >= 4 else top  # whole-number gridlines
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    step = plot_w / max(1, len(values))
    if max((_width(label, 14) for label in labels), default=0) > step - 2:
        labels = [label.removesuffix("月") for label in labels]  # "10月" no longer fits a month: "10"
    two_lines = max((_width(label, 14) for label in labels), default=0) > step - 2  # "100–" over "120"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="{escape(title, {chr(34): "&quot;"})}" class="chart">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>']
    for i in range(5):  # four gridlines with their values
        value = top * i / 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" font-size="14" text-anchor="end" '
                     f'fill="#555">{value:g}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        x = MARGIN_LEFT + i * step + step * 0.15
        y = MARGIN_TOP + plot_h - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{BAR}">'
                     f"<title>{escape(label)}：{value:g}{escape(unit)}</title></rect>")
        cx = x + step * 0.35
        if two_lines and "–" in label:
            low, high = label.split("–", 1)
            text = (f'<tspan x="{cx:.1f}">{escape(low)}–</tspan>'
                    f'<tspan x="{cx:.1f}" dy="15">{escape(high)}</tspan>')
        else:
            text = escape(label)
        parts.append(f'<text x="{cx:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 18}" font-size="14" '
                     f'text-anchor="middle" fill="#333">{text}</text>')
        if value:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" font-size="14" text-anchor="middle" '
                         f'fill="#333">{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every label and value above is escaped)


def _width(text: str, size: int) -> float:
    """About how wide text is drawn: a CJK character is a square, a digit or dash a little over half."""
    return sum(size if ord(ch) > 0x2000 and ch != "–" else size * 0.58 for ch in text)


def histogram(totals: list[float], buckets: int = 6) -> tuple[list[str], list[int]]:
    """Equal-width buckets of whole points over the range of the totals, each labelled by its range
    ("10–20": from 10 up to, not including, 20; the last one includes its upper bound)."""
    if not totals:
        return [], []
    low, high = math.floor(min(totals)), math.ceil(max(totals))
    width = max(1, math.ceil((high - low) / buckets))
    counts = [0] * buckets
    for t in totals:
        counts[min(buckets - 1, int((t - low) // width))] += 1
    return [f"{low + i * width:g}–{low + (i + 1) * width:g}" for i in range(buckets)], counts
