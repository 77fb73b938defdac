"""The run report as one self-contained HTML page: inline CSS, inline SVG charts, the same
tables as the markdown artifact. It names no URL, loads no script, font or image, and
opens from a file, a mail attachment or an object store alike."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from revcycle.reporting.charts import charts
from revcycle.reporting.tables import ReportTable, report_tables, run_report_title

CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 2em auto;
       max-width: 70em; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.4em; }
p.note { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin-bottom: 0.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left;
         vertical-align: top; }
th { background: #f3f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.none { color: #777; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
"""


def html_report(report: Mapping[str, Any], title: str | None = None) -> str:
    """The page of one report dict (a tenant's or a run's)."""
    title = title or run_report_title(report)
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             f"<h1>{escape(title)}</h1>",
             '<p class="note">Counts, amounts, our ids and codes only: no patient data.'
             " Rates are of the claims of this business day as they stand now.</p>",
             '<div class="charts">', *charts(report, standalone=False).values(), "</div>"]
    for table in report_tables(report):
        parts.append(_table(table))
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _table(table: ReportTable) -> str:
    def cell(tag: str, index: int, text: str) -> str:
        numeric = ' class="num"' if index in table.numeric else ""
        return f"<{tag}{numeric}>{escape(text)}</{tag}>"

    rows = ["<tr>" + "".join(cell("th", i, c) for i, c in enumerate(table.columns)) + "</tr>"]
    rows += ["<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
             for row in table.rows]
    if not table.rows:
        rows.append(f'<tr><td class="none" colspan="{len(table.columns)}">none</td></tr>')
    return f"<h2>{escape(table.title)}</h2>\n<table>\n" + "\n".join(rows) + "\n</table>"
