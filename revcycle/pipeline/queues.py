"""The work queues posting leaves for a biller, and closing an exception once worked.

- **exceptions**: 835 claim payments posting would not apply (a claim we never sent, a
  second payment, a reversal of a payment never posted), with the reason and where the CLP
  is (the inbound file's key and its segment number); open ones unless asked for all.
- **held**: remittances that did not balance, with the balance problems, until the payer's
  corrected 835 under the same trace number posts.
- **denials**: claims now DENIED or PARTIALLY_PAID, one row per denial reason (CARC, with
  the CARC and RARC descriptions).

An exception is closed with what was done about it (:func:`resolve_exception`), or by
posting its CLP to the claim the biller matched it to (:func:`post_by_hand`).

Rows carry our own ids (payment, remittance, claim), the payer, the trace number (the
check or EFT number), amounts, reasons and file keys: no patient data of ours, so a queue
can be printed, exported or handed to another system. (A resolution note is the biller's
own words, shown back as typed.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session, aliased

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Edit, Payment, Remittance
from revcycle.model.remittance import Remittance as RemittanceModel
from revcycle.pipeline.post import STAGE as POSTING
from revcycle.pipeline.post import post_matched
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from revcycle.storage import ObjectNotFound
from revcycle.x12.reader import read

MAX_RESOLUTION = 200  # characters, the column's width


class QueueError(ValueError):
    """A queue action that cannot be taken (no such exception, already resolved, ...)."""


def _scoped(query: Select, tenant: str | None, payer: str | None) -> Select:
    if tenant is not None:
        query = query.where(Remittance.tenant_id == tenant)
    if payer is not None:
        query = query.where(Remittance.payer_id == payer)
    return query


def exceptions(session: Session, *, tenant: str | None = None, payer: str | None = None,
               include_resolved: bool = False) -> list[dict[str, Any]]:
    """Payments posting left for a human, oldest first."""
    query = _scoped(select(Payment, Remittance).join(Remittance)
                    .where(Payment.exception != ""), tenant, payer)
    if not include_resolved:
        query = query.where(Payment.resolved_at.is_(None))
    return [{
        "payment_id": payment.id, "tenant": remittance.tenant_id,
        "payer": remittance.payer_id, "trace_number": remittance.trace_number,
        "payment_date": _day(remittance.payment_date), "claim_id": payment.claim_id,
        "claim_status_code": payment.claim_status_code, "paid": str(payment.paid),
        "reason": payment.exception, "file": payment.source_key,
        "segment_number": payment.segment_number,
        "resolved_at": payment.resolved_at.isoformat() if payment.resolved_at else None,
        "resolved_by": payment.resolved_by, "resolution": payment.resolution,
    } for payment, remittance in session.execute(query.order_by(Payment.id))]


def held(session: Session, *, tenant: str | None = None,
         payer: str | None = None) -> list[dict[str, Any]]:
    """Unbalanced remittances no corrected 835 (same payer and trace number) has replaced."""
    posted = aliased(Remittance)
    replaced = exists().where(and_(posted.tenant_id == Remittance.tenant_id,
                                   posted.payer_id == Remittance.payer_id,
                                   posted.trace_number == Remittance.trace_number,
                                   posted.status == "POSTED"))
    query = _scoped(select(Remittance).where(Remittance.status == "HELD", ~replaced),
                    tenant, payer)
    return [{
        "remittance_id": r.id, "tenant": r.tenant_id, "payer": r.payer_id,
        "trace_number": r.trace_number, "payment_date": _day(r.payment_date),
        "total_paid": str(r.total_paid),
        "problems": list((r.reason or {}).get("unbalanced", [])),
    } for r in session.scalars(query.order_by(Remittance.id))]


def denials(session: Session, *, tenant: str | None = None,
            payer: str | None = None) -> list[dict[str, Any]]:
    """Each denial reason of each claim that is now denied, in whole or in part."""
    query = (select(Edit, ClaimRow).join(ClaimRow, ClaimRow.id == Edit.claim_id)
             .where(Edit.stage == POSTING,
                    ClaimRow.status.in_((Status.DENIED, Status.PARTIALLY_PAID))))
    if tenant is not None:
        query = query.where(ClaimRow.tenant_id == tenant)
    if payer is not None:
        query = query.where(ClaimRow.payer_id == payer)
    return [{
        "claim_id": claim.id, "tenant": claim.tenant_id, "payer": claim.payer_id,
        "status": claim.status, "billed": str(claim.total_charge), "paid": str(claim.paid),
        "line_number": edit.line_number, "reason_code": edit.rule_id.removeprefix("CARC-"),
        "reason": edit.message,
    } for edit, claim in session.execute(query.order_by(ClaimRow.id, Edit.id))]


def resolve_exception(session: Session, payment_id: int, resolution: str, by: str,
                      at: datetime | None = None, *, tenant: str | None = None
                      ) -> dict[str, Any]:
    """Close an open exception with what was done about it (the caller commits). With
    ``tenant``, only an exception of that tenant: another's is not in its queue."""
    resolution, by = resolution.strip(), _biller(by)
    if not resolution or len(resolution) > MAX_RESOLUTION:
        raise QueueError(f"say what was done, in 1 to {MAX_RESOLUTION} characters")
    payment = _open_exception(session, payment_id, tenant)
    payment.resolved_at = at or datetime.now()
    payment.resolved_by, payment.resolution = by, resolution
    session.flush()
    return {"payment_id": payment.id, "resolved_at": payment.resolved_at.isoformat(),
            "resolved_by": by, "resolution": resolution}


