"""A/R aging: what payers still owe, by how long they have owed it.

A claim's open A/R is the balance of its ``AR`` ledger account as of a day (entries dated
after it are ignored, so an aging can be rerun for a past day). A claim is aged from its
submission date, the day its charge was booked on A/R (``book_charges`` at submission),
not from its first date of service: the payer cannot owe anything before it has the
claim, and payer follow-up and timely-filing appeals count from submission; service-date
aging would mix in the provider's own billing lag, which is not the payer's A/R.

Amounts in the result are strings of exact decimals (JSON-ready); no claim content.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Money

BUCKETS = ("0-30", "31-60", "61-90", "90+")
ZERO = Decimal("0.00")


def bucket(days: int) -> str:
    """The aging bucket of a claim submitted ``days`` days ago."""
    if days <= 30:
        return BUCKETS[0]
    if days <= 60:
        return BUCKETS[1]
    if days <= 90:
        return BUCKETS[2]
    return BUCKETS[3]


def ar_aging(session: Session, as_of: date, tenant: str | None = None) -> dict[str, Any]:
    """Open A/R as of a day, in buckets by days since submission: totals and claim counts
    per bucket, and amounts per payer. ``tenant`` None means every tenant."""
    return ar_aging_for(session, as_of, None if tenant is None else [tenant])


def ar_aging_for(session: Session, as_of: date,
                 tenants: Sequence[str] | None) -> dict[str, Any]:
    """:func:`ar_aging` over several tenants (None: all)."""
    balance = func.sum(LedgerEntry.amount, type_=Money())
    query = (select(ClaimRow.payer_id, func.min(LedgerEntry.entry_date), balance)
             .join(ClaimRow, ClaimRow.id == LedgerEntry.claim_id)
             .where(LedgerEntry.account == "AR", LedgerEntry.entry_date <= as_of)
             .group_by(LedgerEntry.claim_id, ClaimRow.payer_id))
    if tenants is not None:
        query = query.where(LedgerEntry.tenant_id.in_(list(tenants)))
    totals = dict.fromkeys(BUCKETS, ZERO)
    claims = dict.fromkeys(BUCKETS, 0)
    payers: dict[str, dict[str, Decimal]] = {}
    for payer_id, submitted, amount in session.execute(query):
        if amount is None or amount <= 0:
            continue  # settled, or a credit balance (an overpayment is not A/R)
        name = bucket((as_of - submitted).days)
        totals[name] += amount
        claims[name] += 1
        payers.setdefault(payer_id, dict.fromkeys(BUCKETS, ZERO))[name] += amount
    return {
        "as_of": as_of.isoformat(),
        "aged_from": "submission date",
        "buckets": {name: {"amount": str(totals[name]), "claims": claims[name]}
                    for name in BUCKETS},
        "total": str(sum(totals.values(), ZERO)),
        "claims": sum(claims.values()),
        "by_payer": {payer: {**{name: str(v) for name, v in amounts.items()},
                             "total": str(sum(amounts.values(), ZERO))}
                     for payer, amounts in sorted(payers.items())},
    }
