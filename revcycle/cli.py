"""The ``revcycle`` command line."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from revcycle.claims.cli import claims_app
from revcycle.queue_cli import JSON_OPTION, queue_app
from revcycle.x12.errors import X12Error

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(help="revcycle: an open-source revenue-cycle pipeline.", no_args_is_help=True)
x12_app = typer.Typer(help="Work with X12 5010 files.", no_args_is_help=True)
app.add_typer(x12_app, name="x12")
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
codesets_app = typer.Typer(help="Reference code sets loaded from CMS files (HCPCS Level II,"
                           " NCCI PTP edits, MUEs).", no_args_is_help=True)
app.add_typer(codesets_app, name="codesets")
ar_app = typer.Typer(help="Accounts receivable: what payers still owe.", no_args_is_help=True)
app.add_typer(ar_app, name="ar")
app.add_typer(queue_app, name="queue")
tenants_app = typer.Typer(help="Tenants (provider clients) and their billing providers:"
                          " NPIs, tax ids, names.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(claims_app, name="claims")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision.")) -> None:
    """Apply the migrations (every start does this too)."""
    from revcycle.db import make_engine, upgrade
    from revcycle.settings import get_settings

    engine = make_engine(get_settings().database_url_or_default())
    upgrade(engine, revision)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


class CodeSetKind(StrEnum):
    hcpcs = "hcpcs"
    ncci_ptp = "ncci-ptp"
    mue = "mue"


class CodeSetClaimType(StrEnum):
    professional = "professional"
    institutional = "institutional"
    dme = "dme"


def _fail(message: str) -> NoReturn:
    """One line on standard error, exit status 1."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", markup=True, highlight=False,
                               soft_wrap=True)
    raise typer.Exit(1)


def _sessions() -> sessionmaker[Session]:
    from revcycle.db import make_engine, session_factory, upgrade
    from revcycle.settings import get_settings

    engine = make_engine(get_settings().database_url_or_default())
    upgrade(engine)
    return session_factory(engine)


@codesets_app.command("load")
def codesets_load(
    kind: CodeSetKind = typer.Argument(..., help="Which CMS file this is."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    claim_type: CodeSetClaimType | None = typer.Option(
        None, "--claim-type", help="NCCI: professional (practitioner) or institutional"
        " (hospital outpatient), when the file name does not say; MUE: checked against the"
        " table's header (dme for the DME supplier table)."),
    release: str | None = typer.Option(None, "--release", help="Release label, e.g."
                                       " 2026Q3; default: the file name."),
    effective_from: datetime | None = typer.Option(
        None, "--effective-from", formats=["%Y-%m-%d"], help="MUE: first day it applies."),
    effective_to: datetime | None = typer.Option(
        None, "--effective-to", formats=["%Y-%m-%d"], help="MUE: last day it applies."),
) -> None:
    """Load a CMS reference file; it replaces the release loaded for that claim type."""
    from revcycle.codesets.loaders import CodeSetFileError, load_file

    try:
        result = load_file(_sessions(), kind.value.replace("-", "_"), file,
                           claim_type=claim_type.value if claim_type else None,
                           release=release,
                           effective_from=effective_from.date() if effective_from else None,
                           effective_to=effective_to.date() if effective_to else None)
    except CodeSetFileError as exc:
        _fail(str(exc))
    what = f"{result.table}" + (f" ({result.claim_type})" if result.claim_type else "")
    if result.loaded:
        print(f"loaded {what} release {result.release}: {result.rows} rows")
    else:
        print(f"{what} release {result.release} is already loaded from this file"
              f" ({result.rows} rows): nothing to do")


@codesets_app.command("list")
def codesets_list(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The reference tables loaded: release, file, rows, when."""
    from revcycle.codesets.loaders import current_loads

    with _sessions()() as session:
        loads = [{"table": load.table_name, "claim_type": load.claim_type,
                  "release": load.release, "file": load.file_name, "rows": load.rows,
                  "sha256": load.sha256, "loaded_at": load.loaded_at.isoformat(" ", "seconds")}
                 for (_, _), load in sorted(current_loads(session).items())]
    if as_json:
        print(json.dumps({"loads": loads}))
        return
    if not loads:
        print("no reference table is loaded: the rules that need one (PROC-02, NCCI-01,"
              " MUE-01) report that they did not run")
        return
    table = Table(title="reference tables", title_justify="left")
    for column in ("table", "claim type", "release", "file", "rows", "loaded at"):
        table.add_column(column)
    for load in loads:
        table.add_row(load["table"], load["claim_type"] or "-", load["release"], load["file"],
                      str(load["rows"]), load["loaded_at"])
    Console().print(table)


_COUNT_LABELS = (("claims", "claims"), ("service_lines", "lines"), ("claim_payments", "CLPs"),
                 ("provider_adjustments", "PLBs"), ("acknowledged_sets", "acked sets"),
                 ("claim_statuses", "claim statuses"))


def _counts(summary: object) -> str:
    shown = [f"{label} {getattr(summary, name)}" for name, label in _COUNT_LABELS
             if getattr(summary, name)]
    return ", ".join(shown) or "-"


@x12_app.command("inspect")
def x12_inspect(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Envelopes, transaction sets, counts and defects of an X12 file (no claim content)."""
    from revcycle.x12.inspect import inspect_file

    console = Console()
    try:
        summary = inspect_file(file)
    except X12Error as exc:
        if as_json:
            print(json.dumps({"readable": False, **exc.to_dict()}))
        else:
            console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", markup=True,
                          highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"readable": True, **summary.to_dict()}))
        return
    table = Table(title=f"{file.name}", title_justify="left")
    for column in ("ISA13", "GS06", "ST", "ST02", "version", "segments", "counts"):
        table.add_column(column)
    for interchange in summary.interchanges:
        for group in interchange.groups:
            for s in group.sets:
                table.add_row(interchange.control_number, group.control_number, s.set_id,
                              s.control_number, s.version or group.version, str(s.segments),
                              _counts(s))
    console.print(table)
    if summary.defects:
        defects = Table(title="defects", title_justify="left")
        for column in ("code", "segment #", "byte", "what"):
            defects.add_column(column)
        for d in summary.defects:
            defects.add_row(*(("" if d[k] is None else str(d[k]))
                              for k in ("code", "segment_number", "byte_offset", "message")))
        console.print(defects)
    else:
        console.print("no defects")


