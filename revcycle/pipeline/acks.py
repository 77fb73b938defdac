"""Acknowledgments: 999s and 277CAs from a payer, applied to submissions and claims.

999: every acknowledged transaction set maps back to its submission by group and set
control numbers; a rejected set marks its claims PAYER_REJECTED with the IK3/IK4 detail.
277CA: claim by claim, matched by patient control number (TRN02) among the claims sent to
this payer: A0/A1/A2/A5 accept (keeping the payer's claim control number; A5 says the
payer split the claim, its parts paid apart), P0-P5 (pending, in process) only inform and
leave the claim as it is, anything else rejects, and the reason becomes an edit a biller
can act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.db.bulk import update_rows
from revcycle.db.models import Acknowledgment, Batch, Edit, File, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.acknowledgment import ClaimAckReport, FunctionalAck, TransactionSetAck
from revcycle.pipeline.batches import batch_of, move
from revcycle.pipeline.inbound import apply_new_files
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.sending import record_sent
from revcycle.status import Status
from revcycle.x12.ack277 import parse_277
from revcycle.x12.ack999 import parse_999
from revcycle.x12.envelope import X12Document

STAGE = "acks"
# A0 forwarded, A1 received, A2 accepted into adjudication, A5 acknowledged (split claim).
ACCEPTING_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
# P0-P5: pending (adjudication or payment in process, waiting for information...): a
# status report, not a verdict; the claim keeps the status it had.
PENDING_CATEGORIES = frozenset({"P0", "P1", "P2", "P3", "P4", "P5"})


def apply_acknowledgments(res: Resources, batch_id: str, payer_id: str) -> dict[str, Any]:
    result = {"batch": batch_id, "payer": payer_id, "files": 0, "quarantined": 0,
              "sets_rejected": 0, "accepted": 0, "rejected": 0, "pending": 0, "unmatched": 0}
    with res.sessions() as session:
        batch = batch_of(session, batch_id)

    def apply_999(session: Session, file: File, document: X12Document) -> None:
        for ack in document.bodies(FunctionalAck):
            result["sets_rejected"] += _apply_999(session, file.id, batch.tenant_id, payer_id,
                                                  ack)

    def apply_277(session: Session, file: File, document: X12Document) -> None:
        for report in document.bodies(ClaimAckReport):
            counts = _apply_277(session, file.id, batch.tenant_id, payer_id, report)
            for name, value in counts.items():
                result[name] += value

    for kind, parsers, apply in (("999", {"999": parse_999}, apply_999),
                                 ("277CA", {"277": parse_277}, apply_277)):
        files, quarantined = apply_new_files(res, batch, payer_id, kind, parsers, apply)
        result["files"] += files
        result["quarantined"] += quarantined
    return result


def _apply_999(session: Session, file_id: int, tenant: str, payer_id: str,
               ack: FunctionalAck) -> int:
    # The tenant's own submissions only: a 999 in one tenant's inbound zone never answers
    # another's, whatever group control number it names.
    submission = session.scalar(select(Submission).where(
        Submission.tenant_id == tenant, Submission.payer_id == payer_id,
        Submission.group_control_number == ack.group_control_number.lstrip("0")))
    if submission is not None and submission.status in ("PENDING", "SENDING"):
        # The payer's 999 proves the file arrived, though its sender never marked it (it
        # died after the send, or lost the answer): mark it here, so that the answers
        # apply to its claims and no run takes it over to send it again.
        batch = session.get_one(Batch, submission.batch_id)
        record_sent(session, [submission.id], submission.tenant_id, batch.business_date)
        submission.sent_at = datetime.now()
    rejected_sets = 0
    for set_ack in ack.set_acks:
        if submission is None:
            continue
        claim_ids = submission.transaction_control_numbers.get(set_ack.control_number, [])
        if set_ack.accepted:
            continue
        rejected_sets += 1
        moved = list(session.scalars(select(ClaimRow.id).where(
            ClaimRow.id.in_(claim_ids), ClaimRow.status == Status.SUBMITTED)))
        move(session, moved, Status.SUBMITTED, Status.PAYER_REJECTED, STAGE)
        _set_rejection_edits(session, moved, set_ack)
    if submission is not None:
        submission.status = "REJECTED" if ack.status == "R" else "ACKNOWLEDGED"
    session.add(Acknowledgment(file_id=file_id, submission_id=submission and submission.id,
                               kind="999", status=ack.status or "",
                               accepted=ack.sets_accepted,
                               rejected=ack.sets_received - ack.sets_accepted))
    return rejected_sets


def _set_rejection_edits(session: Session, claim_ids: list[int],
                         set_ack: TransactionSetAck) -> None:
    details = [f"segment {e.segment_id} at position {e.segment_position}"
               f"{f' in loop {e.loop_id}' if e.loop_id else ''} (error {e.error_code}"
               + "".join(f"; element {x.element_position} error {x.error_code}"
                         for x in e.element_errors) + ")"
               for e in set_ack.segment_errors]
    message = ("the payer rejected the whole file's transaction set: "
               + ("; ".join(details) or f"IK5 codes {' '.join(set_ack.error_codes)}"))
    if claim_ids:
        session.execute(insert(Edit), [
            {"claim_id": cid, "stage": STAGE, "rule_id": f"999-{set_ack.status}",
             "severity": "ERROR", "message": message, "field": "999 IK3/IK4"}
            for cid in claim_ids])


def _apply_277(session: Session, file_id: int, tenant: str, payer_id: str,
               report: ClaimAckReport) -> dict[str, int]:
    counts = {"accepted": 0, "rejected": 0, "pending": 0, "unmatched": 0}
    pcns = [c.patient_control_number for c in report.claims]
    claim_ids = {number: claim_id for claim_id, number in session.execute(
        select(ClaimRow.id, ClaimRow.patient_control_number).where(
            ClaimRow.tenant_id == tenant, ClaimRow.payer_id == payer_id,
            ClaimRow.patient_control_number.in_(pcns),
            # ACCEPTED too: a payer may reject, days later, a claim it first answered A1
            # ("received").
            ClaimRow.status.in_((Status.SUBMITTED, Status.ACCEPTED))))}
    accepted: list[int] = []
    payer_numbers: list[tuple[int, str]] = []
    rejected: list[int] = []
    edits: list[dict[str, Any]] = []
    for status in report.claims:
        claim_id = claim_ids.get(status.patient_control_number)
        if claim_id is None:
            counts["unmatched"] += 1
            continue
        if status.categories and set(status.categories) <= PENDING_CATEGORIES:
            counts["pending"] += 1
            continue
        if set(status.categories) <= ACCEPTING_CATEGORIES | PENDING_CATEGORIES:
            accepted.append(claim_id)
            if status.payer_claim_control_number:
                payer_numbers.append((claim_id, status.payer_claim_control_number))
        else:
            rejected.append(claim_id)
            for info in status.statuses:
                edits.append({
                    "claim_id": claim_id, "stage": STAGE,
                    "rule_id": f"277CA-{info.category_code}:{info.status_code}",
                    "severity": "ERROR",
                    "message": f"payer rejected the claim: claim status category"
                               f" {info.category_code}, status code {info.status_code}"
                               + (f", entity {info.entity_code}" if info.entity_code else ""),
                    "field": "277CA STC01"})
    update_rows(session, ClaimRow.__table__, payer_numbers, ("payer_claim_control_number",))
    accepted = move(session, accepted, Status.SUBMITTED, Status.ACCEPTED, STAGE)
    rejected = (move(session, rejected, Status.SUBMITTED, Status.PAYER_REJECTED, STAGE)
                + move(session, rejected, Status.ACCEPTED, Status.PAYER_REJECTED, STAGE))
    moved = set(rejected)
    edits = [edit for edit in edits if edit["claim_id"] in moved]
    if edits:
        session.execute(insert(Edit), edits)
    counts["accepted"], counts["rejected"] = len(accepted), len(rejected)
    session.add(Acknowledgment(file_id=file_id, kind="277CA", status="",
                               accepted=len(accepted), rejected=len(rejected)))
    return counts
