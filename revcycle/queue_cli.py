"""``revcycle queue``: the work queues posting leaves for a biller, and what a biller does
with them (resolve, post by hand, write off, PLB, refunds). Our ids, amounts and reasons
only; never patient data."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

queue_app = typer.Typer(help="The work queues posting leaves for a biller (our ids, amounts"
                        " and reasons; no patient data).", no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    from revcycle.cli import _fail as fail

    fail(message)


def _sessions() -> sessionmaker[Session]:
    from revcycle.cli import _sessions as sessions

    return sessions()


TENANT_OPTION = typer.Option(None, "--tenant", help="One provider client; default: all.")
PAYER_OPTION = typer.Option(None, "--payer", help="One payer id; default: all.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object.")


def _login() -> str:
    """Who is at the terminal: the default name a queue action is recorded under."""
    import getpass

    return getpass.getuser()


def _print_queue(name: str, rows: list[dict[str, object]], columns: tuple[str, ...],
                 as_json: bool) -> None:
    if as_json:
        print(json.dumps({name: rows}))
        return
    table = Table(title=f"{name}: {len(rows)}", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    Console().print(table)


@queue_app.command("exceptions")
def queue_exceptions(tenant: str | None = TENANT_OPTION, payer: str | None = PAYER_OPTION,
                     include_resolved: bool = typer.Option(
                         False, "--all", help="Resolved exceptions too."),
                     as_json: bool = JSON_OPTION) -> None:
    """835 claim payments posting left for a human, with the reason and the CLP's place."""
    from revcycle.pipeline.queues import exceptions

    with _sessions()() as session:
        rows = exceptions(session, tenant=tenant, payer=payer,
                          include_resolved=include_resolved)
    _print_queue("exceptions", rows, ("payment_id", "payer", "trace_number", "paid",
                                      "claim_id", "reason", "file", "segment_number",
                                      *(("resolution",) if include_resolved else ())),
                 as_json)


