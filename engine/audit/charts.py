"""Charts for the audit reports, drawn as inline SVG by hand: no script, no library,
nothing fetched. Each chart has a title and a text alternative for screen readers,
draws its numbers on it, and uses colours told apart by people with colour-blindness
(Okabe and Ito's palette) that also survive grey printing beside their labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["COLOURS", "stacked_bars", "bars", "lines", "reliability"]

# By outcome, and for the two series of the acceptance chart.
COLOURS = {"page_removed": "#0072B2", "posts_removed": "#56B4E9", "geo_blocked": "#E69F00",
           "no_action": "#D55E00", "pending": "#999999", "observed": "#0072B2",
           "predicted": "#D55E00", "bar": "#0072B2"}
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" style="max-width: {width}px" role="img" '
            f'aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#1b1b1f",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" {_FONT}>{escape(text)}</text>')


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for label, colour in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, y, label))
        x += 24 + 7 * len(label)
    return out


def stacked_bars(categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]],
                 title: str) -> str:
    """One horizontal bar per category, split by series (label, colour, values)."""
    label_width, width, row, top = 120, 760, 28, 34
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    scale = (width - label_width - 60) / max(max(totals, default=1), 1)
    body = _legend([(label, colour) for label, colour, _ in series], label_width, 16)
    for i, category in enumerate(categories):
        y = top + i * row
        body.append(_text(label_width - 8, y + 15, category, "end"))
        x = label_width
        for label, colour, values in series:
            value = values[i]
            if not value:
                continue
            w = value * scale
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="20" '
                        f'fill="{colour}"><title>{escape(category)}: {value} {escape(label)}'
                        "</title></rect>")
            if w >= 8 * len(str(value)) + 4:
                ink = "#fff" if colour in ("#0072B2", "#D55E00") else "#1b1b1f"
                body.append(_text(x + w / 2, y + 14.5, str(value), "middle", ink))
            x += w
        body.append(_text(x + 6, y + 14.5, f"{totals[i]:,}", weight="bold"))
    return _svg(width, top + row * len(categories) + 6, title, body)


def bars(labels: Sequence[str], values: Sequence[int], title: str) -> str:
    """Horizontal bars, largest first, for labels that may be long."""
    width, row, top = 760, 26, 8
    label_width = min(max((len(label) for label in labels), default=10) * 7 + 12, 420)
    scale = (width - label_width - 50) / max(max(values, default=1), 1)
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        shown = label if len(label) * 7 + 12 <= label_width else label[:label_width // 7 - 2] + "…"
        body.append(_text(label_width - 8, y + 14, shown, "end"))
        body.append(f'<rect x="{label_width}" y="{y}" width="{value * scale:.1f}" height="18" '
                    f'fill="{COLOURS["bar"]}"><title>{escape(label)}: {value}</title></rect>')
        body.append(_text(label_width + value * scale + 6, y + 14, f"{value:,}", weight="bold"))
    return _svg(width, top + row * len(labels) + 4, title, body)


def _axes(left: int, top: int, plot_w: int, plot_h: int, percent_ticks: bool) -> list[str]:
    out = []
    for k in range(0, 11, 2):
        y = top + plot_h - plot_h * k / 10
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#e0e0e0"/>')
        out.append(_text(left - 6, y + 4, f"{k * 10}%" if percent_ticks else f"{k / 10:.1f}",
                         "end", "#5f6368"))
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#5f6368"/>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
               f'y2="{top + plot_h}" stroke="#5f6368"/>')
    return out


def lines(xs: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]],
          title: str) -> str:
    """Shares (0 to 1) over periods, one line per series; gaps where a value is None."""
    width, height, left, top, bottom = 760, 300, 48, 30, 48
    plot_w, plot_h = width - left - 20, height - top - bottom
    step = plot_w / max(len(xs) - 1, 1)
    body = _legend([(label, colour) for label, colour, _ in series], left, 16)
    body += _axes(left, top, plot_w, plot_h, percent_ticks=True)
    every = max(1, len(xs) // 12)
    for i, x in enumerate(xs):
        if i % every == 0:
            body.append(_text(left + i * step, top + plot_h + 18, x, "middle", "#5f6368"))
    for label, colour, values in series:
        points = [(left + i * step, top + plot_h - plot_h * v, v)
                  for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2.5"/>')
        for x, y, v in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                        f"<title>{escape(label)}: {v:.0%}</title></circle>")
    return _svg(width, height, title, body)


def reliability(rows: Sequence[dict], title: str) -> str:
    """Predicted likelihood (x) against how often platforms acted (y), one dot per
    tenth of the scale, sized by its number of cases; the diagonal is perfect
    calibration."""
    left, top, bottom, right = 64, 16, 40, 40
    plot = 300
    size, height = left + plot + right, top + plot + bottom
    body = _axes(left, top, plot, plot, percent_ticks=True)
    body.append(f'<line x1="{left}" y1="{top + plot}" x2="{left + plot}" y2="{top}" '
                f'stroke="#9aa0a6" stroke-dasharray="4 4"/>')
    for k in range(0, 11, 2):
        body.append(_text(left + plot * k / 10, top + plot + 16, f"{k * 10}%", "middle",
                          "#5f6368"))
    body.append(_text(left + plot / 2, top + plot + 34, "likelihood we gave", "middle"))
    body.append(f'<text transform="translate(14 {top + plot / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle" fill="#1b1b1f" {_FONT}>share acted on</text>')
    largest = max((r["cases"] for r in rows), default=1)
    for r in rows:
        x = left + plot * r["predicted"]
        y = top + plot - plot * r["observed"]
        radius = 4 + 8 * (r["cases"] / largest) ** 0.5
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" '
                    f'fill="{COLOURS["observed"]}" fill-opacity="0.75">'
                    f"<title>{r['cases']} cases: predicted {r['predicted']:.0%}, acted on "
                    f"{r['observed']:.0%}</title></circle>")
        body.append(_text(x + radius + 3, y + 4, str(r["cases"]), fill="#5f6368"))
    return _svg(size, height, title, body)
