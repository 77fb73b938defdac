"""The run report's tables, as a person reads them: one list of titled tables with
formatted cells (dollars ``$1,234.56``, rates ``97.5%``) that the markdown artifact, the
HTML page and the ``revcycle report`` command all render, so they show the same figures.

Built from a report dict of :mod:`revcycle.pipeline.report` (counts, amounts, ids and
codes only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from revcycle.codesets.carc import describe_carc
from revcycle.formatting import dollars, percent
from revcycle.pipeline.aging import ACCOUNT_NAMES, BUCKETS


@dataclass(frozen=True, slots=True)
class ReportTable:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned columns


def run_report_title(report: Mapping[str, Any]) -> str:
    """``Revenue cycle 2026-11-02: northside`` (the tenant, or the tenants of the run)."""
    who = report.get("tenant") or ", ".join(report.get("tenants", [])) or "no tenant"
    return f"Revenue cycle {report['business_date']}: {who}"


def report_tables(report: Mapping[str, Any]) -> list[ReportTable]:
    """Claims by status, dollars, KPIs, top edits, denials by payer and by reason, what
    needs a person, the A/R aging and what the A/R is, in that order."""
    kpis = report["kpis"]
    denials = kpis["denial_rate"]
    return [
        ReportTable("claims by status", ("status", "claims"),
                    [*((status, f"{n:,}") for status, n in report["claims"]["by_status"].items()),
                     ("total", f"{report['claims']['in']:,}")], frozenset({1})),
        ReportTable("dollars", ("", "amount"), _dollar_rows(report), frozenset({1})),
        ReportTable("KPIs", ("KPI", "value", "from"), _kpi_rows(kpis, report["posting"]),
                    frozenset({1})),
        ReportTable("top edits", ("rule", "stage", "claims", "held"),
                    [(e["rule"], e["stage"], f"{e['claims']:,}", dollars(e["held"]))
                     for e in report["top_edits"]], frozenset({2, 3})),
        ReportTable("denials by payer", ("payer", "denied", "adjudicated", "denial rate",
                                         "denied billed"),
                    [(p["payer"], f"{p['denied']:,}", f"{p['adjudicated']:,}",
                      percent(p["rate"]), dollars(p["denied_billed"]))
                     for p in denials["by_payer"]], frozenset({1, 2, 3, 4})),
        ReportTable("denials by reason", ("CARC", "description", "claims", "share of"
                                          " adjudicated", "amount"),
                    [(r["carc"], r["description"] or "not in our list (see the X12 CARC"
                      " list)", f"{r['claims']:,}", percent(r["rate"]), dollars(r["amount"]))
                     for r in denials["by_reason"]], frozenset({2, 3, 4})),
        ReportTable("what needs a person", ("what", "detail", "count", "dollars"),
                    [(r["what"], r["detail"], f"{r['count']:,}", r["dollars"])
                     for r in worklist_rows(report)], frozenset({2, 3})),
        ReportTable(f"A/R aging as of {report['business_date']} (days since submission)",
                    ("payer", *BUCKETS, "total"), _aging_rows(report["ar_aging"]),
                    frozenset(range(1, len(BUCKETS) + 2))),
        receivable_table(report["ar_aging"]),
    ]


def receivable_table(aging: Mapping[str, Any]) -> ReportTable:
    """What the open A/R is (open with the payer, denied and in work, owed by the next
    payer), denied dollars in work by reason with timely filing apart, write-offs by
    reason, and credit balances (money owed back)."""
    work, credits = aging["denied_in_work"], aging["credits"]
    rows = [(ACCOUNT_NAMES.get(account, account), "", "", dollars(amount))
            for account, amount in aging["by_account"].items()]
    rows += [("denied, in work", f"{reason} {describe_carc(reason.rpartition('-')[2])}",
              f"{row['claims']:,}", dollars(row["amount"]))
             for reason, row in work["by_reason"].items()]
    timely = work["timely_filing"]
    rows.append(("denied, in work", "timely filing (CARC 29), apart",
                 f"{timely['claims']:,}", dollars(timely["amount"])))
    rows += [("written off", reason, f"{row['claims']:,}", dollars(row["amount"]))
             for reason, row in aging["write_offs"]["by_reason"].items()]
    rows.append(("written off", "total", "", dollars(aging["write_offs"]["total"])))
    rows.append(("credit balances", "owed back (revcycle queue refunds)",
                 f"{credits['claims']:,}", dollars(credits["amount"])))
    return ReportTable("open A/R by kind, denials in work, write-offs, credit balances",
                       ("", "reason", "claims", "amount"), rows, frozenset({2, 3}))


def _dollar_rows(report: Mapping[str, Any]) -> list[tuple[str, ...]]:
    posting = report["posting"]
    return [*((name.replace("_", " "), dollars(amount))
              for name, amount in report["dollars"].items()),
            ("claim payments posted", dollars(posting["claim_payments"])),
            ("of which with no human step", dollars(posting["auto_posted"])),
            ("posted by hand", dollars(posting["posted_by_hand"])),
            ("unapplied cash", dollars(posting["unapplied"]))]


def _kpi_rows(kpis: Mapping[str, Any], posting: Mapping[str, Any]) -> list[tuple[str, ...]]:
    clean, first = kpis["clean_claim_rate"], kpis["first_pass_acceptance"]
    denial, net = kpis["denial_rate"], kpis["net_collection_rate"]
    rows = [
        ("clean-claim rate", percent(clean["rate"]),
         f"{clean['clean']:,} of {clean['decided']:,} first submissions passed quality,"
         " scrub and the payer's front end"),
        ("first-pass acceptance", percent(first["rate"]),
         f"{first['accepted']:,} of {first['answered']:,} answered by the payer accepted"),
        ("denial rate", percent(denial["rate"]),
         f"{denial['denied']:,} of {denial['adjudicated']:,} adjudicated claims denied"),
        ("net collection rate", percent(net["rate"]),
         f"{dollars(net['payments'])} paid of {dollars(net['charges'])} charged less"
         f" {dollars(net['contractual'])} contractual (CO-45) and"
         f" {dollars(net['prior_payer_paid'])} paid by a prior payer (OA-23)"),
    ]
    ar = kpis.get("days_in_ar")
    if ar is not None:
        rows.append(("days in A/R", "-" if ar["days"] is None else f"{ar['days']:.1f}",
                     f"{dollars(ar['open_ar'])} open A/R over"
                     f" {dollars(ar['average_daily_charges'])} charged a day"
                     f" ({ar['look_back_days']} days {ar['from']} to {ar['to']})"))
    rows.append(("auto-posted", percent(posting["auto_post_rate"]),
                 f"{dollars(posting['auto_posted'])} of {dollars(posting['claim_payments'])}"
                 " claim payments posted with no human step"))
    return rows


def _aging_rows(aging: Mapping[str, Any]) -> list[tuple[str, ...]]:
    rows = [(payer, *(dollars(amounts[b]) for b in BUCKETS), dollars(amounts["total"]))
            for payer, amounts in aging["by_payer"].items()]
    rows.append(("all payers", *(dollars(aging["buckets"][b]["amount"]) for b in BUCKETS),
                 dollars(aging["total"])))
    rows.append(("claims", *(f"{aging['buckets'][b]['claims']:,}" for b in BUCKETS),
                 f"{aging['claims']:,}"))
    return rows


def worklist_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What needs a person, one row per queue (and per rule where claims are stopped):
    what, detail, count and dollars (formatted)."""
    work = report["needs_a_person"]
    rows = [
        {"what": "open posting exceptions", "detail": "835 claim payments not posted",
         "count": work["open_exceptions"]["count"],
         "dollars": dollars(work["open_exceptions"]["amount"])},
        {"what": "held 835s", "detail": "unbalanced; awaiting the payer's corrected 835",
         "count": work["held_remittances"]["count"],
         "dollars": dollars(work["held_remittances"]["amount"])},
    ]
    for what, edits in (("rejected at scrub", work["rejected_by_edit"]),
                        ("failed data quality", work["dq_failed_by_expectation"]),
                        ("rejected by the payer", work["payer_rejected"]["by_reason"])):
        rows += [{"what": what, "detail": f"{e['rule']}: {e['message']}",
                  "count": e["claims"], "dollars": dollars(e["billed"])} for e in edits]
    denied = work["denials_in_work"]
    rows.append({"what": "denials in work", "detail": "claims denied in whole or in part",
                 "count": denied["claims"], "dollars": dollars(denied["billed"])})
    return rows


