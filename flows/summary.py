"""What ``revcycle demo`` and ``revcycle run`` print: what this run did, step by step
(ran, came back Cached because an earlier run did it, failed, could not run), then the
business day as it stands (the run report's tables, as ``revcycle report`` prints them).
Counts and amounts only, no PHI."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from revcycle.formatting import counts
from revcycle.reporting.tables import print_report

# What each stage's counts mean, in the order a person reads them.
STAGE_COUNTS = {
    "ingest": {"claims": "claims", "files": "new files", "duplicates": "already ingested",
               "quarantined": "quarantined", "skipped": "folder markers skipped",
               "deferred": "left for the next run",
               "corrections": "corrections of refused claims",
               "replacements": "replacements or voids"},
    "quality": {"validated": "validated", "failed": "failed"},
    "scrub": {"ready": "ready", "rejected": "rejected", "waiting": "waiting for a payer"
              " module", "warnings": "warnings"},
    "write": {"claims": "claims written", "files": "files", "refused": "refused by the"
              " writer"},
    "submit": {"claims": "claims sent", "sent": "files", "refused": "refused by the writer",
               "in_flight": "being sent by another run"},
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
        print_report(summary["report"], console)
