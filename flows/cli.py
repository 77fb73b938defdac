"""The ``revcycle`` command: the domain commands of ``revcycle.cli`` plus those that run
flows (``demo``, ``run``, ``serve``). Kept here so the domain core never imports Prefect."""

from __future__ import annotations

import functools
import json
import os
from datetime import date
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from flows.payers_cli import payers_app
from flows.summary import print_run
from revcycle.cli import app
from revcycle.demo import DEMO_DATE

app.add_typer(payers_app, name="payers")

TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "GX_ANALYTICS_ENABLED": "false"}
# Prefect's temporary server creates its database on first start: 20 s (its default) is not
# enough on a busy 2-core machine. Overridable like every default here.
EPHEMERAL_STARTUP_S = "180"
STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
STAGES = ("daily", "ingest", "quality", "scrub", "submit", "mailbox", "report")


def _orchestration_settings(*, serving: bool = False) -> None:
    """Defaults for Prefect, each overridable from the environment: telemetry off, time
    for the temporary server to start, results kept (Retry needs them), INFO logs to the
    dashboard. ``demo`` and ``run`` keep the terminal for their own summary, which names
    every step that failed and why (the full logs are in the dashboard); ``serve`` prints
    Prefect's log lines as they come."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault(STARTUP_TIMEOUT, EPHEMERAL_STARTUP_S)
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    if not serving:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        if not os.environ.get("PREFECT_API_URL"):
            # The temporary server's own shutdown chatter (events it gives up flushing as
            # the command ends) is no concern of the person who ran the command.
            os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


class OrchestrationUnavailable(Exception):
    """Prefect's API could not be reached or started; the message says what to set."""


def run_flow(flow: Any, **parameters: Any) -> tuple[bool, dict[str, Any]]:
    """Run a flow on the task runner the settings name now (``flows.runner``: a process
    whose settings change between runs gets the new runner); whether it finished every
    step, and its summary."""
    from flows.runner import with_task_runner, workers_reach_api

    flow = with_task_runner(flow)
    try:
        with workers_reach_api(flow.task_runner):
            state = flow(**parameters, return_state=True)
    except RuntimeError as exc:
        if "ephemeral Prefect API server" not in str(exc):
            raise
        raise OrchestrationUnavailable(
            f"Prefect's temporary server did not start within"
            f" {os.environ.get(STARTUP_TIMEOUT, EPHEMERAL_STARTUP_S)} s: set"
            f" {STARTUP_TIMEOUT} higher, or PREFECT_API_URL to a running Prefect server"
            " (prefect server start)") from None
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, dict):  # the flow crashed before it could summarize
        summary = {"stages": {}, "failed_steps": [state.message or state.name],
                   "report": None}
    return state.is_completed(), summary


def _finish(ok: bool, summary: dict[str, Any], as_json: bool, headline: str = "") -> None:
    if as_json:
        print(json.dumps(summary, default=str))
    else:
        print_run(summary, headline=headline)
        if not ok:
            Console().print(f"[red]{len(summary['failed_steps'])} steps did not finish[/red]:"
                            " the rest of the day went on. Fix what the lines above say,"
                            " then run the same command again (or Retry the flow run in"
                            " the dashboard): only those steps run again.")
    if not ok:
        raise typer.Exit(1)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _guarded(command: Any) -> Any:
    """One line instead of a traceback when Prefect cannot start or a setting is wrong."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OrchestrationUnavailable as exc:
            typer.echo(f"revcycle: {exc}", err=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            if exc.title != "Settings":
                raise
            typer.echo(f"revcycle: {_setting_problems(exc)}", err=True)
            raise typer.Exit(2) from None
    return run


def _setting_problems(exc: ValidationError) -> str:
    """``REVCYCLE_<NAME>: what is wrong``, for each setting the environment got wrong."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        name = "REVCYCLE_" + "_".join(str(part) for part in error["loc"]).upper()
        problems.append(message if message.startswith(name) else f"{name}: {message}")
    return "; ".join(problems)


