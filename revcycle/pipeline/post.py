"""Posting: 835 remittances applied to claims, adjustments and the ledger.

Before anything is posted the remittance must balance at line, claim and transaction
level; an unbalanced one is held with its reasons. The same 835 (payer + TRN02) posts
once. A CLP is matched to a claim by patient control number, never by position, and its
SVCs to service lines by REF*6R. A CLP that matches nothing, or a claim paid twice, goes
to the exception queue (the payment row keeps the reason) instead of being posted.

The ledger is double entry. Submission books the charge (A/R debit, revenue credit);
posting moves A/R to cash, contractual and other adjustments, and patient
responsibility, so for every claim: billed = paid + adjustments + patient responsibility
+ open A/R.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.db.models import Adjustment, Batch, LedgerEntry, Payment, ServiceLine
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Remittance as RemittanceRow
from revcycle.model.remittance import ClaimPayment, Remittance, balance_problems
from revcycle.pipeline.batches import move
from revcycle.pipeline.inbound import new_inbound_files
from revcycle.pipeline.resources import Resources
from revcycle.status import ADJUDICATED, Status
from revcycle.x12.remit835 import parse_835

STAGE = "post"
ZERO = Decimal(0)
OPEN = (Status.SUBMITTED, Status.ACCEPTED)
# Which ledger account each adjustment group moves A/R to.
ACCOUNTS = {"CO": "CONTRACTUAL", "PR": "PATIENT_AR", "OA": "OTHER_ADJUSTMENT",
            "PI": "OTHER_ADJUSTMENT", "CR": "OTHER_ADJUSTMENT"}


def book_charges(session: Session, tenant: str, claim_ids: list[int], on: date) -> None:
    """Submission: each claim's charge goes on the books (A/R debit, revenue credit)."""
    rows = session.execute(select(ClaimRow.id, ClaimRow.total_charge).where(
        ClaimRow.id.in_(claim_ids))).all()
    entries = []
    for claim_id, charge in rows:
        entries += [
            {"tenant_id": tenant, "claim_id": claim_id, "account": "AR", "amount": charge,
             "entry_date": on, "memo": "charge"},
            {"tenant_id": tenant, "claim_id": claim_id, "account": "REVENUE",
             "amount": -charge, "entry_date": on, "memo": "charge"}]
    if entries:
        session.execute(insert(LedgerEntry), entries)


def post_remittances(res: Resources, batch_id: str, payer_id: str) -> dict[str, Any]:
    result = {"batch": batch_id, "payer": payer_id, "remittances": 0, "quarantined": 0,
              "held": 0,
              "duplicates": 0, "claims_posted": 0, "exceptions": 0, "paid": "0",
              "reversals": 0}
    paid = ZERO
    with res.sessions() as session:
        batch = session.get(Batch, batch_id)
    for inbound in new_inbound_files(res, batch, payer_id, "835"):
        document = inbound.read(res, batch, {"835": parse_835})
        if document is None:
            result["quarantined"] += 1
            continue
        with res.sessions() as session:
            file = inbound.record(session, batch)
            for remittance in document.bodies(Remittance):
                outcome = _post(session, file.id, batch, payer_id, remittance)
                for name in ("held", "duplicates", "claims_posted", "exceptions",
                             "reversals"):
                    result[name] += outcome.get(name, 0)
                result["remittances"] += 1
                paid += outcome.get("paid", ZERO)
            session.commit()
    result["paid"] = str(paid)
    return result


def _post(session: Session, file_id: int, batch: Batch, payer_id: str,
          remittance: Remittance) -> dict[str, Any]:
    trace = remittance.trace_number
    if session.scalar(select(RemittanceRow.id).where(
            RemittanceRow.payer_id == payer_id, RemittanceRow.trace_number == trace,
            RemittanceRow.status == "POSTED")) is not None:
        return {"duplicates": 1}
    problems = balance_problems(remittance)
    row = RemittanceRow(tenant_id=batch.tenant_id, payer_id=payer_id, file_id=file_id,
                        trace_number=trace, payment_date=remittance.payment_date,
                        total_paid=remittance.total_paid,
                        status="HELD" if problems else "POSTED",
                        reason={"unbalanced": problems} if problems else None)
    session.add(row)
    session.flush()
    if problems:
        return {"held": 1}
    on = remittance.payment_date or batch.business_date
    outcome: dict[str, Any] = defaultdict(int)
    for index, payment in enumerate(remittance.claims):
        _post_claim(session, row, batch.tenant_id, payer_id, index, payment, on, outcome)
    for plb in remittance.provider_adjustments:
        # Provider-level: a positive amount was withheld from the payment.
        session.execute(insert(LedgerEntry), [
            {"tenant_id": batch.tenant_id, "remittance_id": row.id, "account": "CASH",
             "amount": -plb.amount, "entry_date": on, "memo": f"PLB {plb.reason_code}"},
            {"tenant_id": batch.tenant_id, "remittance_id": row.id,
             "account": "PROVIDER_ADJUSTMENT", "amount": plb.amount, "entry_date": on,
             "memo": f"PLB {plb.reason_code}"}])
    outcome["paid"] = remittance.total_paid
    return outcome


