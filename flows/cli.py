"""The ``revcycle`` command: the domain commands of ``revcycle.cli`` plus those that run
flows (``demo``, ``run``, ``serve``). Kept here so the domain core never imports Prefect."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from revcycle.cli import app

TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "GX_ANALYTICS_ENABLED": "false"}


def _quiet_orchestration() -> None:
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")


@app.command()
def demo(
    claims: int = typer.Option(2000, min=3, help="Claims in the simulated business day."),
    seed: int = typer.Option(7, help="Seed of the synthetic data."),
    tenants: int = typer.Option(3, min=1, max=9, help="Provider clients."),
    payers: int = typer.Option(4, min=1, max=5, help="Payers."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Simulate a business day and run the daily flow on it, on the embedded default."""
    _quiet_orchestration()
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import DEMO_TENANTS, drop_business_day
    from revcycle.pipeline.resources import get_resources

    names = tuple(f"{DEMO_TENANTS[i % 3]}{'' if i < 3 else i // 3 + 1}" for i in range(tenants))
    res = get_resources()
    day = drop_business_day(res.store, claims=claims, seed=seed, tenants=names, payers=payers)
    outcome = daily_revenue_cycle(business_date=day.business_date, tenants=list(names))
    summary = {"business_date": day.business_date.isoformat(), "tenants": list(names),
               "files_dropped": day.files, "claims_generated": day.claims,
               "seeded_defects": len(day.defects), **_stage_totals(outcome["stages"]),
               "report": outcome["report"]}
    if as_json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)


def _stage_totals(stages: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = {}
    for stage, results in stages.items():
        totals[stage] = {}
        for result in results:
            for name, value in result.items():
                if isinstance(value, int):
                    totals[stage][name] = totals[stage].get(name, 0) + value
    return {"stages": totals}


def _print_summary(summary: dict[str, Any]) -> None:
    console = Console()
    report = summary["report"]
    console.print(f"[bold]revcycle demo[/bold] business day {summary['business_date']}: "
                  f"{summary['claims_generated']} synthetic claims from "
                  f"{len(summary['tenants'])} tenants, {summary['files_dropped']} files "
                  f"dropped ({summary['seeded_defects']} claims with seeded defects)")
    stages = Table(title="stages", title_justify="left")
    stages.add_column("stage")
    stages.add_column("counts")
    for stage, totals in summary["stages"].items():
        stages.add_row(stage, ", ".join(f"{k} {v}" for k, v in totals.items()))
    console.print(stages)
    claims = Table(title="claims by status", title_justify="left")
    claims.add_column("status")
    claims.add_column("claims", justify="right")
    for status, count in report["claims"]["by_status"].items():
        claims.add_row(status, str(count))
    claims.add_row("[bold]total[/bold]", str(report["claims"]["in"]))
    console.print(claims)
    dollars = Table(title="dollars", title_justify="left")
    dollars.add_column("")
    dollars.add_column("amount", justify="right")
    for name, amount in report["dollars"].items():
        dollars.add_row(name.replace("_", " "), _dollars(amount))
    console.print(dollars)
    for title, rows, columns in (
        ("top edits", report["top_edits"], ("rule", "stage", "claims", "held")),
        ("top denial reasons", report["top_denial_reasons"], ("carc", "count", "amount")),
    ):
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(row[c]) for c in columns))
        console.print(table)
    posting = report["posting"]
    rate = posting["auto_post_rate"]
    console.print(f"files quarantined: {report['files']['quarantined']}; remittances: "
                  f"{report['remittances']}; claim payments"
                  f" {_dollars(posting['claim_payments'])}, auto-posted"
                  f" {'-' if rate is None else f'{rate:.2%}'}; posting exceptions:"
                  f" {posting['exceptions']} ({posting['open_exceptions']} open,"
                  f" {_dollars(posting['unapplied'])} unapplied)")


def _dollars(amount: str) -> str:
    return f"${Decimal(amount):,.2f}"


@app.command("run")
def run(
    business_date: str = typer.Option("", "--date", help="Business day YYYY-MM-DD (default"
                                      " today)."),
    tenant: list[str] = typer.Option([], help="Tenant (repeat); default REVCYCLE_TENANTS."),
    stage: str = typer.Option("daily", help="daily, ingest, quality, scrub, submit,"
                              " acks-and-post or report."),
) -> None:
    """Run the daily flow, or one stage's flow, for a business day."""
    _quiet_orchestration()
    from flows import stages
    from flows.daily import daily_revenue_cycle

    flows = {"daily": daily_revenue_cycle, "ingest": stages.ingest_flow,
             "quality": stages.quality_flow, "scrub": stages.scrub_flow,
             "submit": stages.submit_flow, "acks-and-post": stages.acks_and_post_flow,
             "report": stages.report_flow}
    if stage not in flows:
        raise typer.BadParameter(f"unknown stage {stage}")
    day = date.fromisoformat(business_date) if business_date else None
    result = flows[stage](business_date=day, tenants=tenant or None)
    print(json.dumps(result, default=str))


@app.command()
def serve(
    cron: str = typer.Option("0 6 * * *", help="When the daily run starts (cron)."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule."),
) -> None:
    """Serve the daily deployment on its schedule and every stage flow on demand.

    Needs a Prefect server (PREFECT_API_URL): the dashboard shows the runs, retries a
    failed day and starts a stage for a day.
    """
    _quiet_orchestration()
    from prefect import serve as prefect_serve

    from flows.deployments import deployments

    prefect_serve(*deployments(cron, timezone))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