@app.command()
@_guarded
def demo(
    claims: int = typer.Option(2000, min=3, help="Claims in the simulated business day."),
    seed: int = typer.Option(7, help="Seed of the synthetic data."),
    tenants: int = typer.Option(3, min=1, max=9, help="Provider clients."),
    payers: str = typer.Option("4", help="How many of the simulator's payers (1-5), or"
                               " payer ids separated by commas (any payer module's id,"
                               " e.g. SIMA1,ACME1)."),
    business_date: str = typer.Option("", "--date", help="Business day YYYY-MM-DD"
                                      f" (default {DEMO_DATE})."),
    drop_only: bool = typer.Option(False, "--drop-only", help="Drop the day's provider"
                                   " files into landing and stop (run it later, e.g. from"
                                   " the dashboard)."),
    days: int = typer.Option(1, min=1, help="Business days in a row (--claims each), the"
                             " simulator's payers answering days and weeks later over SFTP"
                             " from a payer world; then weekly runs while they pay."),
    settle_weeks: int = typer.Option(5, min=0, help="With --days above 1: the weekly runs"
                                     " with no new claims after the last day."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Simulate a business day (or --days of them) and run the daily flow on it, on the
    embedded default."""
    if days > 1 and drop_only:
        raise typer.BadParameter("--drop-only drops one day: leave --days out")
    _orchestration_settings()
    from revcycle.demo import DEMO_TENANTS, drop_business_day
    from revcycle.pipeline.resources import get_resources

    names = tuple(f"{DEMO_TENANTS[i % 3]}{'' if i < 3 else i // 3 + 1}" for i in range(tenants))
    day = _day(business_date) or DEMO_DATE
    res = get_resources()
    if days > 1:
        _demo_days(days, settle_weeks, day, claims, seed, names, _demo_payers(payers), as_json)
        return
    dropped = drop_business_day(res.store, claims=claims, seed=seed, tenants=names,
                                payers=_demo_payers(payers), business_date=day,
                                sessions=res.sessions)
    headline = (f"[bold]revcycle demo[/bold] business day {day}: {dropped.claims:,} synthetic"
                f" claims from {len(names)} tenants in {dropped.files} files"
                f" ({len(dropped.defects):,} claims with seeded defects) dropped into landing")
    if drop_only:
        if as_json:
            print(json.dumps({"business_date": day.isoformat(), "tenants": list(names),
                              "files_dropped": dropped.files, "claims": dropped.claims}))
        else:
            Console().print(f"{headline}.\nRun it with: revcycle run --date {day} "
                            + " ".join(f"--tenant {t}" for t in names))
        return
    from flows.daily import daily_revenue_cycle

    ok, summary = run_flow(daily_revenue_cycle, business_date=day, tenants=list(names))
    summary.update(files_dropped=dropped.files, claims_generated=dropped.claims,
                   seeded_defects=len(dropped.defects))
    _finish(ok, summary, as_json, headline)


# ``demo --days``: the share of patients with a second coverage, so the month bills
# secondary payers after the primary's 835 (revcycle.pipeline.cob).
COB_RATE = 0.1


def _demo_days(days: int, settle_weeks: int, start: date, claims: int, seed: int,
               tenants: tuple[str, ...], payers: int | list[Any], as_json: bool) -> None:
    """``demo --days``: see ``flows.demo_days``."""
    import time

    from flows import demo_days
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources
    from revcycle.simulator.biller import SimulatedBiller
    from tasks.payers import load_payers

    started = time.monotonic()
    res = get_resources()
    console = Console()
    dates = demo_days.business_days(start, days)

    def drop(day: date, number: int) -> int:
        # A seed per day and tenant (tenants add 0-8 to it): new patients every day.
        return drop_business_day(res.store, claims=claims, seed=seed + 10 * number,
                                 tenants=tenants, payers=payers, business_date=day,
                                 sessions=res.sessions, cob_rate=COB_RATE).claims

    def figures(day: date) -> dict[str, Any]:
        with res.sessions() as session:
            return demo_days.books(session, day, list(tenants))

    def show(line: str) -> None:
        if not as_json:
            console.print(line, soft_wrap=True)

    played = demo_days.world_payers(load_payers())
    show(f"[bold]revcycle demo[/bold] {days} business days from {dates[0]}, {claims:,}"
         f" synthetic claims a day from {len(tenants)} tenants; payers"
         f" {', '.join(p.payer_id for p in played)} answer from a payer world over SFTP")
    biller = SimulatedBiller(res.sessions, res.store, list(tenants))
    with demo_days.payer_world(res.settings.home / "payer-world", played, dates[0],
                               seed, resubmissions=True) as world:
        rows, summary = demo_days.run_days(
            world, dates, settle_weeks,
            lambda day: run_flow(daily_revenue_cycle, business_date=day,
                                 tenants=list(tenants)),
            drop, figures, show, work=biller.work)
        last = date.fromisoformat(rows[-1].business_date)
        with res.sessions() as session:
            checks = demo_days.closing_checks(session, world, last, list(tenants))
            rework = biller.figures(session)
    final = figures(last)
    failed = sum(row.steps_failed for row in rows)
    if as_json:
        print(demo_days.as_json(rows, final, world, summary, started, checks, rework))
    else:
        demo_days.print_books(final, console)
        demo_days.print_rework(rework, console)
        demo_days.print_checks(checks, console)
        print_run(summary)
        console.print(f"{len(rows)} runs in {time.monotonic() - started:,.0f} s.")
        if failed:
            console.print(f"[red]{failed} steps did not finish[/red] over the runs above:"
                          " the lines of the last run say why; the dashboard has them all.")
    if failed or checks["findings"]:
        raise typer.Exit(1)


def _demo_payers(value: str) -> int | list[Any]:
    """``--payers``: a count of the simulator's payers, or payer ids of payer modules."""
    if value.strip().isdigit():
        if not 1 <= int(value) <= 5:
            raise typer.BadParameter("the simulator plays 1 to 5 payers")
        return int(value)
    from revcycle.simulator import profile_for
    from tasks.payers import load_payers

    known = load_payers()
    wanted = [pid.strip() for pid in value.split(",") if pid.strip()]
    unknown = [pid for pid in wanted if pid not in known]
    if unknown or not wanted:
        raise typer.BadParameter(f"no payer module defines {', '.join(unknown) or value!r};"
                                 f" payers: {', '.join(sorted(known))}")
    return [profile_for(pid, known[pid].name) for pid in wanted]


@app.command("run")
@_guarded
def run(
    business_date: str = typer.Option("", "--date", help="Business day YYYY-MM-DD (default"
                                      " today)."),
    tenant: list[str] = typer.Option([], help="Tenant (repeat); default REVCYCLE_TENANTS."),
    stage: str = typer.Option("daily", help=", ".join(STAGES) + "."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Run the daily flow, or one stage's flow, for a business day."""
    if stage not in STAGES:
        raise typer.BadParameter(f"unknown stage {stage}: one of {', '.join(STAGES)}")
    day = _day(business_date)
    _orchestration_settings()
    from flows import stages
    from flows.daily import daily_revenue_cycle

    flows = {"daily": daily_revenue_cycle, "ingest": stages.ingest_flow,
             "quality": stages.quality_flow, "scrub": stages.scrub_flow,
             "submit": stages.submit_flow, "mailbox": stages.mailbox_flow,
             "report": stages.report_flow}
    ok, summary = run_flow(flows[stage], business_date=day, tenants=tenant or None)
    _finish(ok, summary, as_json)


@app.command()
def serve(
    cron: str = typer.Option("0 6 * * *", help="When the daily run starts (cron)."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule."),
) -> None:
    """Serve the daily deployment on its schedule and every stage flow on demand.

    Needs a Prefect server (PREFECT_API_URL): the dashboard shows the runs, retries a
    failed day and starts a stage for a day. Also serves the reports zones on loopback
    (REVCYCLE_REPORTS_PORT) so the runs' report links open.
    """
    _orchestration_settings(serving=True)
    from revcycle.reportserver import serve_reports

    typer.echo(serve_reports()[1], err=True)  # sets REVCYCLE_REPORTS_URL for the runs
    from prefect import serve as prefect_serve

    from flows.deployments import deployments

    prefect_serve(*deployments(cron, timezone))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
