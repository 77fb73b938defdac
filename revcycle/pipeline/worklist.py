"""What needs a person, from a day's batches: counts and dollars of each work queue.

- posting exceptions still open, and 835s held because they do not balance (the batches'
  payer files);
- claims stopped before the payer: REJECTED at scrub by edit, DQ_FAILED by expectation;
- claims the payer's front end rejected (PAYER_REJECTED), by 999/277CA reason;
- denials in work: claims now DENIED or PARTIALLY_PAID with a denial reason.

A claim's dollars are its billed charge, counted once per rule that flags it. Rule ids,
the rules' own messages (never a value of the claim), counts and amounts only. The
queue commands (``revcycle queue ...``) list the items themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Edit, File, Money, Payment, Remittance
from revcycle.pipeline.acks import STAGE as ACKS
from revcycle.pipeline.post import STAGE as POSTING
from revcycle.status import Status

ZERO = Decimal("0.00")
# The STAGE of revcycle.pipeline.quality and .scrub (not imported: Great Expectations and
# the rule catalog are heavy, and a report needs neither).
QUALITY, SCRUB = "quality", "scrub"


def needs_a_person(session: Session, batches: Sequence[str]) -> dict[str, Any]:
    """The batches' open work, queue by queue."""
    batches = list(batches)
    rejected = by_rule(session, batches, Status.REJECTED, SCRUB)
    dq_failed = by_rule(session, batches, Status.DQ_FAILED, QUALITY)
    payer_rejected = by_rule(session, batches, Status.PAYER_REJECTED, ACKS)
    denied = (ClaimRow.batch_id.in_(batches),
              ClaimRow.status.in_((Status.DENIED, Status.PARTIALLY_PAID)),
              exists().where(Edit.claim_id == ClaimRow.id, Edit.stage == POSTING))
    denials, denied_billed = session.execute(
        select(func.count(), func.sum(ClaimRow.total_charge, type_=Money())).where(*denied)
    ).one()
    return {
        "open_exceptions": _open_exceptions(session, batches),
        "held_remittances": _held(session, batches),
        "rejected_by_edit": rejected,
        "dq_failed_by_expectation": dq_failed,
        "payer_rejected": {**_claims(session, batches, Status.PAYER_REJECTED),
                           "by_reason": payer_rejected},
        "denials_in_work": {"claims": denials, "billed": str(denied_billed or ZERO)},
    }


def by_rule(session: Session, batches: Sequence[str], status: Status,
            stage: str) -> list[dict[str, Any]]:
    """The batches' claims now in ``status``, by the ERROR edits ``stage`` gave them: rule
    id, the rule's message, claims and their billed dollars; most claims first."""
    flagged = (select(Edit.rule_id, Edit.claim_id, func.min(Edit.message).label("message"))
               .join(ClaimRow, ClaimRow.id == Edit.claim_id)
               .where(ClaimRow.batch_id.in_(list(batches)), ClaimRow.status == status,
                      Edit.stage == stage, Edit.severity == "ERROR")
               .group_by(Edit.rule_id, Edit.claim_id).subquery())
    claims = func.count()
    rows = session.execute(
        select(flagged.c.rule_id, func.min(flagged.c.message), claims,
               func.sum(ClaimRow.total_charge, type_=Money()))
        .join(ClaimRow, ClaimRow.id == flagged.c.claim_id)
        .group_by(flagged.c.rule_id).order_by(claims.desc(), flagged.c.rule_id))
    return [{"rule": rule, "message": message, "claims": count,
             "billed": str(billed or ZERO)} for rule, message, count, billed in rows]


def _claims(session: Session, batches: list[str], status: Status) -> dict[str, Any]:
    count, billed = session.execute(
        select(func.count(), func.sum(ClaimRow.total_charge, type_=Money()))
        .where(ClaimRow.batch_id.in_(batches), ClaimRow.status == status)).one()
    return {"claims": count, "billed": str(billed or ZERO)}


def _open_exceptions(session: Session, batches: list[str]) -> dict[str, Any]:
    """Claim payments of the batches' 835s posting left for a human and nobody has
    worked yet, and the cash they carry."""
    count, amount = session.execute(
        select(func.count(), func.sum(Payment.paid, type_=Money()))
        .join(Remittance, Remittance.id == Payment.remittance_id)
        .join(File, File.id == Remittance.file_id)
        .where(File.batch_id.in_(batches), Payment.exception != "",
               Payment.resolved_at.is_(None))).one()
    return {"count": count, "amount": str(amount or ZERO)}


def _held(session: Session, batches: list[str]) -> dict[str, Any]:
    """The batches' unbalanced 835s no corrected one (same payer and trace) has replaced,
    and what they would pay (BPR02)."""
    posted = aliased(Remittance)
    replaced = exists().where(and_(posted.tenant_id == Remittance.tenant_id,
                                   posted.payer_id == Remittance.payer_id,
                                   posted.trace_number == Remittance.trace_number,
                                   posted.status == "POSTED"))
    count, amount = session.execute(
        select(func.count(), func.sum(Remittance.total_paid, type_=Money()))
        .join(File, File.id == Remittance.file_id)
        .where(File.batch_id.in_(batches), Remittance.status == "HELD", ~replaced)).one()
    return {"count": count, "amount": str(amount or ZERO)}