def post_by_hand(res: Resources, payment_id: int, claim_id: int, by: str,
                 on: date | None = None, *, tenant: str | None = None) -> dict[str, Any]:
    """Post an open exception's CLP to the claim a biller matched it to (a payer that
    changed the patient control number, say), dated ``on`` (default today), and close the
    exception saying so. The CLP is read again from the 835 it came in, so what is posted
    is what the payer sent. Raises :class:`QueueError` with posting's reason when the
    claim cannot take it; nothing is written then. With ``tenant``, only an exception of
    that tenant (and, as always, to a claim of the exception's own tenant)."""
    by = _biller(by)
    with res.sessions() as session:
        payment = _open_exception(session, payment_id, tenant)
        remittance = session.get_one(Remittance, payment.remittance_id)
        try:
            document = read(res.store.get(payment.source_key))
        except ObjectNotFound:
            raise QueueError(f"the 835 of payment {payment_id} is no longer at"
                             f" {payment.source_key}") from None
        clp = next((c for r in document.bodies(RemittanceModel)
                    if r.trace_number == remittance.trace_number for c in r.claims
                    if c.segment_number == payment.segment_number), None)
        if clp is None:
            raise QueueError(f"the 835 at {payment.source_key} has no CLP at segment"
                             f" {payment.segment_number}")
        why = post_matched(session, remittance, payment.source_key, clp, payment.clp_index,
                           claim_id, on or date.today(), by, res.store)
        if why:
            raise QueueError(f"payment {payment_id} cannot be posted to claim {claim_id}: {why}")
        done = resolve_exception(session, payment_id, f"posted by hand to claim {claim_id}",
                                 by, tenant=tenant)
        session.commit()
    return {**done, "claim_id": claim_id}


def _biller(by: str) -> str:
    """Who worked an exception, checked to fit its column."""
    by = by.strip()
    if not by or len(by) > 60:
        raise QueueError("say who worked it, in 1 to 60 characters")
    return by


def _open_exception(session: Session, payment_id: int, tenant: str | None) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is not None and tenant is not None and session.scalar(
            select(Remittance.tenant_id).where(Remittance.id == payment.remittance_id)
    ) != tenant:
        payment = None  # another tenant's: not in this one's queue, nor said to exist
    if payment is None or not payment.exception:
        raise QueueError(f"payment {payment_id} is not in the exception queue")
    if payment.resolved_at is not None:
        raise QueueError(f"payment {payment_id} was resolved on"
                         f" {payment.resolved_at:%Y-%m-%d} by {payment.resolved_by}")
    return payment


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
