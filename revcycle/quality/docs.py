"""Data Docs of the quality runs: self-contained HTML pages that open anywhere, offline.

Great Expectations' own Data Docs load their styling and scripts from public CDNs (so
offline they open unstyled) and show unexpected values, which for these suites are birth
and service dates. These pages are written from a :class:`~revcycle.quality.QualityResult`
instead: the run's name and time, each data asset with its suite, and every expectation
with its type, columns, the settings written in the suite, its outcome and counts; a
failed one lists the claims it flagged by our internal claim id, never by a value. Styling
is inline, there is no script and no outside URL, so a page renders from a file, from the
report server or from a presigned link alike.

A docs folder holds one page per run (``run-<yyyymmddThhmmssmmmZ>.html``), a small JSON
summary beside each (``run-....json``: counts only) and ``index.html``, which lists every
run whose summary is in the folder, newest first. Put earlier summaries in the folder
before a run and the index lists those runs too.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revcycle.quality.runner import run_stamp

if TYPE_CHECKING:
    from revcycle.quality.runner import AssetOutcome, ExpectationOutcome, QualityResult

INDEX = "index.html"
SUMMARY_GLOB = "run-*.json"
_PAGE = re.compile(r"run-\d{8}T\d{9}Z\.html")
MAX_IDS_SHOWN = 1000  # claim ids listed per expectation; the work queue has them all

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 color:#1d2430;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}
.sub{color:#5b6472;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e7}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #eceef2}
th{background:#eef1f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{background:#fff4f4}
.ok{color:#1a7f37;font-weight:600}.bad{color:#b42318;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
 background:#f0f2f5;padding:1px 4px;border-radius:3px;word-break:break-all}
details summary{cursor:pointer}
.ids{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-word}
a{color:#0b5cad}
"""


def page_name(run_time: datetime) -> str:
    """File name stem of a run's page: ``run-20260102T060000123Z``."""
    return f"run-{run_stamp(run_time)}"


def write_docs(result: QualityResult, folder: Path) -> tuple[Path, Path]:
    """Write the run's page, its summary and the index under ``folder``; return
    ``(page, index)``."""
    if result.run_time is None:
        raise ValueError("a quality result without a run time has no Data Docs")
    folder.mkdir(parents=True, exist_ok=True)
    stem = page_name(result.run_time)
    page = folder / f"{stem}.html"
    page.write_text(render_run(result), encoding="utf-8")
    (folder / f"{stem}.json").write_text(json.dumps(summary(result, page.name), indent=1),
                                         encoding="utf-8")
    index = folder / INDEX
    index.write_text(render_index(read_summaries(folder)), encoding="utf-8")
    return page, index


def summary(result: QualityResult, page: str) -> dict[str, Any]:
    """What the index shows of a run: its name, time, page and counts."""
    return {
        "run_name": result.run_name,
        "run_time": result.run_time.isoformat() if result.run_time else "",
        "page": page,
        "claims": result.evaluated, "passed": result.passed, "failed": len(result.failed),
        "assets": [{"asset": a.asset, "suite": a.suite, "evaluated": a.stats.evaluated,
                    "successful": a.stats.successful} for a in result.assets],
    }


def read_summaries(folder: Path) -> list[dict[str, Any]]:
    """The run summaries in ``folder``, newest first; unreadable ones are left out."""
    runs = []
    for path in folder.glob(SUMMARY_GLOB):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(run, dict) and _PAGE.fullmatch(str(run.get("page", ""))):
            runs.append(run)
    return sorted(runs, key=lambda r: str(r.get("run_time", "")), reverse=True)


# ------------------------------------------------------------------ HTML


