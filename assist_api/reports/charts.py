"""Server-rendered SVG charts (no JavaScript, no external assets): a trend line chart, a
horizontal bar chart and a heat map. Every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import pairwise

PALETTE = ("#1d5fd1", "#2e9d5b", "#ef6c00", "#8e44ad", "#c62828", "#00838f")


def _fmt_pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], title: str,
               percent: bool = False, width: int = 640, height: int = 240) -> str:
    """One line per series over the labels; None values leave a gap."""
    left, right, top, bottom = 48, 12, 28, 38
    w, h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    vmax = 1.0 if percent else max(values, default=0) or 1
    if not percent:
        vmax = _nice(vmax)
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h - h * (v / vmax)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif">',
             f'<text x="{left}" y="16" font-size="13" font-weight="600" fill="#1f2933">{escape(title)}</text>']
    for k in range(5):
        tick = vmax * k / 4
        yy = y(tick)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e4e7eb"/>')
        text = _fmt_pct(tick) if percent else f"{tick:g}"
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#7b8794">{text}</text>')
    step = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{top + h + 16}" text-anchor="middle" fill="#7b8794">'
                         f'{escape(_short(label))}</text>')
    legend_x = left
    for idx, (name, vs) in enumerate(series.items()):
        color = PALETTE[idx % len(PALETTE)]
        segments: list[list[str]] = []
        current: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        if current:
            segments.append(current)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            else:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>')
        parts.append(f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{legend_x + 14}" y="{height - 3}" fill="#323f4b">{escape(name)}</text>')
        legend_x += 24 + 12 * len(name) + 14
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: Sequence[tuple[str, float, str]], title: str, width: int = 640) -> str:
    """Horizontal bars: (label, value, annotation) per row, longest bar = largest value."""
    bar_h, gap, left, top = 18, 6, 110, 28
    height = top + len(rows) * (bar_h + gap) + 8
    vmax = max((v for _, v, _ in rows), default=0) or 1
    w = width - left - 150
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">',
             f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{escape(title)}</text>']
    for i, (label, value, note) in enumerate(rows):
        yy = top + i * (bar_h + gap)
        bw = w * value / vmax
        parts.append(f'<text x="{left - 8}" y="{yy + 13}" text-anchor="end" fill="#323f4b">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{yy}" width="{bw:.1f}" height="{bar_h}" rx="3" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + bw + 6:.1f}" y="{yy + 13}" fill="#323f4b">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heat_map(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[float | None]],
             title: str, width: int = 640) -> str:
    """Share per cell from red (0 %) through amber to green (100 %); grey when nothing is due."""
    left, top, cell_h = 60, 28, 26
    n = max(len(columns), 1)
    cell_w = max(6.0, (width - left - 8) / n)
    height = top + len(rows) * cell_h + 22
    parts = [f'<svg class="chart" viewBox="0 0 {left + cell_w * n + 8:.0f} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-size="11" '
             f'font-family="sans-serif">',
             f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{escape(title)}</text>']
    for r, row in enumerate(rows):
        yy = top + r * cell_h
        parts.append(f'<text x="{left - 6}" y="{yy + 17}" text-anchor="end" fill="#323f4b">{escape(row)}</text>')
        for c, column in enumerate(columns):
            v = cells[r][c]
            fill = "#e4e7eb" if v is None else _heat(v)
            label = "无到期" if v is None else _fmt_pct(v)
            xx = left + c * cell_w
            parts.append(f'<rect x="{xx:.1f}" y="{yy}" width="{cell_w - 1:.1f}" height="{cell_h - 2}" fill="{fill}">'
                         f'<title>{escape(row)} {escape(column)}：{label}</title></rect>')
            if cell_w >= 34 and v is not None:
                parts.append(f'<text x="{xx + cell_w / 2:.1f}" y="{yy + 16}" text-anchor="middle" fill="#fff">'
                             f'{label}</text>')
    step = max(1, n // 8)
    for c, column in enumerate(columns):
        if c % step == 0 or c == n - 1:
            parts.append(f'<text x="{left + c * cell_w + cell_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                         f'fill="#7b8794">{escape(_short(column))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heat(v: float) -> str:
    """Red up to 60 %, amber at 80 %, green from 95 % (service-level targets sit near the top)."""
    stops = ((0.6, (198, 40, 40)), (0.8, (239, 108, 0)), (0.95, (46, 125, 50)))
    if v <= stops[0][0]:
        return "#c62828"
    if v >= stops[-1][0]:
        return "#2e7d32"
    for (x0, a), (x1, b) in pairwise(stops):
        if v <= x1:
            t = (v - x0) / (x1 - x0)
            r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
            return f"#{r:02x}{g:02x}{bl:02x}"
    return "#2e7d32"


def _short(label: str) -> str:
    return label[5:] if len(label) == 10 and label[4] == "-" else label  # 2026-10-12 → 10-12


def _nice(v: float) -> float:
    for base in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if v <= base:
            return float(base)
    return float(v)
