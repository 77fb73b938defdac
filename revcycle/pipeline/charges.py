"""A claim's charge on the books and off them.

Submission books each claim's charge (A/R debit, revenue credit, memo ``charge``): what
the claim charges now less what is already booked for it, so a replacement claim (7) of an
adjudicated claim takes over the original's charge (only a changed total books the
difference), a void (8) books nothing (its charge leaves the books when the payer's
reversal posts, :func:`void_charges`), and a secondary claim books nothing (its receivable
is what the prior payer left, moved from that claim). A claim
the payer's front end rejects (999, 277CA) was never taken in: the payer owes nothing for
it, so its charge must not stay in open A/R or aging, nor in revenue. The rejected claim is
a dead end; its correction is a new claim that books its own charge when it is sent, so
the charge is counted once.

Un-booking reverses exactly the entries :func:`book_charges` wrote for the claim, whatever
accounts they are on, with the memo :data:`UNBOOKED`. It is idempotent: what is reversed
is the net of the charge entries and of earlier reversals, so a claim already un-booked
(by another rejection path, or a rerun) gets nothing more, and a claim never booked gets
nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.bulk import among, insert_rows
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Money, Payment

ZERO = Decimal(0)

CHARGE = "charge"  # the memo of what book_charges books
UNBOOKED = "payer rejected"  # the memo of its reversal
VOIDED = "voided"  # the memo of its reversal when the payer took back a voided claim
_CHARGE_MEMOS = (CHARGE, UNBOOKED, VOIDED)
VOID = "8"  # CLM05-3: void or cancel of a prior claim


def book_charges(session: Session, tenant: str, claim_ids: Sequence[int], on: date) -> None:
    """Submission: each claim's charge on the books (A/R debit, revenue credit), less what
    is booked for it already; nothing for a void or a secondary claim. In the caller's
    transaction."""
    entries = []
    for start in range(0, len(claim_ids), 500):
        chunk = list(claim_ids[start:start + 500])
        booked = _booked(session, tenant, chunk)
        for claim_id, charge in session.execute(
                select(ClaimRow.id, ClaimRow.total_charge).where(
                    among(session, ClaimRow.id, chunk), ClaimRow.frequency_code != VOID,
                    ClaimRow.prior_claim_id.is_(None)).order_by(ClaimRow.id)):
            amount = charge - booked.get((claim_id, "AR"), ZERO)
            if amount:
                entries += [_entry(tenant, claim_id, "AR", amount, on, CHARGE),
                            _entry(tenant, claim_id, "REVENUE", -amount, on, CHARGE)]
    insert_rows(session, LedgerEntry.__table__, entries)


def unbook_charges(session: Session, tenant: str, claim_ids: Sequence[int],
                   on: date, memo: str = UNBOOKED) -> list[int]:
    """Reverse the charge of each claim that still has it on the books, dated ``on``, in
    the caller's transaction; returns the claims un-booked."""
    entries = []
    for start in range(0, len(claim_ids), 500):
        booked = _booked(session, tenant, list(claim_ids[start:start + 500]))
        entries += [_entry(tenant, claim_id, account, -amount, on, memo)
                    for (claim_id, account), amount in sorted(booked.items()) if amount]
    insert_rows(session, LedgerEntry.__table__, entries)
    return sorted({entry["claim_id"] for entry in entries})


def unbook_rejected(session: Session, tenant: str, claim_ids: Sequence[int], on: date
                    ) -> list[int]:
    """The payer's front end refused these claims: their charges leave the books, but not
    that of a replacement or void of a claim the payer had decided (a payment posted on
    it): that decision stands, with its charge and what was posted."""
    decided: set[int] = set()
    for start in range(0, len(claim_ids), 500):
        decided.update(session.scalars(select(Payment.claim_id).where(
            Payment.claim_id.in_(list(claim_ids[start:start + 500])),
            Payment.exception == "").distinct()))
    return unbook_charges(session, tenant, [c for c in claim_ids if c not in decided], on)


def booked_charges(session: Session, tenants: Sequence[str]) -> dict[int, Decimal]:
    """Each claim's charge on the books now (its charge entries net of their reversals)."""
    return dict(session.execute(
        select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount, type_=Money())).where(
            LedgerEntry.tenant_id.in_(list(tenants)), LedgerEntry.account == "AR",
            LedgerEntry.memo.in_(_CHARGE_MEMOS), LedgerEntry.claim_id.is_not(None))
        .group_by(LedgerEntry.claim_id)).all())


def void_charges(session: Session, tenant: str, claim_ids: Sequence[int], on: date
                 ) -> list[int]:
    """The payer took back what it decided on voided claims: their charges leave the
    books (memo :data:`VOIDED`)."""
    return unbook_charges(session, tenant, claim_ids, on, VOIDED)


def _booked(session: Session, tenant: str, claim_ids: list[int]
            ) -> dict[tuple[int, str], Decimal]:
    """The net charge entries of each claim, by (claim, account)."""
    if not claim_ids:
        return {}
    net = func.sum(LedgerEntry.amount, type_=Money())
    return {(claim_id, account): amount for claim_id, account, amount in session.execute(
        select(LedgerEntry.claim_id, LedgerEntry.account, net).where(
            LedgerEntry.tenant_id == tenant, among(session, LedgerEntry.claim_id, claim_ids),
            LedgerEntry.memo.in_(_CHARGE_MEMOS))
        .group_by(LedgerEntry.claim_id, LedgerEntry.account))}


def _entry(tenant: str, claim_id: int, account: str, amount: Decimal, on: date,
           memo: str) -> dict[str, object]:
    return {"tenant_id": tenant, "claim_id": claim_id, "account": account, "amount": amount,
            "entry_date": on, "memo": memo, "created_at": datetime.now()}
