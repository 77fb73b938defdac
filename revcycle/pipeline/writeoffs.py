"""Write-offs: a balance leaves the books only when a biller says why and who approved it.

A denial stays receivable (``AR_DENIED``, "denied, in work") until someone works it: an
appeal or a corrected claim brings the payer's money, or a biller writes the balance off
here. A patient balance nobody will pay (``PATIENT_AR``) is written off the same way, and
so, rarely, is a balance still open with the payer (``AR``: a small balance not worth the
follow-up). Each write-off is a row of ``write_offs`` (reason code, note, approver, date)
and one double entry: ``WRITE_OFF`` debited, the receivable credited. Reports group them
by reason; timely filing (the vendor's own fault, most of the time) is a reason of its own
so clients can ask about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Money, WriteOff

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_NOTE = 200
# Where a write-off takes money from: the ``--from`` names and their ledger accounts.
SOURCES = {"denied": "AR_DENIED", "open": "AR", "patient": "PATIENT_AR"}
PAYER_SIDE = ("denied", "open")


@dataclass(frozen=True)
class Reason:
    description: str
    sources: tuple[str, ...]  # which balances it may write off (keys of SOURCES)


REASONS: dict[str, Reason] = {
    "TIMELY_FILING": Reason("filed after the payer's timely filing limit", PAYER_SIDE),
    "NON_COVERED": Reason("a service the plan does not cover and the patient does not owe",
                          PAYER_SIDE),
    "NO_AUTHORIZATION": Reason("no prior authorization or referral on file", PAYER_SIDE),
    "DUPLICATE": Reason("a duplicate of a claim already paid", PAYER_SIDE),
    "APPEAL_EXHAUSTED": Reason("every level of appeal was denied", PAYER_SIDE),
    "CONTRACT_TERMS": Reason("the contract allows no more than the payer paid", PAYER_SIDE),
    "SMALL_BALANCE": Reason("a balance smaller than what collecting it costs",
                            (*PAYER_SIDE, "patient")),
    "ADMINISTRATIVE": Reason("an adjustment the office approved for another reason",
                             (*PAYER_SIDE, "patient")),
    "BAD_DEBT": Reason("a patient balance given up after collection efforts", ("patient",)),
    "CHARITY": Reason("care given free under the practice's financial-hardship policy",
                      ("patient",)),
}


class WriteOffError(ValueError):
    """A write-off that cannot be made as asked (the message says why; no claim content)."""


def write_off(session: Session, claim_id: int, reason: str, note: str, by: str, *,
              source: str = "denied", amount: Decimal | str | None = None,
              on: date | None = None, tenant: str | None = None) -> dict[str, Any]:
    """Write off ``amount`` (default: all) of a claim's ``source`` balance for ``reason``,
    approved by ``by``, dated ``on`` (default today). With ``tenant``, only a claim of that
    tenant. Writes the row and its ledger entries; the caller commits."""
    reason = reason.strip().upper()
    if reason not in REASONS:
        raise WriteOffError(f"unknown reason {reason!r}: one of {', '.join(REASONS)}")
    if source not in SOURCES:
        raise WriteOffError(f"unknown balance {source!r}: one of {', '.join(SOURCES)}")
    if source not in REASONS[reason].sources:
        raise WriteOffError(f"reason {reason} does not write off a {source} balance (it"
                            f" writes off: {', '.join(REASONS[reason].sources)})")
    note, by = note.strip(), by.strip()
    if not note or len(note) > MAX_NOTE:
        raise WriteOffError(f"say why in a note of 1 to {MAX_NOTE} characters")
    if not by or len(by) > 60:
        raise WriteOffError("say who approved it, in 1 to 60 characters")
    claim = session.get(ClaimRow, claim_id)
    if claim is None or (tenant is not None and claim.tenant_id != tenant):
        raise WriteOffError(f"no claim {claim_id}")
    account = SOURCES[source]
    balance = session.scalar(select(func.sum(LedgerEntry.amount, type_=Money())).where(
        LedgerEntry.claim_id == claim_id, LedgerEntry.account == account)) or ZERO
    if balance <= 0:
        raise WriteOffError(f"claim {claim_id} has no {source} balance ({account}) to write"
                            " off")
    value = balance if amount is None else _amount(amount)
    if value > balance:
        raise WriteOffError(f"claim {claim_id}'s {source} balance is {balance}: write off at"
                            " most that")
    day = on or date.today()
    session.add(WriteOff(tenant_id=claim.tenant_id, claim_id=claim_id, account=account,
                         amount=value, reason=reason, note=note, approved_by=by,
                         entry_date=day, written_at=datetime.now()))
    memo = f"write-off {reason}"
    session.execute(insert(LedgerEntry), [
        {"tenant_id": claim.tenant_id, "claim_id": claim_id, "account": "WRITE_OFF",
         "amount": value, "entry_date": day, "memo": memo},
        {"tenant_id": claim.tenant_id, "claim_id": claim_id, "account": account,
         "amount": -value, "entry_date": day, "memo": memo}])
    if source in PAYER_SIDE:
        # Left the payer's receivables for good, as a contractual adjustment does: the
        # claim's A/R stays total charge - paid - adjusted - patient responsibility.
        claim.adjusted += value
    session.flush()
    return {"claim_id": claim_id, "account": account, "amount": str(value), "reason": reason,
            "approved_by": by, "entry_date": day.isoformat(),
            "balance_left": str(balance - value)}


def write_offs_by_reason(session: Session, tenants: Sequence[str] | None,
                         as_of: date) -> dict[str, Any]:
    """Write-offs dated up to ``as_of``, by reason: claims and amount, and the total."""
    query = (select(WriteOff.reason, func.count(func.distinct(WriteOff.claim_id)),
                    func.sum(WriteOff.amount, type_=Money()))
             .where(WriteOff.entry_date <= as_of).group_by(WriteOff.reason))
    if tenants is not None:
        query = query.where(WriteOff.tenant_id.in_(list(tenants)))
    by_reason = {reason: {"claims": claims, "amount": str(amount)}
                 for reason, claims, amount in session.execute(query.order_by(WriteOff.reason))}
    total = sum((Decimal(r["amount"]) for r in by_reason.values()), ZERO)
    return {"by_reason": by_reason, "total": str(total)}


def _amount(value: Decimal | str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise WriteOffError("the amount is not a number of dollars and cents") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise WriteOffError("the amount must be more than 0, in dollars and cents")
    return amount
