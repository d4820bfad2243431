"""Inline SVG charts for the HTML report: line charts with error bars and reference lines, heatmaps.

Plain SVG strings (no scripts, no external references) so the report stays one self-contained
file; colours come from matplotlib's Tableau palette and viridis colormap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import TABLEAU_COLORS, to_hex

PALETTE = tuple(TABLEAU_COLORS.values())


def score_color(value, *, low: float = 0.0, high: float = 1.0) -> tuple[str, str]:
    """(background, text colour) of a score on the viridis scale from ``low`` to ``high`` (clipped);
    a missing score gets a light grey and dark text."""
    if not _ok(value):
        return "#f1f1f1", "#777777"
    fraction = min(max((float(value) - low) / (high - low), 0.0), 1.0)
    return to_hex(colormaps["viridis"](fraction)), "#000000" if fraction > 0.55 else "#ffffff"


def distinct_colors(n: int) -> list[str]:
    """``n`` colours, none repeated: Tableau 10 up to 10, tab20 up to 20, evenly spaced turbo beyond."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    if n <= 20:
        return [to_hex(c) for c in colormaps["tab20"].colors[:n]]
    return [to_hex(colormaps["turbo"](0.05 + 0.9 * i / (n - 1))) for i in range(n)]


@dataclass
class Series:
    """One line: ``x``, ``y`` (n,), optional ``low``/``high`` error-bar ends (n,), ``marked`` point indices."""

    name: str
    x: list[float]
    y: list[float]
    low: list[float] | None = None
    high: list[float] | None = None
    color: str = PALETTE[0]
    dashed: bool = False
    markers: bool = True
    marked: list[int] = field(default_factory=list)


@dataclass
class HLine:
    """A horizontal reference line (e.g. a noise ceiling)."""

    y: float
    label: str
    color: str = "#888888"


