"""Closing checks: do the books and the mailbox agree with themselves?

Each check reads what the pipeline wrote and reports what does not add up, in counts and
check names only (never a claim's content), so its findings can be printed, logged and
put in a run report. An empty list means every check passed. The checks:

- ``trial-balance``: each tenant's ledger sums to zero (every entry has its other side).
- ``claim-balance``: for every claim on the books, its entries sum to zero and what payers
  still owe on it (every account starting with ``AR``: open, denied in work, the next
  payer's) is what its row says: its charge on the books - paid - adjustments - patient
  responsibility, less what moved to the claim for the next payer (``COB_TRANSFER``); and
  a claim sent and not refused has its total charge on the books (one the payer refused,
  or a void it took back, has none; a refused replacement of a decided claim keeps the
  original's). A claim for the next payer books no charge: its basis is what moved in from
  the prior claim (see :mod:`revcycle.pipeline.cob`), so the patient's share not yet
  settled is counted once.
- ``remittance-cash``: each posted remittance moved as much cash as its BPR02 says (a
  debit remittance, BPR03 ``D``, takes money back: stored negative).
- ``mailbox-routed``: every file collected from a payer is routed whole, or the sets left
  over are in the unrouted queue with a reason.
- ``mailbox-applied``: every routed set was read by the stage it belongs to (applied, or
  quarantined with a reason); none waits.
- ``applied-once``: no 835 (tenant, payer, trace number) is posted twice, and no CLP of a
  posted remittance is posted twice.
- ``aging``: A/R aging's buckets add up to the open A/R of the claims it ages (every
  payer receivable account: those whose names start with ``AR``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import (
    File,
    LedgerEntry,
    MailboxFile,
    MailboxRoute,
    Money,
    Payment,
    Remittance,
)
from revcycle.pipeline.accounts import is_receivable
from revcycle.pipeline.aging import ar_aging_for
from revcycle.pipeline.charges import booked_charges
from revcycle.pipeline.cob import TRANSFER
from revcycle.status import Status

ZERO = Decimal("0.00")
# Claims sent and not refused: their charge is on the books (a replacement's once sent).
CHARGED = frozenset(s.value for s in (Status.SUBMITTED, Status.ACCEPTED, Status.PAID,
                                      Status.PARTIALLY_PAID, Status.DENIED, Status.REVERSED))
CHECKS = ("trial-balance", "claim-balance", "remittance-cash", "mailbox-routed",
          "mailbox-applied", "applied-once", "aging")


@dataclass(frozen=True)
class Finding:
    """One check that failed: its name, how many things fail it, and what they are."""

    check: str
    count: int
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.count} {self.message}"


def check_books(session: Session, tenants: Sequence[str], as_of: date) -> list[Finding]:
    """Every check of the module docstring over ``tenants``; [] when all pass."""
    checks = (_trial_balance, _claim_balance, _remittance_cash, _applied_once)
    findings = [f for check in checks for f in check(session, tenants)]
    findings += _aging(session, tenants, as_of)
    return findings + check_mailbox(session)


def check_mailbox(session: Session) -> list[Finding]:
    """``mailbox-routed`` and ``mailbox-applied`` (the mailbox is tenant-neutral)."""
    findings = []
    unrouted = session.scalar(select(func.count()).select_from(MailboxRoute).where(
        MailboxRoute.tenant_id.is_(None), func.coalesce(MailboxRoute.reason, "") == ""))
    not_routed = session.scalar(select(func.count()).select_from(MailboxFile).where(
        MailboxFile.status == "COLLECTED"))
    if unrouted or not_routed:
        findings.append(Finding("mailbox-routed", unrouted + not_routed,
                                "collected files or sets neither routed nor queued with a"
                                " reason"))
    read = select(File.id).where(and_(File.tenant_id == MailboxRoute.tenant_id,
                                      File.direction == "in",
                                      File.sha256 == MailboxRoute.sha256))
    waiting = session.scalar(select(func.count()).select_from(MailboxRoute).where(
        MailboxRoute.tenant_id.is_not(None), ~read.exists()))
    if waiting:
        findings.append(Finding("mailbox-applied", waiting,
                                "routed sets that no acknowledgment or posting run read"))
    return findings


def _sum(column: Any) -> Any:
    return func.sum(column, type_=Money())


def _trial_balance(session: Session, tenants: Sequence[str]) -> list[Finding]:
    off = [tenant for tenant, total in session.execute(
        select(LedgerEntry.tenant_id, _sum(LedgerEntry.amount)).where(
            LedgerEntry.tenant_id.in_(list(tenants))).group_by(LedgerEntry.tenant_id))
        if total]
    return [Finding("trial-balance", len(off), "tenants whose ledger does not sum to zero")
            ] if off else []


def _claim_balance(session: Session, tenants: Sequence[str]) -> list[Finding]:
    totals: dict[int, Decimal] = {}
    ar: dict[int, Decimal] = {}
    moved: dict[int, Decimal] = {}  # to the next payer's claim (+), from the prior (-)
    for claim_id, account, amount in session.execute(
            select(LedgerEntry.claim_id, LedgerEntry.account, _sum(LedgerEntry.amount))
            .where(LedgerEntry.tenant_id.in_(list(tenants)),
                   LedgerEntry.claim_id.is_not(None))
            .group_by(LedgerEntry.claim_id, LedgerEntry.account)):
        totals[claim_id] = totals.get(claim_id, ZERO) + amount
        if is_receivable(account):  # open, denied in work, or the next payer's
            ar[claim_id] = ar.get(claim_id, ZERO) + amount
        elif account == TRANSFER:
            moved[claim_id] = moved.get(claim_id, ZERO) + amount
    unbalanced = sum(1 for total in totals.values() if total)
    booked = booked_charges(session, tenants)
    disagreeing = misbooked = 0
    for claim_id, status, prior, charge, paid, adjusted, patient in session.execute(
            select(ClaimRow.id, ClaimRow.status, ClaimRow.prior_claim_id,
                   ClaimRow.total_charge, ClaimRow.paid, ClaimRow.adjusted,
                   ClaimRow.patient_responsibility).where(
                ClaimRow.tenant_id.in_(list(tenants)))):
        on_books = booked.get(claim_id, ZERO)
        if claim_id in totals and ar.get(claim_id, ZERO) != (
                on_books - paid - adjusted - patient - moved.get(claim_id, ZERO)):
            disagreeing += 1
        # Sent and not refused (a claim for the next payer has no charge of its own): what
        # is on the books is what the claim charges.
        if prior is None and status in CHARGED and on_books != charge:
            misbooked += 1
    findings = []
    if unbalanced:
        findings.append(Finding("claim-balance", unbalanced,
                                "claims whose ledger entries do not sum to zero"))
    if disagreeing:
        findings.append(Finding("claim-balance", disagreeing,
                                "claims whose A/R (all AR accounts) differs from charge -"
                                " paid - adjustments - patient responsibility"))
    if misbooked:
        findings.append(Finding("claim-balance", misbooked,
                                "claims sent whose charge on the books is not their total"
                                " charge"))
    return findings


def _remittance_cash(session: Session, tenants: Sequence[str]) -> list[Finding]:
    cash = dict(session.execute(
        select(LedgerEntry.remittance_id, _sum(LedgerEntry.amount)).where(
            LedgerEntry.account == "CASH", LedgerEntry.remittance_id.is_not(None),
            LedgerEntry.tenant_id.in_(list(tenants))).group_by(LedgerEntry.remittance_id)
    ).all())
    off = sum(1 for remittance_id, total in session.execute(
        select(Remittance.id, Remittance.total_paid).where(
            Remittance.tenant_id.in_(list(tenants)), Remittance.status == "POSTED"))
        if cash.get(remittance_id, ZERO) != total)
    return [Finding("remittance-cash", off, "posted remittances whose cash is not their"
                    " BPR02")] if off else []


def _applied_once(session: Session, tenants: Sequence[str]) -> list[Finding]:
    traces = select(Remittance.tenant_id, Remittance.payer_id, Remittance.trace_number).where(
        Remittance.tenant_id.in_(list(tenants)), Remittance.status == "POSTED").group_by(
        Remittance.tenant_id, Remittance.payer_id, Remittance.trace_number).having(
        func.count() > 1).subquery()
    twice = session.scalar(select(func.count()).select_from(traces))
    clps = select(Payment.remittance_id, Payment.clp_index).join(
        Remittance, Remittance.id == Payment.remittance_id).where(
        Remittance.tenant_id.in_(list(tenants)), Payment.exception == "",
        Payment.posted_by == "").group_by(Payment.remittance_id, Payment.clp_index).having(
        func.count() > 1).subquery()
    twice_clps = session.scalar(select(func.count()).select_from(clps))
    findings = []
    if twice:
        findings.append(Finding("applied-once", twice, "835s posted more than once"))
    if twice_clps:
        findings.append(Finding("applied-once", twice_clps, "CLPs posted more than once"))
    return findings


def _aging(session: Session, tenants: Sequence[str], as_of: date) -> list[Finding]:
    aging = ar_aging_for(session, as_of, tenants)
    buckets = sum((Decimal(b["amount"]) for b in aging["buckets"].values()), ZERO)
    open_ar = sum((amount for (amount,) in session.execute(
        select(_sum(LedgerEntry.amount)).where(
            LedgerEntry.tenant_id.in_(list(tenants)), LedgerEntry.account.startswith("AR"),
            LedgerEntry.entry_date <= as_of).group_by(LedgerEntry.claim_id))
        if amount is not None and amount > 0), ZERO)
    if buckets != Decimal(aging["total"]) or buckets != open_ar:
        return [Finding("aging", 1, "A/R aging's buckets do not add up to the open A/R of"
                        " the claims")]
    return []
