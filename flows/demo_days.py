"""``revcycle demo --days N``: N business days in a row on a payer world.

The simulator's payers (payer modules whose only channel is ``simulator``) are played by
a :class:`~revcycle.simulator.world.PayerWorld` behind a real SFTP server under the demo
home: the daily flow uploads there and collects there, and the world answers on a payer's
timetable (999 the same day, 277CA days later, the 835 on its weekly payment run). After
the submission days, the flow runs on once a week with no new claims while the payers
pay. Each run prints one line; the end shows A/R by age and the totals. Counts and
amounts only, no PHI.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.channels.secrets import environment_variable
from revcycle.db.models import (
    Claim,
    ClaimVersion,
    LedgerEntry,
    Money,
    Payment,
    ProviderLevelAdjustment,
)
from revcycle.payers import PayerDefinition
from revcycle.pipeline.aging import BUCKETS, ar_aging_for
from revcycle.pipeline.reconcile import CHECKS, Finding, check_books
from revcycle.settings import get_settings
from revcycle.simulator.mismatch import Mismatches
from revcycle.simulator.sftp_server import SftpTestServer
from revcycle.simulator.world import PayerWorld, WorldPayer

WORLD_SECRET = "payer-world"
SETTING = "REVCYCLE_PAYER_WORLD"
ZERO = Decimal("0.00")

RunDay = Callable[[date], tuple[bool, dict[str, Any]]]  # the daily flow on a day
DropDay = Callable[[date, int], int]  # drop the i-th submission day; claims dropped


@dataclass(frozen=True)
class DayFigures:
    """One run: its day, the claims dropped before it, its steps, and the books after it."""

    business_date: str
    claims_dropped: int
    steps_ok: int
    steps_failed: int
    claims_paid: int
    claims_denied: int
    open_ar: str

    def line(self) -> str:
        failed = f"[red]{self.steps_failed} failed[/red]" if self.steps_failed else "0 failed"
        return (f"{self.business_date}  dropped {self.claims_dropped:>5,}  steps"
                f" {self.steps_ok:>3} ok {failed}  paid {self.claims_paid:>6,}"
                f"  open A/R ${Decimal(self.open_ar):,.2f}")


def business_days(start: date, count: int) -> list[date]:
    """``count`` weekdays from ``start`` on (a weekend start moves to Monday)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def world_payers(payers: dict[str, PayerDefinition]) -> list[PayerDefinition]:
    """The payers a payer world plays: those whose only channel is the simulator."""
    return [p for _, p in sorted(payers.items()) if p.simulated]


@contextmanager
def payer_world(root: Path, payers: list[PayerDefinition], start: date, seed: int,
                mismatches: Mismatches | None = None,
                resubmissions: bool = False) -> Iterator[PayerWorld]:
    """An SFTP server under ``root`` with one user per payer, the world playing them, and
    ``REVCYCLE_PAYER_WORLD`` (and its password secret) pointing the payers' routes at it
    for as long as it runs; its payers make the real-world ``mismatches`` (default: the
    realistic rates) that posting must match through. Stops the server and restores the
    environment on the way out, however it is left (an error, Ctrl-C). ``resubmissions``:
    the payers answer replacements and voids as payers do (``WorldPayer.resubmissions``)."""
    server = SftpTestServer(root=root)
    saved = {name: os.environ.get(name) for name in (SETTING,
                                                     environment_variable(WORLD_SECRET))}
    try:
        server.start()
        password = secrets.token_urlsafe(24)
        for payer in payers:
            server.add_user(payer.payer_id.lower(), password=password)
        os.environ[SETTING] = json.dumps({"host": server.host, "port": server.port,
                                          "host_key": server.host_key_line,
                                          "password_secret": WORLD_SECRET})
        os.environ[environment_variable(WORLD_SECRET)] = password
        get_settings.cache_clear()
        chosen = Mismatches.realistic() if mismatches is None else mismatches
        yield PayerWorld([WorldPayer.of(p, seed=seed, sftp=server, mismatches=chosen,
                                        sftp_user=p.payer_id.lower(),
                                        resubmissions=resubmissions)
                          for p in payers], start)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        server.stop()


