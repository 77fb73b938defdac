"""Acknowledgments: 999s and 277CAs from a payer, applied to submissions and claims.

999: every acknowledged transaction set maps back to its submission by group and set
control numbers; a rejected set marks its claims PAYER_REJECTED with the IK3/IK4 detail
(codes and what they mean, never the bad data IK404 copies). A group the 999 rejects as a
whole (AK9 R, with or without AK2 loops) rejects every claim of the submission AK1-02
names.
277CA: claim by claim, matched by patient control number (TRN02) among the claims sent to
this payer: A0/A1/A2/A5 accept (keeping the payer's claim control number; A5 says the
payer split the claim, its parts paid apart), P0-P5 (pending, in process) only inform and
leave the claim as it is, anything else rejects, and the reason becomes an edit a biller
can act on, saying what its codes mean. A rejection at the information receiver level
(2200B) rejects every claim of the report, one at a billing provider level (2200C) every
claim under that provider.

A claim the payer rejects was never taken in: its charge comes off the books in the same
transaction (:func:`revcycle.pipeline.charges.unbook_rejected`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.codesets.ack999_errors import describe_element_error, describe_segment_error
from revcycle.codesets.claim_status import (
    describe_claim_status,
    describe_claim_status_category,
)
from revcycle.db.bulk import update_rows
from revcycle.db.models import Acknowledgment, Batch, Edit, File, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.acknowledgment import (
    ClaimAckReport,
    FunctionalAck,
    StatusInfo,
    TransactionSetAck,
)
from revcycle.pipeline.batches import batch_of, move
from revcycle.pipeline.charges import unbook_rejected
from revcycle.pipeline.inbound import apply_new_files
from revcycle.pipeline.matching import RESUBMISSIONS
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
                                                  ack, batch.business_date)

    def apply_277(session: Session, file: File, document: X12Document) -> None:
        for report in document.bodies(ClaimAckReport):
            counts = _apply_277(session, file.id, batch.tenant_id, payer_id, report,
                                batch.business_date)
            for name, value in counts.items():
                result[name] += value

    for kind, parsers, apply in (("999", {"999": parse_999}, apply_999),
                                 ("277CA", {"277": parse_277}, apply_277)):
        files, quarantined = apply_new_files(res, batch, payer_id, kind, parsers, apply)
        result["files"] += files
        result["quarantined"] += quarantined
    return result


def _apply_999(session: Session, file_id: int, tenant: str, payer_id: str,
               ack: FunctionalAck, on: date) -> int:
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
    if submission is not None:
        sets = submission.transaction_control_numbers
        # The sets rejected, with their verdict; None for a set the group's rejection
        # covers (AK9 R refuses the whole group, and may come with no AK2 at all).
        rejected: dict[str, TransactionSetAck | None] = {
            a.control_number: a for a in ack.set_acks if not a.accepted}
        if ack.status == "R":
            for number in sets:
                rejected.setdefault(number, None)
        rejected_sets = len(rejected)
        for number, set_ack in rejected.items():
            moved = move(session, sets.get(number, []), Status.SUBMITTED,
                         Status.PAYER_REJECTED, STAGE)
            _set_rejection_edits(session, moved, ack, set_ack)
            unbook_rejected(session, tenant, moved, on)
    if submission is not None:
        submission.status = "REJECTED" if ack.status == "R" else "ACKNOWLEDGED"
    session.add(Acknowledgment(file_id=file_id, submission_id=submission and submission.id,
                               kind="999", status=ack.status or "",
                               accepted=ack.sets_accepted,
                               rejected=ack.sets_received - ack.sets_accepted))
    return rejected_sets


def _999_message(ack: FunctionalAck, set_ack: TransactionSetAck | None) -> str:
    """Why a 999 rejected a set, or the whole group: the IK3/IK4 positions and codes with
    what each code means, or the IK5/AK9 codes. Never IK404 (the bad data) or a CTX value."""
    if set_ack is None:
        codes = " ".join(ack.error_codes)
        return ("the payer rejected the whole functional group (every transaction set in"
                " it): " + (f"AK9 codes {codes}" if codes else "no reason given"))
    details = [f"segment {e.segment_id} at position {e.segment_position}"
               f"{f' in loop {e.loop_id}' if e.loop_id else ''} (error {e.error_code}"
               + "".join(f"; element {x.element_position} error {x.error_code}"
                         for x in e.element_errors) + ")"
               for e in set_ack.segment_errors]
    message = ("the payer rejected the whole file's transaction set: "
               + ("; ".join(details) or f"IK5 codes {' '.join(set_ack.error_codes)}"))
    segment_codes = dict.fromkeys(e.error_code for e in set_ack.segment_errors if e.error_code)
    element_codes = dict.fromkeys(x.error_code for e in set_ack.segment_errors
                                  for x in e.element_errors if x.error_code)
    meanings = ([f"Segment error {code}: {describe_segment_error(code)}"
                 for code in segment_codes]
                + [f"Element error {code}: {describe_element_error(code)}"
                   for code in element_codes])
    return ". ".join([message, *(m.rstrip(".") for m in meanings)]) + (
        "." if meanings else "")


def _set_rejection_edits(session: Session, claim_ids: list[int], ack: FunctionalAck,
                         set_ack: TransactionSetAck | None) -> None:
    if not claim_ids:
        return
    message = _999_message(ack, set_ack)
    status, where = (ack.status, "999 AK9") if set_ack is None else (
        set_ack.status, "999 IK3/IK4")
    session.execute(insert(Edit), [
        {"claim_id": cid, "stage": STAGE, "rule_id": f"999-{status}",
         "severity": "ERROR", "message": message, "field": where}
        for cid in claim_ids])


def _rejects(statuses: list[StatusInfo]) -> bool:
    """A level's statuses reject when one of them neither accepts nor is pending."""
    return any(s.category_code not in ACCEPTING_CATEGORIES | PENDING_CATEGORIES
               for s in statuses)


