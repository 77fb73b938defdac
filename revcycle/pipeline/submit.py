"""Submit: READY claims into one 837 per payer and claim type, through the outbox.

The intent (a PENDING submission with its interchange control number, the file in
outbound/, the claims linked to it) is committed before anything is sent. Sending then
marks it SENT and the claims SUBMITTED. A re-run resends PENDING submissions under the same
interchange control number, which channels treat as the idempotency key, and never puts a
claim in a second submission, not even when two runs work the batch at the same time (the
claims' link to a submission is taken once; a submission is marked SENT, and its charges
booked, once).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from revcycle.channels import Delivery, PayerChannel
from revcycle.db.models import Batch, File, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import ClaimType, Receiver, Submitter
from revcycle.payers import PayerDefinition
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.claimfiles import load_claims
from revcycle.pipeline.control_numbers import DatabaseControlNumbers
from revcycle.pipeline.post import book_charges
from revcycle.pipeline.resources import Resources
from revcycle.scrub.corrections import autocorrect
from revcycle.status import Status
from revcycle.storage import object_key
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import InterchangeHeader, Party

STAGE = "submit"


def submit(res: Resources, batch_id: str, payer: PayerDefinition,
           channel: PayerChannel) -> dict[str, Any]:
    """Create this payer's submissions for the batch, then send every pending one."""
    created = _create_submissions(res, batch_id, payer)
    sent = claims = 0
    with res.sessions() as session:
        pending = list(session.scalars(select(Submission).where(
            Submission.batch_id == batch_id, Submission.payer_id == payer.payer_id,
            Submission.status == "PENDING").order_by(Submission.id)))
        batch = session.get(Batch, batch_id)
    for submission in pending:
        delivery = Delivery(submission.tenant_id, batch.business_date, batch_id,
                            submission.interchange_control_number)
        channel.send(delivery, res.store.get(submission.key))
        with res.sessions() as session:
            marked = session.execute(
                update(Submission).where(Submission.id == submission.id,
                                         Submission.status == "PENDING")
                .values(status="SENT", sent_at=datetime.now()).returning(Submission.id))
            if marked.first() is None:
                continue  # another run sent it meanwhile and did the rest
            ids = list(session.scalars(select(ClaimRow.id).where(
                ClaimRow.submission_id == submission.id)))
            claims += len(move(session, ids, Status.READY, Status.SUBMITTED, STAGE))
            book_charges(session, submission.tenant_id, ids, batch.business_date)
            session.commit()
        sent += 1
    return {"batch": batch_id, "payer": payer.payer_id, "created": created, "sent": sent,
            "claims": claims}


def _create_submissions(res: Resources, batch_id: str, payer: PayerDefinition) -> int:
    settings = res.settings
    header = InterchangeHeader(Party(settings.sender_id, settings.sender_qualifier),
                               Party(payer.receiver_id, payer.receiver_qualifier),
                               usage_indicator=settings.usage_indicator)
    submitter = Submitter(settings.submitter_name, settings.sender_id,
                          settings.submitter_contact, settings.submitter_phone)
    receiver = Receiver(payer.name, payer.receiver_id)
    created = 0
    with res.sessions() as session:
        batch = session.get(Batch, batch_id)
        rows = [r for r in claims_in(session, batch_id, Status.READY, payer.payer_id)
                if r.submission_id is None]
        if not rows:
            return 0
        files = {f.id: f for f in session.scalars(
            select(File).where(File.id.in_({r.file_id for r in rows})))}
        loaded = load_claims(res.store, files, rows)
        for _, claim in loaded:
            # As the scrub did: what is sent is the corrected claim.
            autocorrect(claim, payer.character_policy)
        for claim_type in (ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL):
            group = [(row, claim) for row, claim in loaded if claim.claim_type is claim_type]
            size = payer.max_claims_per_file
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                numbers = DatabaseControlNumbers(session)
                written = write_837([claim for _, claim in chunk], header, numbers, submitter,
                                    receiver)
                icn = written.interchange_control_number
                key = object_key(batch.tenant_id, "outbound", batch.business_date, batch_id,
                                 f"{payer.payer_id}-{icn}-837.x12")
                res.store.put(key, written.text.encode())
                submission = Submission(
                    tenant_id=batch.tenant_id, batch_id=batch_id, payer_id=payer.payer_id,
                    claim_type=claim_type.value, interchange_control_number=icn,
                    group_control_number=written.group_control_number,
                    transaction_control_numbers={
                        written.transaction_control_numbers[0]: [r.id for r, _ in chunk]},
                    key=key, claim_count=len(chunk),
                    total_charge=sum((c.total_charge for _, c in chunk), Decimal(0)),
                    status="PENDING")
                session.add(submission)
                session.flush()
                chunk_ids = [r.id for r, _ in chunk]
                linked = session.scalars(update(ClaimRow).where(
                    ClaimRow.id.in_(chunk_ids), ClaimRow.submission_id.is_(None))
                    .values(submission_id=submission.id).returning(ClaimRow.id)).all()
                if len(linked) < len(chunk_ids):
                    # Another run of this batch put these claims in its submission first:
                    # this one is dropped, never sent; a claim is in one submission only.
                    session.rollback()
                    res.store.delete(key)
                    continue
                session.commit()  # the intent is durable before anything is sent
                created += 1
    return created