def books(session: Session, as_of: date, tenants: list[str]) -> dict[str, Any]:
    """Claims paid and denied, A/R aging and the ledger's totals as of a day."""
    statuses = dict(session.execute(
        select(Claim.status, func.count()).where(Claim.tenant_id.in_(tenants))
        .group_by(Claim.status)).all())
    accounts = dict(session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount, type_=Money()))
        .where(LedgerEntry.tenant_id.in_(tenants), LedgerEntry.entry_date <= as_of)
        .group_by(LedgerEntry.account)).all())
    aging = ar_aging_for(session, as_of, tenants)

    def account(*names: str) -> Decimal:
        return sum((accounts.get(name) or ZERO for name in names), ZERO)

    return {"claims_paid": statuses.get("PAID", 0) + statuses.get("PARTIALLY_PAID", 0),
            "claims_denied": statuses.get("DENIED", 0), "aging": aging,
            "totals": {"billed": str(-account("REVENUE")), "paid": str(account("CASH")),
                       "patient_responsibility": str(account("PATIENT_AR")),
                       "adjustments": str(account("CONTRACTUAL", "OTHER_ADJUSTMENT")),
                       "open_ar": aging["total"]}}


WORLD_CHECKS = ("world-adjudicated", "world-rejected", "world-not-ours")


