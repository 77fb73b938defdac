"""A/R aging: what payers still owe, by how long they have owed it.

A claim's open A/R is the balance of its payer receivable accounts (``AR`` open with the
payer, ``AR_DENIED`` denied and in work, ``AR_NEXT_PAYER`` owed by the next payer) as of a
day (entries dated after it are ignored, so an aging can be rerun for a past day). A
claim is aged from its submission date, the day its charge was booked on A/R
(``book_charges`` at submission), not from its first date of service: the payer cannot
owe anything before it has the claim, and payer follow-up and timely-filing appeals count
from submission; service-date aging would mix in the provider's own billing lag, which is
not the payer's A/R. A claim for the next payer (a secondary) books no charge: it is aged
from the day the prior payer's share moved to it, and that share leaves the prior claim's
receivables the same day, so it is aged once.

Amounts in the result are strings of exact decimals (JSON-ready); no claim content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.codesets.carc_classes import AdjustmentClass, classify, is_timely_filing
from revcycle.db.bulk import CHUNK
from revcycle.db.models import Adjustment as AdjustmentRow
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Money, Payment, WriteOff
from revcycle.pipeline.writeoffs import write_offs_by_reason

BUCKETS = ("0-30", "31-60", "61-90", "90+")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RECEIVABLE = "AR"  # the payer receivable accounts: AR, AR_DENIED, AR_NEXT_PAYER
DENIED = "AR_DENIED"  # denied, in work
ACCOUNT_NAMES = {"AR": "open with the payer", "AR_DENIED": "denied, in work",
                 "AR_NEXT_PAYER": "owed by the next payer"}


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
    """:func:`ar_aging` over several tenants (None: all).

    A claim's receivable is the sum of its payer receivable accounts (those whose names
    start with ``AR``: open with the payer, denied and in work, owed by the next payer).
    A positive one is aged; a negative one is a credit balance (money we owe back), listed
    apart and never aged. Beside the buckets: the receivable by account, the credits,
    denied dollars in work by reason (timely filing apart) and write-offs by reason."""
    balance = func.sum(LedgerEntry.amount, type_=Money())
    query = (select(LedgerEntry.claim_id, ClaimRow.payer_id, LedgerEntry.account,
                    func.min(LedgerEntry.entry_date), balance)
             .join(ClaimRow, ClaimRow.id == LedgerEntry.claim_id)
             .where(LedgerEntry.account.startswith(RECEIVABLE), LedgerEntry.entry_date <= as_of)
             .group_by(LedgerEntry.claim_id, ClaimRow.payer_id, LedgerEntry.account))
    if tenants is not None:
        query = query.where(LedgerEntry.tenant_id.in_(list(tenants)))
    claims: dict[int, _Receivable] = {}
    for claim_id, payer_id, account, first, amount in session.execute(query):
        owed = claims.setdefault(claim_id, _Receivable(payer_id, first))
        owed.first = min(owed.first, first)
        owed.accounts[account] = amount or ZERO
    totals = dict.fromkeys(BUCKETS, ZERO)
    counts = dict.fromkeys(BUCKETS, 0)
    payers: dict[str, dict[str, Decimal]] = {}
    accounts: dict[str, Decimal] = {}
    credits = [0, ZERO]
    denied: dict[int, Decimal] = {}
    for claim_id, owed in claims.items():
        amount = sum(owed.accounts.values(), ZERO)
        if amount < 0:
            credits[0] += 1
            credits[1] += amount
            continue
        if amount == 0:
            continue  # settled
        name = bucket((as_of - owed.first).days)
        totals[name] += amount
        counts[name] += 1
        payers.setdefault(owed.payer_id, dict.fromkeys(BUCKETS, ZERO))[name] += amount
        for account, value in owed.accounts.items():
            accounts[account] = accounts.get(account, ZERO) + value
        if owed.accounts.get(DENIED, ZERO) > 0:
            denied[claim_id] = owed.accounts[DENIED]
    return {
        "as_of": as_of.isoformat(),
        "aged_from": "submission date",
        "buckets": {name: {"amount": str(totals[name]), "claims": counts[name]}
                    for name in BUCKETS},
        "total": str(sum(totals.values(), ZERO)),
        "claims": sum(counts.values()),
        "by_payer": {payer: {**{name: str(v) for name, v in amounts.items()},
                             "total": str(sum(amounts.values(), ZERO))}
                     for payer, amounts in sorted(payers.items())},
        "by_account": {account: str(value) for account, value in sorted(accounts.items())},
        "credits": {"claims": credits[0], "amount": str(credits[1])},
        "denied_in_work": denied_by_reason(session, denied),
        "write_offs": write_offs_by_reason(session, tenants, as_of),
    }


@dataclass(slots=True)
class _Receivable:
    payer_id: str
    first: date  # the first entry on its receivables: the charge, at submission
    accounts: dict[str, Decimal] = field(default_factory=dict)


def denied_by_reason(session: Session, denied: dict[int, Decimal]) -> dict[str, Any]:
    """Each claim's denied balance in work (claim id -> amount) spread over the denial
    reasons posted on it (group-CARC, net of reversals) in proportion to what is left of
    each: a TIMELY_FILING write-off takes from the claim's CARC 29 denials first, other
    write-offs from the rest. Timely filing (CARC 29) is reported apart; the reasons'
    amounts add up to the total."""
    ids = sorted(denied)
    reasons: dict[int, dict[str, Decimal]] = {}
    timely_written: dict[int, Decimal] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for claim_id, group, code, amount in session.execute(
                select(Payment.claim_id, AdjustmentRow.group_code, AdjustmentRow.reason_code,
                       AdjustmentRow.amount)
                .join(Payment, Payment.id == AdjustmentRow.payment_id)
                .where(Payment.claim_id.in_(chunk), Payment.exception == "")):
            if classify(group, code) is AdjustmentClass.DENIAL:
                key = f"{group}-{code}"
                mine = reasons.setdefault(claim_id, {})
                mine[key] = mine.get(key, ZERO) + amount
        for claim_id, amount in session.execute(
                select(WriteOff.claim_id, func.sum(WriteOff.amount, type_=Money()))
                .where(WriteOff.claim_id.in_(chunk), WriteOff.account == DENIED,
                       WriteOff.reason == "TIMELY_FILING").group_by(WriteOff.claim_id)):
            timely_written[claim_id] = amount
    by_reason: dict[str, list] = {}
    for claim_id, balance in denied.items():
        weights = {k: v for k, v in reasons.get(claim_id, {}).items() if v > 0}
        written = timely_written.get(claim_id, ZERO)
        for key in sorted(k for k in weights if _timely(k)):
            taken = min(written, weights[key])
            weights[key] -= taken
            written -= taken
        weights = {k: v for k, v in weights.items() if v > 0}
        for key, share in _spread(balance, weights or {"unknown": Decimal(1)}).items():
            entry = by_reason.setdefault("timely" if _timely(key) else key, [set(), ZERO])
            entry[0].add(claim_id)
            entry[1] += share

    def row(claims: set[int], amount: Decimal) -> dict[str, Any]:
        return {"claims": len(claims), "amount": str(amount)}

    timely = by_reason.pop("timely", [set(), ZERO])
    return {"claims": len(denied), "amount": str(sum(denied.values(), ZERO)),
            "by_reason": {k: row(*v) for k, v in sorted(
                by_reason.items(), key=lambda item: (-item[1][1], item[0]))},
            "timely_filing": row(*timely)}


def _timely(key: str) -> bool:
    group, _, code = key.partition("-")
    return is_timely_filing(group, code)


def _spread(amount: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` split in proportion to ``weights``, in cents; the rounding remainder goes
    to the largest weight, so the parts add up to the amount."""
    total = sum(weights.values(), ZERO)
    parts = {k: (amount * w / total).quantize(CENT, ROUND_DOWN) for k, w in weights.items()}
    largest = max(weights, key=lambda k: (weights[k], k))
    parts[largest] += amount - sum(parts.values(), ZERO)
    return parts
