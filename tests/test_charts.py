"""The server-drawn charts stay readable on a phone: text at least 12 px when the drawing is shown about
330 px wide, the title above the tallest bar's value label, and the distribution's axis in ranges."""
from __future__ import annotations

import re

from blueprints.duties import charts
from blueprints.suggestions.stats import bar_chart as horizontal_chart

PHONE_WIDTH = 330  # a 390 px screen less the page's and the card's padding


def _smallest_text_px(svg: str) -> float:
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    return min(sizes) * PHONE_WIDTH / width


def test_the_distribution_is_labelled_by_ranges_that_cover_every_total():
    totals = [0, 2.5, 7, 12, 19.5, 33, 61]
    labels, counts = charts.histogram(totals)
    assert sum(counts) == len(totals)
    bounds = [tuple(float(x) for x in label.split("–")) for label in labels]
    assert bounds[0][0] <= min(totals) and bounds[-1][1] >= max(totals)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))  # contiguous ranges


def test_chart_text_is_at_least_12_px_on_a_phone_and_the_title_clears_the_values():
    labels, counts = charts.histogram([float(n) for n in range(0, 120, 3)])
    svg = charts.bar_chart(labels, counts, "积分分布（人数）", "人")
    assert _smallest_text_px(svg) >= 12
    title_y = float(re.search(r'<text x="0" y="([\d.]+)"[^>]*font-weight="bold"', svg).group(1))
    value_ys = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" font-size="14" text-anchor="middle"', svg)]
    assert value_ys and min(value_ys) - 14 > title_y  # the value's glyphs start below the title's baseline

    months = charts.bar_chart([f"{m}月" for m in range(1, 13)], [90] * 12, "每月履职活动（次）", "次")
    assert _smallest_text_px(months) >= 12
    assert "10月" not in months  # a month label that would overlap its neighbours is shortened to "10"

    assert _smallest_text_px(horizontal_chart("答复类别", [("A 已经解决", 3), ("B 正在解决", 2)])) >= 12