def check_against_world(session: Session, world: PayerWorld,
                        tenants: list[str]) -> list[Finding]:
    """Does revcycle know what the payer world did? Every claim the world remitted is
    adjudicated here with the world's net payment (a take-back: reversed; a PLB WO
    recoupment: less what it recovered), or one of its CLPs waits in the posting exception
    queue (found by our claim, or by its CLP07 when the CLP could not name our claim);
    every claim it rejected is PAYER_REJECTED; a claim of the world's that is not ours
    has a CLP in the queue too. A claim a biller corrected, replaced or voided and sent
    again is on its way: the world's earlier answer is not its last word. Counts only."""
    not_sent = ("RECEIVED", "VALIDATED", "DQ_FAILED", "READY", "REJECTED")
    reworked = set(session.scalars(select(ClaimVersion.claim_id).join(
        Claim, Claim.id == ClaimVersion.claim_id).where(Claim.tenant_id.in_(tenants))))
    rows = [row for row in session.execute(
        select(Claim.id, Claim.payer_id, Claim.patient_control_number, Claim.status,
               Claim.paid, Claim.frequency_code).where(Claim.tenant_id.in_(tenants)))
        if row.status not in not_sent or row.id in reworked]
    # One claim per payer and number: the one sent wins over a reworked one not sent (a
    # provider's second claim of the number, which scrub refused, DUP-PCN).
    rows.sort(key=lambda row: row.status not in not_sent)
    claims = {(row.payer_id, row.patient_control_number): (row.id, row.status, row.paid)
              for row in rows}
    # A replacement or void the payer refused: the decision it named stands.
    resubmitted = {row.id for row in rows if row.frequency_code in ("7", "8")}
    refused_resubmissions = {row.id for row in rows if row.status == "PAYER_REJECTED"
                             and row.id in resubmitted}
    # Reworked and not yet answered again: still with us, or with the payer.
    on_its_way = {key for key, (claim_id, status, _) in claims.items()
                  if claim_id in reworked and status in (*not_sent, "SUBMITTED", "ACCEPTED")}
    open_exceptions = session.execute(select(Payment.claim_id,
                                             Payment.payer_claim_control_number).where(
        Payment.exception != "", Payment.resolved_at.is_(None))).all()
    queued_claims = {claim_id for claim_id, _ in open_exceptions}
    queued_numbers = {number for _, number in open_exceptions}
    # A PLB WO posting could not place on its claim waits in the PLB queue, naming its CLP07.
    queued_numbers |= set(session.scalars(select(ProviderLevelAdjustment.reference).where(
        ProviderLevelAdjustment.queued, ProviderLevelAdjustment.resolved_at.is_(None))))
    differ: Counter[str] = Counter()  # how ours differs: our status, or "paid" amounts
    examples: dict[str, list[int]] = {}  # claim ids of each way (ids only: no PHI)
    not_ours = 0
    for key, remitted in world.remitted().items():
        if remitted.payer_claim_numbers & queued_numbers:
            continue  # one of its CLPs waits for a biller in the exception queue
        ours = claims.get(key)
        if ours is None:
            not_ours += 1
            continue
        claim_id, status, paid = ours
        expected = ("REVERSED", "VOIDED") if remitted.status_code == "22" else (
            "PAID", "PARTIALLY_PAID", "DENIED")
        if claim_id in queued_claims or key in on_its_way:
            continue
        if claim_id in refused_resubmissions:
            expected = (*expected, "PAYER_REJECTED")
        how = ""
        if status not in expected:
            how = f"{status} here, CLP02 {remitted.status_code} there"
        # A PLB WO naming the claim took part of its payment back (revcycle.pipeline.plb).
        elif paid != remitted.paid - remitted.recouped:
            how = f"{status}, another amount paid" + (
                f" ({', '.join(remitted.mismatches)})" if remitted.mismatches else "")
        if how:
            differ[how] += 1
            examples.setdefault(how, []).append(claim_id)
    remitted_keys = set(world.remitted())
    # The world refused a claim: here it is refused too, or it is on its way again, or it
    # was a replacement or void of a claim the world decided (a CLP of the claim came after
    # the replacement was sent, and posted: that decision is the claim's now).
    rejected = [claims.get(key, (0, "", ZERO)) for key in world.rejected()
                if key not in on_its_way
                and claims.get(key, (0, "", ZERO))[1] != "PAYER_REJECTED"
                and not (claims.get(key, (0,))[0] in resubmitted and key in remitted_keys)]
    findings = []
    if differ:
        findings.append(Finding("world-adjudicated", sum(differ.values()), "claims the payer"
                                " world remitted that are not adjudicated here as it paid"
                                " them, nor queued: " + "; ".join(
                                    f"{n} {how} (e.g. claim"
                                    f" {', '.join(map(str, sorted(examples[how])[:3]))})"
                                    for how, n in differ.most_common())))
    if rejected:
        findings.append(Finding("world-rejected", len(rejected), "claims the payer world"
                                " rejected that are not PAYER_REJECTED here: " + ", ".join(
                                    f"claim {claim_id or '(none)'} {status or 'not here'}"
                                    for claim_id, status, _ in sorted(rejected)[:5])))
    if not_ours:
        findings.append(Finding("world-not-ours", not_ours, "remitted claims we never sent"
                                " that are not in the posting exception queue"))
    return findings


def closing_checks(session: Session, world: PayerWorld, as_of: date,
                   tenants: list[str]) -> dict[str, Any]:
    """The books' own checks and the world comparison: names run, findings (none: all
    passed)."""
    findings = check_books(session, tenants, as_of) + check_against_world(session, world,
                                                                          tenants)
    return {"checks": [*CHECKS, *WORLD_CHECKS], "findings": [
        {"check": f.check, "count": f.count, "message": f.message} for f in findings]}


def print_checks(checks: dict[str, Any], console: Console) -> None:
    findings = checks["findings"]
    if not findings:
        console.print(f"closing checks: all {len(checks['checks'])} passed"
                      f" ({', '.join(checks['checks'])})")
        return
    console.print(f"[red]closing checks: {len(findings)} failed[/red]")
    for finding in findings:
        console.print(f"  {finding['check']}: {finding['count']:,} {finding['message']}")