@queue_app.command("unrouted")
def queue_unrouted(payer: str | None = PAYER_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Sets of payer files the mailbox could route to no tenant (or to two), with the
    reason; each is looked at again on every route run (revcycle run --stage mailbox)."""
    from revcycle.pipeline.mailbox import unrouted

    with _sessions()() as session:
        rows = unrouted(session, payer)
    _print_queue("unrouted", rows, ("id", "payer", "channel", "collected_on", "file", "set",
                                    "kind", "reason", "message"), as_json)


@queue_app.command("held")
def queue_held(tenant: str | None = TENANT_OPTION, payer: str | None = PAYER_OPTION,
               as_json: bool = JSON_OPTION) -> None:
    """Remittances held because they do not balance (until the payer's corrected 835)."""
    from revcycle.pipeline.queues import held

    with _sessions()() as session:
        rows = held(session, tenant=tenant, payer=payer)
    _print_queue("held", rows, ("remittance_id", "payer", "trace_number", "total_paid",
                                "problems"), as_json)


@queue_app.command("denials")
def queue_denials(tenant: str | None = TENANT_OPTION, payer: str | None = PAYER_OPTION,
                  as_json: bool = JSON_OPTION) -> None:
    """Claims denied in whole or in part, one row per denial reason."""
    from revcycle.pipeline.queues import denials

    with _sessions()() as session:
        rows = denials(session, tenant=tenant, payer=payer)
    _print_queue("denials", rows, ("claim_id", "payer", "status", "billed", "line_number",
                                   "reason_code", "reason"), as_json)


@queue_app.command("resolve")
def queue_resolve(
    payment_id: int = typer.Argument(..., help="The exception's payment_id."),
    note: str = typer.Option(..., "--note", help="What was done (posted by hand, refund"
                             " requested, ...), up to 200 characters."),
    by: str = typer.Option("", "--by", help="Who worked it; default: the login name."),
    tenant: str | None = typer.Option(None, "--tenant", help="Act as this provider client:"
                                      " another's exception is refused."),
) -> None:
    """Close an exception once it has been worked."""
    from revcycle.pipeline.queues import QueueError, resolve_exception

    with _sessions()() as session:
        try:
            done = resolve_exception(session, payment_id, note, by or _login(),
                                     tenant=tenant)
        except QueueError as exc:
            _fail(str(exc))
        session.commit()
    print(f"payment {done['payment_id']} resolved by {done['resolved_by']}"
          f" at {done['resolved_at']}")


@queue_app.command("writeoff")
def queue_writeoff(
    claim_id: int = typer.Argument(..., help="Our id of the claim."),
    reason: str = typer.Option(..., "--reason", help="TIMELY_FILING, NON_COVERED,"
                               " NO_AUTHORIZATION, DUPLICATE, APPEAL_EXHAUSTED,"
                               " CONTRACT_TERMS, SMALL_BALANCE, ADMINISTRATIVE; for a"
                               " patient balance BAD_DEBT, CHARITY, SMALL_BALANCE,"
                               " ADMINISTRATIVE."),
    note: str = typer.Option(..., "--note", help="Why, in up to 200 characters."),
    by: str = typer.Option(..., "--by", help="Who approved it."),
    source: str = typer.Option("denied", "--from", help="Which balance: denied (in work,"
                               " the default), open (still with the payer) or patient."),
    amount: str | None = typer.Option(None, "--amount", help="Dollars; default: all of it."),
    on: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"],
                                       help="The day it is booked; default: today."),
    tenant: str | None = typer.Option(None, "--tenant", help="Act as this provider client:"
                                      " another's claim is refused."),
) -> None:
    """Write off a claim's denied (or patient, or open) balance with a reason and who
    approved it: its own ledger entry, reported by reason in `revcycle ar aging`."""
    from revcycle.pipeline.writeoffs import WriteOffError, write_off

    with _sessions()() as session:
        try:
            done = write_off(session, claim_id, reason, note, by, source=source,
                             amount=amount, on=on.date() if on else None, tenant=tenant)
        except WriteOffError as exc:
            _fail(str(exc))
        session.commit()
    print(f"claim {claim_id}: wrote off ${Decimal(done['amount']):,.2f} of {done['account']}"
          f" ({done['reason']}, approved by {done['approved_by']}, {done['entry_date']});"
          f" ${Decimal(done['balance_left']):,.2f} left")


@queue_app.command("post")
def queue_post(
    payment_id: int = typer.Argument(..., help="The exception's payment_id."),
    claim_id: int = typer.Option(..., "--claim", help="Our id of the claim it pays."),
    by: str = typer.Option("", "--by", help="Who matched it; default: the login name."),
    tenant: str | None = typer.Option(None, "--tenant", help="Act as this provider client:"
                                      " another's exception is refused."),
) -> None:
    """Post an exception's payment to the claim you matched it to, and close it."""
    from revcycle.pipeline.queues import QueueError, post_by_hand
    from revcycle.pipeline.resources import get_resources

    try:
        done = post_by_hand(get_resources(), payment_id, claim_id, by or _login(),
                            tenant=tenant)
    except QueueError as exc:
        _fail(str(exc))
    print(f"payment {done['payment_id']} posted to claim {claim_id} by {done['resolved_by']}")


@queue_app.command("plb")
def queue_plb(tenant: str | None = TENANT_OPTION, payer: str | None = PAYER_OPTION,
              include_resolved: bool = typer.Option(False, "--all", help="Resolved ones too."),
              as_json: bool = JSON_OPTION) -> None:
    """Provider-level adjustments (835 PLB) posting could not place: booked as provider
    adjustments until a biller says what they were (WO, L6 and FB are placed by posting)."""
    from revcycle.pipeline.plb import plb_queue

    with _sessions()() as session:
        rows = plb_queue(session, tenant=tenant, payer=payer,
                         include_resolved=include_resolved)
    _print_queue("plb", rows, ("plb_id", "payer", "trace_number", "reason_code", "amount",
                               "reason", "file", "position",
                               *(("resolution",) if include_resolved else ())), as_json)


@queue_app.command("plb-resolve")
def queue_plb_resolve(
    plb_id: int = typer.Argument(..., help="The PLB's plb_id."),
    note: str = typer.Option(..., "--note", help="What it was and what was done, up to 200"
                             " characters."),
    by: str = typer.Option("", "--by", help="Who worked it; default: the login name."),
    tenant: str | None = typer.Option(None, "--tenant", help="Act as this provider client:"
                                      " another's PLB is refused."),
) -> None:
    """Close a queued PLB once it has been worked."""
    from revcycle.pipeline.plb import resolve_plb
    from revcycle.pipeline.queues import QueueError

    with _sessions()() as session:
        try:
            done = resolve_plb(session, plb_id, note, by or _login(), tenant=tenant)
        except QueueError as exc:
            _fail(str(exc))
        session.commit()
    print(f"PLB {done['plb_id']} resolved by {done['resolved_by']} at {done['resolved_at']}")


@queue_app.command("refunds")
def queue_refunds(tenant: str | None = TENANT_OPTION,
                  as_of: datetime | None = typer.Option(None, "--as-of", formats=["%Y-%m-%d"],
                                                        help="Day (YYYY-MM-DD); default today."),
                  as_json: bool = JSON_OPTION) -> None:
    """Claims with a credit balance (payers paid more than owed), oldest first, with the
    day each was identified and its age: overdue past 60 days (refund within 60 days)."""
    from revcycle.pipeline.refunds import credit_balances

    day = as_of.date() if as_of else datetime.now().date()
    with _sessions()() as session:
        rows = credit_balances(session, day, None if tenant is None else [tenant])
    _print_queue("refunds", rows, ("claim_id", "payer", "amount", "identified", "age_days",
                                   "overdue", "refund_due_by"), as_json)