def _describe(info: StatusInfo) -> str:
    """A status composite in words: its codes and what they mean, never a value."""
    text = (f"{info.category_code} ({describe_claim_status_category(info.category_code)})")
    if info.status_code:
        text += f", status {info.status_code} ({describe_claim_status(info.status_code)})"
    if info.entity_code:
        text += f", entity {info.entity_code}"
    return text


# Who a rejection at each level covers, and the edit's field for it.
_LEVELS = {"claim": ("payer rejected the claim", "277CA STC01"),
           "provider": ("payer rejected every claim of this billing provider (2200C)",
                        "277CA 2200C STC01"),
           "receiver": ("payer rejected every claim of the report (information receiver,"
                        " 2200B)", "277CA 2200B STC01")}


def _rejection_edits(claim_id: int, level: str,
                     statuses: list[StatusInfo]) -> list[dict[str, Any]]:
    """One edit per status composite of a rejecting level; at the receiver and provider
    levels only the composites that reject (an A1 beside them is no reason)."""
    what, field = _LEVELS[level]
    if level != "claim":
        statuses = [s for s in statuses if _rejects([s])]
    return [{"claim_id": claim_id, "stage": STAGE,
             "rule_id": f"277CA-{info.category_code}:{info.status_code}",
             "severity": "ERROR", "message": f"{what}: {_describe(info)}", "field": field}
            for info in statuses]


def _apply_277(session: Session, file_id: int, tenant: str, payer_id: str,
               report: ClaimAckReport, on: date) -> dict[str, int]:
    counts = {"accepted": 0, "rejected": 0, "pending": 0, "unmatched": 0}
    pcns = [c.patient_control_number for c in report.claims]
    claim_ids = {number: claim_id for claim_id, number in session.execute(
        select(ClaimRow.id, ClaimRow.patient_control_number).where(
            ClaimRow.tenant_id == tenant, ClaimRow.payer_id == payer_id,
            ClaimRow.patient_control_number.in_(pcns),
            # ACCEPTED too: a payer may reject, days later, a claim it first answered A1
            # ("received"); and a replacement or void it refuses may find its claim
            # REVERSED (the payer took back the first decision meanwhile).
            ClaimRow.status.in_((Status.SUBMITTED, Status.ACCEPTED))
            | ((ClaimRow.status == Status.REVERSED)
               & ClaimRow.frequency_code.in_(RESUBMISSIONS))))}
    receiver = report.receiver.statuses if report.receiver is not None else []
    accepted: list[int] = []
    payer_numbers: list[tuple[int, str]] = []
    rejected: list[int] = []
    edits: list[dict[str, Any]] = []
    for status in report.claims:
        claim_id = claim_ids.get(status.patient_control_number)
        if claim_id is None:
            counts["unmatched"] += 1
            continue
        levels = [(level, statuses) for level, statuses in (
            ("receiver", receiver), ("provider", status.provider_statuses),
            ("claim", status.statuses)) if _rejects(statuses)]
        if not levels and status.categories and set(status.categories) <= PENDING_CATEGORIES:
            counts["pending"] += 1
            continue
        if not levels:
            accepted.append(claim_id)
            if status.payer_claim_control_number:
                payer_numbers.append((claim_id, status.payer_claim_control_number))
        else:
            rejected.append(claim_id)
            for level, statuses in levels:
                edits += _rejection_edits(claim_id, level, statuses)
    update_rows(session, ClaimRow.__table__, payer_numbers, ("payer_claim_control_number",))
    accepted = move(session, accepted, Status.SUBMITTED, Status.ACCEPTED, STAGE)
    rejected = [claim_id for current in (Status.SUBMITTED, Status.ACCEPTED, Status.REVERSED)
                for claim_id in move(session, rejected, current, Status.PAYER_REJECTED, STAGE)]
    moved = set(rejected)
    edits = [edit for edit in edits if edit["claim_id"] in moved]
    if edits:
        session.execute(insert(Edit), edits)
    unbook_rejected(session, tenant, rejected, on)
    counts["accepted"], counts["rejected"] = len(accepted), len(rejected)
    session.add(Acknowledgment(file_id=file_id, kind="277CA", status="",
                               accepted=len(accepted), rejected=len(rejected)))
    return counts