def markdown(report: Mapping[str, Any], links: Mapping[str, str] | None = None) -> str:
    """The report as markdown tables, with links (text to URL) to its files if given."""
    lines = [f"# {run_report_title(report)}", ""]
    if links:
        lines += [" · ".join(f"[{_cell(text)}]({url})" for text, url in links.items()), ""]
    for table in report_tables(report):
        lines += [f"**{_cell(table.title)}**", "",
                  "| " + " | ".join(_cell(c) or " " for c in table.columns) + " |",
                  "|" + "|".join("---:" if i in table.numeric else "---"
                                 for i in range(len(table.columns))) + "|"]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
        if not table.rows:
            lines.append("| none |" + " |" * (len(table.columns) - 1))
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def print_report(report: Mapping[str, Any], console: Console) -> None:
    """The report's title and tables in a terminal."""
    console.print(Text(run_report_title(report), style="bold"))
    for shown in report_tables(report):
        print_table(shown, console)


def print_table(shown: ReportTable, console: Console) -> None:
    table = Table(title=shown.title, title_justify="left")
    for i, column in enumerate(shown.columns):
        table.add_column(column, justify="right" if i in shown.numeric else "left",
                         overflow="fold")
    for row in shown.rows:
        table.add_row(*(Text(cell) for cell in row))  # never read as markup
    console.print(table)
