"""What ``revcycle demo`` and ``revcycle run`` print: what this run did, step by step
(ran, came back Cached because an earlier run did it, failed, could not run), then the
business day as it stands, with dollars formatted. Counts and amounts only, no PHI."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from revcycle.formatting import counts, dollars, percent

# What each stage's counts mean, in the order a person reads them.
STAGE_COUNTS = {
    "ingest": {"claims": "claims", "files": "new files", "duplicates": "already ingested",
               "quarantined": "quarantined"},
    "quality": {"validated": "validated", "failed": "failed"},
    "scrub": {"ready": "ready", "rejected": "rejected", "waiting": "waiting for a payer"
              " module", "warnings": "warnings"},
    "submit": {"claims": "claims sent", "sent": "files"},
    "acks": {"files": "new acknowledgments", "accepted": "accepted", "rejected": "rejected"},
    "post": {"remittances": "remittances posted", "held": "held", "exceptions": "exceptions"},
}


def stage_lines(stages: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """Per stage: its steps by outcome, and what the steps that ran did."""
    lines = []
    for stage, steps in stages.items():
        outcomes: dict[str, int] = {}
        totals: dict[str, int] = {}
        for step in steps:
            outcomes[step["state"]] = outcomes.get(step["state"], 0) + 1
            for name, label in STAGE_COUNTS.get(stage, {}).items():
                if isinstance(step.get(name), int):
                    totals[label] = totals.get(label, 0) + step[name]
        if stage == "report":
            did = "written"
        elif all(step["state"] == "Cached" for step in steps):
            did = "nothing new: done by an earlier run"
        else:
            did = counts(totals, lower=False)
            did = "nothing new" if did == "none" else did
        lines.append((stage, counts(outcomes), did))
    return lines


def print_run(summary: dict[str, Any], console: Console | None = None,
              headline: str = "") -> None:
    console = console or Console()
    if headline:
        console.print(headline)
    steps = Table(title=f"this run, business day {summary['business_date']}",
                  title_justify="left")
    for column in ("stage", "steps", "what they did"):
        steps.add_column(column)
    for line in stage_lines(summary["stages"]):
        steps.add_row(*line)
    console.print(steps)
    for step in (s for stage in summary["stages"].values() for s in stage
                 if s["state"] not in ("Completed", "Cached")):
        console.print(f"[red]{step['step']}: {step['state']}[/red] {step.get('reason', '')}")
    if summary.get("report"):
        print_day(summary["report"], console)


def print_day(report: dict[str, Any], console: Console) -> None:
    """The business day so far: claims by status, dollars, edits, denials, posting."""
    claims = Table(title="the day so far: claims by status", title_justify="left")
    claims.add_column("status")
    claims.add_column("claims", justify="right")
    for status, count in report["claims"]["by_status"].items():
        claims.add_row(status, f"{count:,}")
    claims.add_row("[bold]total[/bold]", f"{report['claims']['in']:,}")
    console.print(claims)
    money = Table(title="dollars", title_justify="left")
    money.add_column("")
    money.add_column("amount", justify="right")
    for name, amount in report["dollars"].items():
        money.add_row(name.replace("_", " "), dollars(amount))
    console.print(money)
    for title, rows, columns in (
        ("top edits", report["top_edits"], ("rule", "stage", "claims", "held")),
        ("top denial reasons", report["top_denial_reasons"], ("carc", "count", "amount")),
    ):
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column != "rule" else "left")
        for row in rows:
            table.add_row(*(dollars(row[c]) if c in ("held", "amount") else str(row[c])
                            for c in columns))
        console.print(table)
    posting = report["posting"]
    console.print(f"files quarantined: {report['files']['quarantined']}; remittances: "
                  f"{counts(report['remittances'])}; claim payments"
                  f" {dollars(posting['claim_payments'])}, auto-posted"
                  f" {percent(posting['auto_post_rate'])}; posting exceptions:"
                  f" {posting['exceptions']} ({posting['open_exceptions']} open,"
                  f" {dollars(posting['unapplied'])} unapplied)")
