"""Credit balances: claims the payers paid more than they owe, to be refunded.

A claim's payer receivables are its ledger accounts whose names start with ``AR`` (``AR``
open with the payer, ``AR_DENIED``, ``AR_NEXT_PAYER``). When they sum negative the claim
has a credit balance: paid more than billed, a duplicate payment posted by hand, a
recoupment the payer reversed twice. A/R aging leaves it out (an overpayment is not A/R);
this module lists it instead, and keeps listing it, whatever its age, until entries
bring the claim back to zero or above (the refund, or the payer's own recoupment).

An overpayment must be returned within 60 days of being identified (for Medicare and
Medicaid, the ACA's 60-day rule; many contracts say the same). A credit is identified the
day its receivables last went from zero or more to below zero, as the ledger's entry
dates say (so the list can be rerun for a past day); its age counts from there, and it is
flagged ``overdue`` past 60 days.

Rows carry our claim id, tenant, payer, amounts and days: no patient data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Money

ZERO = Decimal("0.00")
REFUND_WITHIN_DAYS = 60
CHUNK = 500


def _receivable() -> Any:
    return LedgerEntry.account.like("AR%")


def credit_balances(session: Session, as_of: date,
                    tenants: Sequence[str] | None) -> list[dict[str, Any]]:
    """Every claim of ``tenants`` (None: all) with a credit balance as of ``as_of``, the
    oldest identified first: ``claim_id``, ``tenant``, ``payer``, ``amount`` (what is owed
    back, positive), ``identified`` and ``refund_due_by`` (ISO days), ``age_days`` and
    ``overdue`` (older than 60 days)."""
    balance = func.sum(LedgerEntry.amount, type_=Money())
    query = (select(LedgerEntry.claim_id).where(
        _receivable(), LedgerEntry.claim_id.is_not(None), LedgerEntry.entry_date <= as_of)
        .group_by(LedgerEntry.claim_id).having(balance < 0))
    if tenants is not None:
        query = query.where(LedgerEntry.tenant_id.in_(list(tenants)))
    ids = sorted(session.scalars(query))
    credits = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        days: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for claim_id, day, amount in session.execute(
                select(LedgerEntry.claim_id, LedgerEntry.entry_date, balance)
                .where(_receivable(), LedgerEntry.claim_id.in_(chunk),
                       LedgerEntry.entry_date <= as_of)
                .group_by(LedgerEntry.claim_id, LedgerEntry.entry_date)
                .order_by(LedgerEntry.claim_id, LedgerEntry.entry_date)):
            days[claim_id].append((day, amount))
        claims = {row.id: row for row in session.execute(
            select(ClaimRow.id, ClaimRow.tenant_id, ClaimRow.payer_id)
            .where(ClaimRow.id.in_(chunk)))}
        for claim_id in chunk:
            owed, identified = _identified(days[claim_id])
            age = (as_of - identified).days
            claim = claims[claim_id]
            credits.append({
                "claim_id": claim_id, "tenant": claim.tenant_id, "payer": claim.payer_id,
                "amount": str(-owed), "identified": identified.isoformat(),
                "age_days": age, "overdue": age > REFUND_WITHIN_DAYS,
                "refund_due_by": (identified + timedelta(days=REFUND_WITHIN_DAYS)).isoformat(),
            })
    return sorted(credits, key=lambda c: (c["identified"], c["claim_id"]))


def _identified(days: list[tuple[date, Decimal]]) -> tuple[Decimal, date]:
    """The balance after the last day, and the day it last turned negative."""
    running, since = ZERO, days[-1][0]
    for day, amount in days:
        before, running = running, running + amount
        if before >= 0 > running:
            since = day
    return running, since