@ar_app.command("aging")
def ar_aging_command(
    as_of: datetime | None = typer.Option(None, "--as-of", formats=["%Y-%m-%d"],
                                          help="The day to age to; default: today."),
    tenant: str | None = typer.Option(None, "--tenant", help="One provider client;"
                                      " default: all."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Open A/R in 0-30, 31-60, 61-90 and 90+ day buckets (days since submission)."""
    from revcycle.pipeline.aging import BUCKETS, ar_aging

    day = as_of.date() if as_of else datetime.now().date()
    with _sessions()() as session:
        aging = ar_aging(session, day, tenant)
    if as_json:
        print(json.dumps({"tenant": tenant, **aging}))
        return
    table = Table(title=f"A/R aging as of {aging['as_of']}"
                  + (f", tenant {tenant}" if tenant else ""), title_justify="left")
    for column in ("payer", *BUCKETS, "total"):
        table.add_column(column, justify="left" if column == "payer" else "right")
    for payer, amounts in aging["by_payer"].items():
        table.add_row(payer, *(amounts[name] for name in BUCKETS), amounts["total"])
    table.add_row("all payers", *(aging["buckets"][name]["amount"] for name in BUCKETS),
                  aging["total"])
    table.add_row("claims", *(str(aging["buckets"][name]["claims"]) for name in BUCKETS),
                  str(aging["claims"]))
    from revcycle.reporting.tables import print_table, receivable_table

    console = Console()
    console.print(table)
    print_table(receivable_table(aging), console)


@app.command("report")
def report_command(
    business_date: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"],
                                                  help="The business day; default: today."),
    tenants: list[str] | None = typer.Option(
        None, "--tenant", help="A provider client (repeat); default: REVCYCLE_TENANTS,"
        " else every tenant with a batch that day."),
    html_file: Path | None = typer.Option(None, "--html", dir_okay=False, help="Write the"
                                          " self-contained HTML report to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The run report of a business day: claims, dollars, KPIs, edits, denials, what needs
    a person and the A/R aging (counts and amounts, no patient data). Reads only."""
    from sqlalchemy import select

    from revcycle.db.models import Batch
    from revcycle.pipeline.report import build_day_report
    from revcycle.reporting.html import html_report
    from revcycle.reporting.tables import print_report
    from revcycle.settings import get_settings

    day = business_date.date() if business_date else datetime.now().date()
    with _sessions()() as session:
        chosen = sorted(tenants or get_settings().tenants or session.scalars(
            select(Batch.tenant_id).where(Batch.business_date == day)))
        report = build_day_report(session, day, chosen)
    if html_file is not None:
        html_file.write_text(html_report(report), encoding="utf-8")
    if as_json:
        print(json.dumps(report))
    elif html_file is not None:
        print(f"wrote the run report of {day} ({', '.join(chosen) or 'no tenant'}) to"
              f" {html_file}")
    else:
        print_report(report, Console())


@app.command("audit")
def audit_command(
    batch: str | None = typer.Option(None, "--batch", help="One batch (tenant-yyyymmdd)."),
    tenant: str | None = typer.Option(None, "--tenant", help="One provider client, or"
                                      " _mailbox for the mailbox stages (collect, route)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Which run touched which batch: stage, when, and what it did in counts (the
    append-only audit trail; ids and counts only)."""
    from revcycle.pipeline.audit import AuditError, trail

    with _sessions()() as session:
        try:
            rows = trail(session, batch=batch, tenant=tenant)
        except AuditError as exc:
            _fail(str(exc))
    if as_json:
        print(json.dumps({"audit": rows}))
        return
    table = Table(title=f"audit: {len(rows)}", title_justify="left")
    for column in ("at", "run_id", "stage", "batch", "payer", "counts"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["at"], row["run_id"], row["stage"], row["batch"], row["payer"],
                      ", ".join(f"{name} {value}" for name, value in row["counts"].items()))
    Console().print(table)


def _provider_option(value: str) -> tuple[str, str, str]:
    """``NPI:TIN:NAME`` (the name may hold colons) as its three parts."""
    parts = value.split(":", 2)
    if len(parts) != 3:
        raise typer.BadParameter("expected NPI:TIN:NAME, e.g. 1234567893:12-3456789:NORTHSIDE"
                                 " FAMILY MEDICINE")
    npi, tin, name = parts
    return npi, tin, name


def _print_tenants(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tenants": rows}))
        return
    table = Table(title=f"tenants: {len(rows)}", title_justify="left")
    for column in ("tenant", "name", "NPI", "TIN", "billing provider"):
        table.add_column(column, overflow="fold")
    for row in rows:
        providers = row["providers"] or [{"npi": "-", "tin": "", "name": "(none registered:"
                                          " its claims' NPIs are not checked)"}]
        for number, p in enumerate(providers):
            first = number == 0
            table.add_row(row["tenant"] if first else "", row["name"] if first else "",
                          p["npi"], p["tin"], p["name"])
    Console().print(table)


@tenants_app.command("add")
def tenants_add(
    tenant: str = typer.Argument(..., help="The tenant id (its prefix in the store)."),
    name: str = typer.Option(..., "--name", help="Its display name."),
    providers: list[str] | None = typer.Option(
        None, "--provider", help="A billing provider as NPI:TIN:NAME (repeat)."),
) -> None:
    """Add a tenant (or rename one) and register its billing providers, all or nothing."""
    from revcycle.pipeline.batches import TenantError
    from revcycle.pipeline.tenants import RegistryError, add_provider, add_tenant

    parsed = [_provider_option(p) for p in providers or []]
    with _sessions()() as session:
        try:
            made = add_tenant(session, tenant, name)
            for npi, tin, provider_name in parsed:
                add_provider(session, tenant, npi, tin, provider_name)
        except (RegistryError, TenantError) as exc:
            _fail(str(exc))
        session.commit()
    print(f"tenant {tenant} {'added' if made else 'updated'}"
          + (f" with {len(parsed)} billing provider(s)" if parsed else ""))


@tenants_app.command("add-provider")
def tenants_add_provider(
    tenant: str = typer.Argument(..., help="The tenant id."),
    npi: str = typer.Option(..., "--npi", help="The billing provider's NPI (10 digits)."),
    tin: str = typer.Option(..., "--tin", help="Its tax id: EIN or SSN, nine digits."),
    name: str = typer.Option(..., "--name", help="Its name, as on its claims."),
) -> None:
    """Register a billing provider of a tenant (again: update its tax id and name)."""
    from revcycle.pipeline.batches import TenantError
    from revcycle.pipeline.tenants import RegistryError, add_provider

    with _sessions()() as session:
        try:
            row = add_provider(session, tenant, npi, tin, name)
        except (RegistryError, TenantError) as exc:
            _fail(str(exc))
        session.commit()
    print(f"NPI {row.npi} is a billing provider of tenant {tenant}")


@tenants_app.command("list")
def tenants_list(as_json: bool = JSON_OPTION) -> None:
    """Every tenant with its billing providers."""
    from revcycle.pipeline.tenants import describe

    with _sessions()() as session:
        rows = describe(session)
    _print_tenants(rows, as_json)


@tenants_app.command("show")
def tenants_show(tenant: str = typer.Argument(..., help="The tenant id."),
                 as_json: bool = JSON_OPTION) -> None:
    """One tenant with its billing providers."""
    from revcycle.pipeline.tenants import UnknownTenant, describe

    with _sessions()() as session:
        try:
            rows = describe(session, tenant)
        except UnknownTenant as exc:
            _fail(str(exc))
    if as_json:
        print(json.dumps(rows[0]))
    else:
        _print_tenants(rows, False)


if __name__ == "__main__":
    app()