def _document(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _card(label: str, value: object) -> str:
    return f"<div class=\"card\">{escape(label)}<b>{escape(str(value))}</b></div>"


def _when(run_time: datetime | None) -> str:
    return run_time.strftime("%Y-%m-%d %H:%M:%S UTC") if run_time else "unknown time"


def render_run(result: QualityResult) -> str:
    """One run's page: the run, then each data asset and its expectations."""
    parts = [
        f"<h1>Data quality run {escape(result.run_name)}</h1>",
        f"<p class=\"sub\">Run at {escape(_when(result.run_time))} &middot; "
        f"<a href=\"{INDEX}\">all runs of this batch</a></p>",
        "<div class=\"cards\">", _card("claims checked", result.evaluated),
        _card("passed", result.passed), _card("failed", len(result.failed)), "</div>",
    ]
    parts.extend(_asset(asset) for asset in result.assets)
    parts.append("<p class=\"sub\">Failed expectations list our internal claim ids only;"
                 " each claim's findings are in its edits (the work queue).</p>")
    return _document(f"Data Docs {result.run_name}", "".join(parts))


def _asset(asset: AssetOutcome) -> str:
    failed = asset.stats.evaluated - asset.stats.successful
    rows = "".join(_expectation(e) for e in asset.expectations)
    return (
        f"<section><h2>Data asset {escape(asset.asset)}</h2>"
        f"<p class=\"sub\">Suite <code>{escape(asset.suite)}</code> &middot; "
        f"{asset.rows} rows &middot; {asset.stats.evaluated} expectations evaluated, "
        f"{asset.stats.successful} met, {failed} not met</p>"
        "<table><thead><tr><th>id</th><th>expectation</th><th>columns</th><th>settings</th>"
        "<th>result</th><th>rows</th><th>unexpected</th><th>%</th><th>claims flagged</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></section>")


def _number(value: int | float | None, digits: int = 0) -> str:
    if value is None:
        return "&ndash;"
    return f"{value:,.{digits}f}"


def _expectation(e: ExpectationOutcome) -> str:
    settings = "<br>".join(f"<code>{escape(k)}={escape(v)}</code>" for k, v in e.settings)
    columns = ", ".join(f"<code>{escape(c)}</code>" for c in e.columns)
    outcome = "<span class=\"ok\">met</span>" if e.success else "<span class=\"bad\">not met</span>"
    return (
        f"<tr class=\"{'ok' if e.success else 'fail'}\"><td><b>{escape(e.expectation_id)}</b>"
        f"</td><td><code>{escape(e.expectation_type)}</code><br>{escape(e.message)}</td>"
        f"<td>{columns}</td><td>{settings}</td><td>{outcome}</td>"
        f"<td class=\"n\">{_number(e.element_count)}</td>"
        f"<td class=\"n\">{_number(e.unexpected_count)}</td>"
        f"<td class=\"n\">{_number(e.unexpected_percent, 2)}</td>"
        f"<td>{_claim_ids(e.claim_ids)}</td></tr>")


def _claim_ids(ids: tuple[int, ...]) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(int(i)) for i in ids[:MAX_IDS_SHOWN])
    more = f" &hellip; and {len(ids) - MAX_IDS_SHOWN:,} more" if len(ids) > MAX_IDS_SHOWN else ""
    return (f"<details><summary>{len(ids):,} claim{'s' if len(ids) != 1 else ''}</summary>"
            f"<div class=\"ids\">{shown}{more}</div></details>")


def render_index(runs: list[dict[str, Any]]) -> str:
    """The list of runs (from :func:`read_summaries`), each linking to its page."""
    rows = []
    for run in runs:
        assets = ", ".join(
            f"{escape(str(a.get('asset', '')))} {int(a.get('successful', 0))}"
            f"/{int(a.get('evaluated', 0))}"
            for a in run.get("assets", []) if isinstance(a, dict))
        rows.append(
            f"<tr><td><a href=\"{escape(run['page'])}\">{escape(str(run.get('run_name', '')))}"
            f"</a></td><td>{escape(str(run.get('run_time', '')))}</td>"
            f"<td class=\"n\">{int(run.get('claims', 0)):,}</td>"
            f"<td class=\"n\">{int(run.get('passed', 0)):,}</td>"
            f"<td class=\"n\">{int(run.get('failed', 0)):,}</td><td>{assets}</td></tr>")
    body = (
        "<h1>Data Docs</h1><p class=\"sub\">Great Expectations runs of this batch, newest"
        " first. Expectations met / evaluated per data asset.</p>"
        "<table><thead><tr><th>run</th><th>time (UTC)</th><th>claims</th><th>passed</th>"
        "<th>failed</th><th>expectations met</th></tr></thead>"
        f"<tbody>{''.join(rows) or '<tr><td colspan=6>No runs yet.</td></tr>'}</tbody></table>")
    return _document("Data Docs", body)