def _post_claim(session: Session, remittance: RemittanceRow, tenant: str, payer_id: str,
                index: int, payment: ClaimPayment, on: date,
                outcome: dict[str, Any]) -> None:
    claim = session.scalar(
        select(ClaimRow).where(ClaimRow.tenant_id == tenant, ClaimRow.payer_id == payer_id,
                               ClaimRow.patient_control_number
                               == payment.patient_control_number)
        .order_by(ClaimRow.id.desc()).limit(1))
    exception = ""
    if claim is None:
        exception = "no claim with this patient control number was sent to this payer"
    elif payment.is_reversal and claim.status not in ADJUDICATED:
        exception = "a reversal for a claim that was not paid"
    elif not payment.is_reversal and claim.status in ADJUDICATED:
        exception = "the claim was paid already: a second payment is not posted"
    elif not payment.is_reversal and claim.status not in (*OPEN, Status.REVERSED):
        # Never sent, or rejected: the status machine has no way to paid from there.
        exception = f"a payment for a claim in status {claim.status}, which awaits none"
    record = Payment(remittance_id=remittance.id, claim_id=claim.id if claim else None,
                     clp_index=index, claim_status_code=payment.status_code,
                     charge=payment.charge, paid=payment.paid,
                     patient_responsibility=payment.patient_responsibility or ZERO,
                     payer_claim_control_number=payment.payer_claim_control_number,
                     exception=exception)
    session.add(record)
    session.flush()
    if exception:
        outcome["exceptions"] += 1
        return
    lines = {line.line_control_number: line for line in session.scalars(
        select(ServiceLine).where(ServiceLine.claim_id == claim.id))}
    adjustments = [(None, a) for a in payment.adjustments]
    for service in payment.service_payments:
        line = lines.get(service.line_control_number)
        if line is not None:
            line.paid += service.paid
        adjustments += [(line.line_number if line else None, a) for a in service.adjustments]
    if adjustments:
        session.execute(insert(Adjustment), [
            {"payment_id": record.id, "line_number": number, "group_code": a.group_code,
             "reason_code": a.reason_code, "amount": a.amount} for number, a in adjustments])
    totals: dict[str, Decimal] = defaultdict(Decimal)
    totals["CASH"] = payment.paid
    for _, a in adjustments:
        totals[ACCOUNTS.get(a.group_code, "OTHER_ADJUSTMENT")] += a.amount
    entries = []
    for account, amount in totals.items():
        if amount:
            entries += [
                {"tenant_id": tenant, "claim_id": claim.id, "remittance_id": remittance.id,
                 "account": account, "amount": amount, "entry_date": on, "memo": STAGE},
                {"tenant_id": tenant, "claim_id": claim.id, "remittance_id": remittance.id,
                 "account": "AR", "amount": -amount, "entry_date": on, "memo": STAGE}]
    session.execute(insert(LedgerEntry), entries)
    patient = totals["PATIENT_AR"]
    claim.paid += payment.paid
    claim.patient_responsibility += patient
    claim.adjusted += sum((v for k, v in totals.items() if k not in ("CASH", "PATIENT_AR")),
                          ZERO)
    if payment.payer_claim_control_number:
        claim.payer_claim_control_number = payment.payer_claim_control_number
    target = _outcome(payment, adjustments)
    move(session, [claim.id], Status(claim.status), target, STAGE)
    outcome["claims_posted"] += 1
    if target is Status.REVERSED:
        outcome["reversals"] += 1


def _outcome(payment: ClaimPayment, adjustments: list) -> Status:
    """Denied, paid or partly paid. Zero paid is not always a denial: a claim that went
    to the deductible was adjudicated and is the patient's to pay."""
    if payment.is_reversal:
        return Status.REVERSED
    patient = sum((a.amount for _, a in adjustments if a.group_code == "PR"), ZERO)
    if payment.is_denial or (payment.paid == ZERO and patient == ZERO):
        return Status.DENIED
    denied_part = any(a.group_code != "PR" and not (a.group_code == "CO" and a.reason_code
                                                    == "45") for _, a in adjustments)
    return Status.PARTIALLY_PAID if denied_part else Status.PAID