def run_days(world: PayerWorld, days: list[date], settle_weeks: int, run: RunDay,
             drop: DropDay, figures: Callable[[date], dict[str, Any]],
             show: Callable[[str], None], work: Callable[[date], Any] | None = None,
             ) -> tuple[list[DayFigures], dict[str, Any]]:
    """The daily flow on each submission day (dropping its claims first), then once a week
    for ``settle_weeks`` with no new claims; ``work``, when given, works the queues each
    morning before the run (a biller's corrections go with the day's claims). Before each
    run the world plays up to the day
    before (what it left over a weekend is in the mailbox); after it, the day itself (it
    takes the day's uploads), except after the last run: what the world answered then would
    wait for a run that never comes, and the closing checks compare our books with what the
    world delivered before it. The figures of each run, and the last run's summary."""
    later = [days[-1] + timedelta(weeks=week) for week in range(1, settle_weeks + 1)]
    rows: list[DayFigures] = []
    summary: dict[str, Any] = {}
    runs = [*days, *later]
    for number, day in enumerate(runs):
        if number == len(days) and later:
            show(f"No new claims from here on: a run every 7 days for {settle_weeks} weeks"
                 " while the payers answer.")
        world.advance(day - timedelta(days=1))
        dropped = drop(day, number) if number < len(days) else 0
        if work is not None:
            work(day)
        _, summary = run(day)
        if number < len(runs) - 1:
            world.advance(day)
        steps = [step for stage in summary["stages"].values() for step in stage]
        now = figures(day)
        rows.append(DayFigures(day.isoformat(), dropped, len(steps) - len(summary[
            "failed_steps"]), len(summary["failed_steps"]), now["claims_paid"],
            now["claims_denied"], now["aging"]["total"]))
        show(rows[-1].line())
    return rows, summary


def print_books(final: dict[str, Any], console: Console) -> None:
    """A/R by age bucket, then the totals."""
    aging = final["aging"]
    table = Table(title=f"A/R as of {aging['as_of']}")
    for column in ("days since submission", "claims", "open A/R"):
        table.add_column(column, justify="right")
    for name in BUCKETS:
        bucket = aging["buckets"][name]
        table.add_row(name, f"{bucket['claims']:,}", f"${Decimal(bucket['amount']):,.2f}")
    table.add_row("total", f"{aging['claims']:,}", f"${Decimal(aging['total']):,.2f}")
    console.print(table)
    totals = Table(title="totals")
    totals.add_column("")
    totals.add_column("amount", justify="right")
    for name, value in final["totals"].items():
        totals.add_row(name.replace("_", " ").replace("open ar", "open A/R"),
                       f"${Decimal(value):,.2f}")
    console.print(totals)


def print_rework(rework: dict[str, Any], console: Console) -> None:
    """What the simulated biller's work came to (``revcycle.simulator.biller``)."""
    table = Table(title="rework (the demo biller worked every refusal and denial)")
    table.add_column("")
    table.add_column("", justify="right")

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    table.add_row("claims sent to payers", f"{rework['claims_sent']:,}")
    table.add_row("clean on first submission", share(rework["clean_first_submission"]))
    table.add_row("taken by the payer after rework", share(rework["clean_after_rework"]))
    table.add_row("denied dollars", f"${Decimal(rework['denied_dollars']):,.2f}")
    table.add_row("  recovered (paid after a replacement claim)",
                  f"${Decimal(rework['denied_recovered']):,.2f}"
                  f" ({share(rework['denied_recovered_share'])})")
    table.add_row("  written off", f"${Decimal(rework['denied_written_off']):,.2f}")
    table.add_row("  still in work", f"${Decimal(rework['denied_in_work']):,.2f}")
    for what, n in rework["work"].items():
        table.add_row(f"claims {what}", f"{n:,}")
    console.print(table)


def as_json(rows: list[DayFigures], final: dict[str, Any], world: PayerWorld,
            summary: dict[str, Any], started: float, checks: dict[str, Any],
            rework: dict[str, Any] | None = None) -> str:
    return json.dumps({"runs": [asdict(row) for row in rows], "aging": final["aging"],
                       "totals": final["totals"], "payer_world": world.summary(),
                       "closing_checks": checks, "rework": rework,
                       "wall_time_s": round(time.monotonic() - started, 1),
                       "last_run": summary}, default=str)
