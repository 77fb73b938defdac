"""Taking a claim's charge off the books: the inverse of :func:`post.book_charges`.

Submission books each claim's charge (A/R debit, revenue credit, memo ``charge``). A claim
the payer's front end rejects (999, 277CA) was never taken in: the payer owes nothing for
it, so its charge must not stay in open A/R or aging, nor in revenue. The rejected claim is
a dead end; its correction is a new claim that books its own charge when it is sent, so
the charge is counted once.

Un-booking reverses exactly the entries ``book_charges`` wrote for the claim, whatever
accounts they are on, with the memo :data:`UNBOOKED`. It is idempotent: what is reversed
is the net of the charge entries and of earlier reversals, so a claim already un-booked
(by another rejection path, or a rerun) gets nothing more, and a claim never booked gets
nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from revcycle.db.models import LedgerEntry, Money
from revcycle.status import Status

CHARGE = "charge"  # the memo of what book_charges books
UNBOOKED = "payer rejected"  # the memo of its reversal
# Claims whose charge is off the books: the payer owes nothing on them.
OFF_THE_BOOKS = frozenset({Status.PAYER_REJECTED})


def unbook_charges(session: Session, tenant: str, claim_ids: Sequence[int],
                   on: date) -> list[int]:
    """Reverse the charge of each claim that still has it on the books, dated ``on``, in
    the caller's transaction; returns the claims un-booked."""
    if not claim_ids:
        return []
    net = func.sum(LedgerEntry.amount, type_=Money())
    entries = []
    for start in range(0, len(claim_ids), 500):
        chunk = list(claim_ids[start:start + 500])
        for claim_id, account, amount in session.execute(
                select(LedgerEntry.claim_id, LedgerEntry.account, net).where(
                    LedgerEntry.tenant_id == tenant, LedgerEntry.claim_id.in_(chunk),
                    LedgerEntry.memo.in_((CHARGE, UNBOOKED)))
                .group_by(LedgerEntry.claim_id, LedgerEntry.account)
                .order_by(LedgerEntry.claim_id, LedgerEntry.account)):
            if amount:
                entries.append({"tenant_id": tenant, "claim_id": claim_id,
                                "account": account, "amount": -amount, "entry_date": on,
                                "memo": UNBOOKED, "created_at": datetime.now()})
    if entries:
        session.execute(insert(LedgerEntry), entries)
    return sorted({entry["claim_id"] for entry in entries})


def expected_ar(status: str, charge: Decimal, paid: Decimal, adjusted: Decimal,
                patient: Decimal) -> Decimal:
    """What a claim's A/R should be: nothing once its charge is off the books, else what
    is billed and not yet paid, adjusted or the patient's."""
    if status in OFF_THE_BOOKS:
        return Decimal(0)
    return charge - paid - adjusted - patient
