"""Horizontal bar charts as SVG text, written by hand: no plotting library, no fonts or
scripts fetched, the same bytes for the same figures (so a re-run rewrites an equal file).

>>> svg = bar_chart("claims", [("PAID", 3), ("DENIED", 1)])
>>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "DENIED" in svg
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from revcycle.formatting import dollars

WIDTH = 640
LABEL_WIDTH = 200  # the labels' column, left of the bars
VALUE_WIDTH = 150  # room right of the longest bar for its value
BAR_HEIGHT = 18
BAR_GAP = 6
TITLE_HEIGHT = 30
MAX_LABEL = 30  # characters; longer labels are cut with an ellipsis
FONT = "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\""

Number = int | float | Decimal


def bar_chart(title: str, bars: Sequence[tuple[str, Number]], *,
              value_text: Callable[[Number], str] = lambda v: f"{v:,}",
              color: str = "#3b6ea5", standalone: bool = True) -> str:
    """One horizontal bar per (label, value), longest bar the largest value. Inline in an
    HTML page (``standalone=False``) the ``svg`` element has no namespace attribute: HTML
    gives it one, and the page then names no URL at all."""
    height = TITLE_HEIGHT + max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = [f'<svg{namespace} width="{WIDTH}" height="{height}"'
             f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label={quoteattr(title)}>',
             f"<title>{escape(title)}</title>",
             f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
             f'<text x="0" y="18" {FONT} font-weight="bold">{escape(title)}</text>']
    if not bars:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{TITLE_HEIGHT + 13}" {FONT}'
                     f' fill="#666666">none</text>')
    largest = max((Decimal(str(v)) for _, v in bars), default=Decimal(0))
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    for i, (label, value) in enumerate(bars):
        y = TITLE_HEIGHT + i * (BAR_HEIGHT + BAR_GAP)
        width = Decimal(str(value)) / largest * span if largest > 0 else Decimal(0)
        width = max(width, Decimal(0)).quantize(Decimal("0.1"))
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" {FONT} text-anchor="end">'
            f"{escape(_short(label))}</text>",
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}"'
            f' fill="{color}"><title>{escape(label)}: {escape(value_text(value))}</title></rect>',
            f'<text x="{LABEL_WIDTH + width + 4}" y="{y + 13}" {FONT}>'
            f"{escape(value_text(value))}</text>"]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "\u2026"


def charts(report: Mapping[str, Any], *, standalone: bool = True) -> dict[str, str]:
    """The run report's charts by file stem: claims by status, and denied claims by
    reason (CARC) with the amount denied."""
    reasons = report["kpis"]["denial_rate"]["by_reason"]
    return {
        "claims-by-status": bar_chart(
            "Claims by status", list(report["claims"]["by_status"].items()),
            standalone=standalone),
        "denials-by-reason": bar_chart(
            "Denied claims by reason (CARC, amount denied)",
            [(f"{r['carc']} {dollars(r['amount'])}", r["claims"]) for r in reasons],
            value_text=lambda n: f"{n:,} claim{'' if n == 1 else 's'}", color="#b5523b",
            standalone=standalone),
    }