def _ok(*values) -> bool:
    """Whether every value is a finite number."""
    try:
        return all(v is not None and math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _finite(values) -> list[float]:
    return [float(v) for v in values if _ok(v)]


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / n
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    start = math.floor(low / step) * step
    return [round(start + i * step, 10) for i in range(int(math.ceil((high - start) / step)) + 1)]


def line_chart(series: list[Series], *, title: str, x_label: str, y_label: str, lines: list[HLine] = (),
               x_ticks: list[tuple[float, str]] | None = None, width: int = 560, height: int = 300,
               y_range: tuple[float, float] | None = None) -> str:
    """An SVG line chart; ``x_ticks`` gives (x, label) pairs for categorical axes such as layers.

    The plot area keeps ``width`` x ``height``; the legend column, the rotated tick labels and the
    title get the room their text needs, so nothing is cut off (the SVG scales down on small screens).
    """
    legend = [(s.name, s.color, ' stroke-dasharray="6,4"' if s.dashed else "") for s in series]
    if lines:
        legend.append(("noise ceiling" if len(lines) > 1 else lines[0].label, "#888888", ' stroke-dasharray="2,3"'))
    longest_tick = max((len(label) for _, label in x_ticks or []), default=0)
    first_tick = len(x_ticks[0][1]) if x_ticks else 0  # a rotated first label reaches left of the axis
    left, top = max(52, 12 + int(5.2 * first_tick)), 28
    right = 40 + int(6.2 * max((len(name) for name, _, _ in legend), default=0))
    bottom = (30 + int(4.2 * longest_tick)) if x_ticks else 42
    pw, ph = width - 52 - 150, height - 28 - (70 if x_ticks else 42)
    ph = max(ph, 16 * len(legend) - 4)
    width = max(left + pw + right, int(7 * len(title)) + left)
    height = top + ph + bottom
    xs = _finite(x for s in series for x in s.x) or [0.0, 1.0]
    ys = _finite([y for s in series for y in s.y] + [v for s in series for v in (s.low or []) + (s.high or [])]
                 + [line.y for line in lines]) or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = y_range or (min(0.0, min(ys)), max(ys))
    yt = _ticks(y0, y1)
    y0, y1 = min(yt[0], y0), max(yt[-1], y1)

    def px(x):
        return left + (float(x) - x0) / (x1 - x0) * pw

    def py(y):
        return top + (1 - (float(y) - y0) / (y1 - y0)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" class="chart"><title>{escape(title)}</title>',
           f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>']
    for t in yt:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 5}" y="{py(t) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>')
    for x, label in x_ticks or [(t, f"{t:g}") for t in _ticks(x0, x1) if x0 <= t <= x1]:
        anchor = (f'text-anchor="end" transform="rotate(-35 {px(x):.1f} {top + ph + 12})"' if x_ticks
                  else 'text-anchor="middle"')
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 14}" {anchor} class="tick">{escape(label)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 4}" text-anchor="middle" class="axis">{escape(x_label)}</text>'
               f'<text x="12" y="{top + ph / 2}" text-anchor="middle" class="axis" '
               f'transform="rotate(-90 12 {top + ph / 2})">{escape(y_label)}</text>')
    for line in lines:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(line.y):.1f}" y2="{py(line.y):.1f}" '
                   f'stroke="{line.color}" stroke-dasharray="2,3"><title>{escape(line.label)}</title></line>')
    for s in series:
        points = [(px(x), py(y)) for x, y in zip(s.x, s.y) if _ok(x, y)]
        dash = ' stroke-dasharray="6,4"' if s.dashed else ""
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
        for i, (x, y) in enumerate(zip(s.x, s.y)):
            if not _ok(x, y):
                continue
            if s.low is not None and s.high is not None and _ok(s.low[i], s.high[i]):
                out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{py(s.low[i]):.1f}" y2="{py(s.high[i]):.1f}" '
                           f'stroke="{s.color}"/>')
            if s.markers or i in s.marked:
                r = 5.5 if i in s.marked else 3
                ring = ' stroke="#000" stroke-width="1.5"' if i in s.marked else ""
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{r}" fill="{s.color}"{ring}>'
                           f'<title>{escape(s.name)}: {float(y):.3f}</title></circle>')
    for i, (name, color, dash) in enumerate(legend):
        y = top + 8 + 16 * i
        out.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 28}" y1="{y}" y2="{y}" stroke="{color}" '
                   f'stroke-width="2"{dash}/><text x="{left + pw + 32}" y="{y + 4}" class="legend">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _block_mean(values: np.ndarray, bins: int) -> np.ndarray:
    """(n, n) -> (bins, bins): the mean of each block of rows and columns (NaNs ignored)."""
    edges = np.linspace(0, values.shape[0], bins + 1).astype(int)
    return np.array([[np.nanmean(values[a:b, c:d]) for c, d in zip(edges[:-1], edges[1:])]
                     for a, b in zip(edges[:-1], edges[1:])])


def heatmap(matrix, *, title: str, size: int = 220, max_cells: int = 64) -> str:
    """An SVG heatmap of a square matrix (n, n), viridis; its value range goes in a ``<desc>``.

    Matrices larger than ``max_cells`` are block-averaged to ``max_cells`` rows and columns (said
    in the title) so the report stays small.
    """
    values = np.asarray(matrix, dtype=float)
    if values.shape[0] > max_cells:
        title = f"{title}, {values.shape[0]}→{max_cells} block means"
        values = _block_mean(values, max_cells)
    n = values.shape[0]
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = high - low or 1.0
    cmap, cell = colormaps["viridis"], size / max(n, 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size + 22}" width="{size}" '
           f'height="{size + 22}" role="img" class="chart"><title>{escape(title)}</title>',
           f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            color = to_hex(cmap((v - low) / span)) if np.isfinite(v) else "#ffffff"
            out.append(f'<rect x="{j * cell:.2f}" y="{22 + i * cell:.2f}" width="{cell + 0.05:.2f}" '
                       f'height="{cell + 0.05:.2f}" fill="{color}"/>')
    out.append(f'<desc>range {low:.3g} to {high:.3g}</desc></svg>')
    return "".join(out)
