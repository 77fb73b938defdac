"""Submit: READY claims into one 837 per payer and claim type, through the outbox.

The intent (a PENDING submission with its interchange control number, the file in
outbound/, the claims linked to it) is committed before anything is sent. A claim the 837
writer refuses (a value scrub did not foresee) is taken out alone: REJECTED with an edit
naming the field, and the rest of its file is written.

Sending is claimed first: one conditional update takes a submission from PENDING to
SENDING with this run's id and the time, so of two runs at once only one sends it; the
other skips it. Sent, it is marked SENT and its claims SUBMITTED, its charges booked once.
A send that fails gives the claim back (PENDING) at once; a claim whose sender died is
taken over once it is older than the send lease (``Settings.send_lease_s``), and the file
resent under the same interchange control number, which channels treat as the
idempotency key; a claim the run could not give back (the database was down) is taken
back at once by the same run's retry. No claim is ever put in a second submission, not
even by two runs.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from revcycle.channels import Delivery, PayerChannel, PayerRoute, RetryPolicy
from revcycle.channels.route import Leg
from revcycle.crashpoints import crash_point
from revcycle.db.models import Batch, Edit, File, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import Claim, ClaimType, Receiver, Submitter
from revcycle.payers import PayerDefinition
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.claimfiles import load_claims
from revcycle.pipeline.control_numbers import DatabaseControlNumbers
from revcycle.pipeline.post import book_charges
from revcycle.pipeline.resources import Resources
from revcycle.scrub.corrections import autocorrect
from revcycle.status import Status
from revcycle.storage import object_key
from revcycle.x12.errors import X12ElementError
from revcycle.x12.fields837 import delimiter_message, values_with
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import (
    CounterControlNumbers,
    InterchangeHeader,
    Party,
    WrittenInterchange,
)

STAGE = "submit"
REFUSED_RULE = "SUBMIT-01"


class SubmitConfigurationError(X12ElementError):
    """Our own submitter (settings) or receiver (payer module) values cannot be written:
    no claim is at fault, so none is rejected; the payer's step fails until it is fixed."""


def submit(res: Resources, batch_id: str, payer: PayerDefinition,
           route: PayerRoute | PayerChannel, *, run_id: str = "") -> dict[str, Any]:
    """Create this payer's submissions for the batch, then send every pending one this run
    can claim through the payer's route (a bare channel is a route of one, not retried).
    ``run_id`` names the run in the claim (default: a fresh id)."""
    if not isinstance(route, PayerRoute):
        route = PayerRoute(payer.payer_id, [Leg(route, RetryPolicy(retries=0))])
    created, refused = _create_submissions(res, batch_id, payer)
    run_id = run_id or uuid.uuid4().hex
    sent = claims = 0
    lease = timedelta(seconds=res.settings.send_lease_s)
    with res.sessions() as session:
        due = _due(datetime.now() - lease, run_id)
        pending = list(session.scalars(select(Submission).where(
            Submission.batch_id == batch_id, Submission.payer_id == payer.payer_id, due)
            .order_by(Submission.id)))
        batch = session.get_one(Batch, batch_id)
    for submission in pending:
        moved = _send(res, submission, batch, route, run_id, lease)
        if moved is not None:
            sent += 1
            claims += moved
    with res.sessions() as session:
        in_flight = session.scalar(select(func.count()).select_from(Submission).where(
            Submission.batch_id == batch_id, Submission.payer_id == payer.payer_id,
            Submission.status == "SENDING"))
    return {"batch": batch_id, "payer": payer.payer_id, "created": created, "sent": sent,
            "claims": claims, "refused": refused, "in_flight": in_flight}


def _due(stale_before: datetime, run_id: str) -> ColumnElement[bool]:
    """Submissions a run may claim: pending, claimed by a run whose lease ran out, or
    claimed by this very run (a task's retry, after a send whose claim could not be
    given back: the database was down)."""
    return or_(Submission.status == "PENDING",
               and_(Submission.status == "SENDING",
                    or_(Submission.sending_since < stale_before,
                        Submission.sending_run == run_id)))


def _send(res: Resources, submission: Submission, batch: Batch, route: PayerRoute,
          run_id: str, lease: timedelta) -> int | None:
    """Claim, send and mark one submission; the number of claims it moved to SUBMITTED, or
    None when another run has it. A submission tried before is first looked for at the
    payer (``recheck``): found there, it is marked SENT without being sent again."""
    now = datetime.now()
    mine = and_(Submission.id == submission.id, Submission.status == "SENDING",
                Submission.sending_run == run_id)
    with res.sessions() as session:
        claimed = session.execute(
            update(Submission).where(Submission.id == submission.id, _due(now - lease, run_id))
            .values(status="SENDING", sending_run=run_id, sending_since=now,
                    send_attempts=Submission.send_attempts + 1)
            .returning(Submission.send_attempts)).first()
        session.commit()
    if claimed is None:
        return None  # another run is sending it, or has sent it
    crash_point("submit.after_claim")
    try:
        delivery = Delivery(submission.tenant_id, batch.business_date, batch.id,
                            submission.interchange_control_number)
        receipt = route.deliver(delivery, res.store.get(submission.key),
                                recheck=claimed.send_attempts > 1)
        crash_point("submit.after_send")
        with res.sessions() as session:
            marked = session.execute(update(Submission).where(mine).values(
                status="SENT", sent_at=datetime.now(), sent_via=receipt.channel,
                remote_name=receipt.remote_name or None).returning(Submission.id))
            if marked.first() is None:
                return None  # our lease ran out and another run took it over
            moved = record_sent(session, submission.id, submission.tenant_id,
                                batch.business_date)
            session.commit()
        crash_point("submit.after_sent")
        return len(moved)
    except BaseException:
        # The send or its marking failed here: give the claim back, so a retry sends at
        # once. Best effort: if the database is what failed, the lease frees it later.
        with contextlib.suppress(Exception), res.sessions() as session:
            session.execute(update(Submission).where(mine).values(
                status="PENDING", sending_run=None, sending_since=None))
            session.commit()
        raise


def record_sent(session: Session, submission_id: int, tenant: str, on: date) -> list[int]:
    """A file the payer has: its claims READY -> SUBMITTED, the charges of those it moves
    booked (a claim already moved by another run is neither moved nor booked again)."""
    ids = list(session.scalars(select(ClaimRow.id).where(
        ClaimRow.submission_id == submission_id)))
    moved = move(session, ids, Status.READY, Status.SUBMITTED, STAGE)
    book_charges(session, tenant, moved, on)
    return moved


def _create_submissions(res: Resources, batch_id: str, payer: PayerDefinition
                        ) -> tuple[int, int]:
    """Write and record this payer's files for the batch's READY claims; returns how many
    submissions were made and how many claims the writer refused."""
    settings = res.settings
    header = InterchangeHeader(Party(settings.sender_id, settings.sender_qualifier),
                               Party(payer.receiver_id, payer.receiver_qualifier),
                               usage_indicator=payer.usage_indicator
                               or settings.usage_indicator)
    submitter = Submitter(settings.submitter_name, settings.sender_id,
                          settings.submitter_contact, settings.submitter_phone)
    receiver = Receiver(payer.name, payer.receiver_id)
    created = refused = 0
    with res.sessions() as session:
        batch = session.get_one(Batch, batch_id)
        rows = [r for r in claims_in(session, batch_id, Status.READY, payer.payer_id)
                if r.submission_id is None]
        if not rows:
            return 0, 0
        _check_our_values(header, submitter, receiver)
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
                written, chunk, taken_out = _write(session, chunk, header, submitter,
                                                   receiver)
                refused += taken_out
                if written is None:
                    continue
                icn = written.interchange_control_number
                key = object_key(batch.tenant_id, "outbound", batch.business_date, batch_id,
                                 f"{payer.payer_id}-{icn}-837.x12")
                res.store.put(key, written.text.encode())
                crash_point("submit.after_outbound_put")
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
                crash_point("submit.after_intent")
                created += 1
    return created, refused


Chunk = list[tuple[ClaimRow, Claim]]


def _write(session: Session, chunk: Chunk, header: InterchangeHeader, submitter: Submitter,
           receiver: Receiver) -> tuple[WrittenInterchange | None, Chunk, int]:
    """The chunk's 837 (numbered from the database) and the claims in it. When the writer
    refuses the chunk, each claim it refuses alone is rejected and the rest is written; a
    refusal no single claim explains is raised. Returns how many claims were rejected."""
    claims = [claim for _, claim in chunk]
    try:
        return (write_837(claims, header, DatabaseControlNumbers(session), submitter,
                          receiver), chunk, 0)
    except X12ElementError:
        session.rollback()  # gives back the control numbers the attempt took
        writable, refusals = _split_refused(chunk, header, submitter, receiver)
        if not refusals:
            raise
    rejected = _reject(session, refusals, header)
    if not writable:
        return None, [], rejected
    return (write_837([claim for _, claim in writable], header,
                      DatabaseControlNumbers(session), submitter, receiver),
            writable, rejected)


def _split_refused(chunk: Chunk, header: InterchangeHeader, submitter: Submitter,
                   receiver: Receiver
                   ) -> tuple[Chunk, list[tuple[ClaimRow, Claim, X12ElementError]]]:
    """Each claim written alone (with throwaway numbers): those it writes, those it
    refuses with the writer's error."""
    writable: Chunk = []
    refusals: list[tuple[ClaimRow, Claim, X12ElementError]] = []
    for row, claim in chunk:
        try:
            write_837([claim], header, CounterControlNumbers(), submitter, receiver)
        except X12ElementError as error:
            refusals.append((row, claim, error))
        else:
            writable.append((row, claim))
    return writable, refusals


def _reject(session: Session, refusals: Sequence[tuple[ClaimRow, Claim, X12ElementError]],
            header: InterchangeHeader) -> int:
    """READY -> REJECTED with an edit naming the field (a claim another run moved meanwhile
    is left alone); committed, so the rejection stands whatever happens to the file."""
    edits = {row.id: _edit(row.id, claim, error, header) for row, claim, error in refusals}
    moved = move(session, list(edits), Status.READY, Status.REJECTED, STAGE)
    if moved:
        session.execute(insert(Edit), [edits[claim_id] for claim_id in moved])
    session.commit()
    return len(moved)


def _edit(claim_id: int, claim: Claim, error: X12ElementError,
          header: InterchangeHeader) -> dict[str, Any]:
    """The writer's refusal as an edit: the field holding a delimiter, or the writer's own
    reason and position (its messages never quote a value)."""
    edit = {"claim_id": claim_id, "stage": STAGE, "rule_id": REFUSED_RULE,
            "severity": "ERROR"}
    for place, found in values_with(claim, header.delimiters):
        return {**edit, "field": place.field, "line_number": place.line_number,
                "message": delimiter_message(place.field, found, header.delimiters)}
    position = (f"{error.segment_id}{error.element:02d}" if error.element
                else error.segment_id or "")
    return {**edit, "field": " ".join(filter(None, (error.loop, position))),
            "message": f"the 837 writer refused the claim: {error.reason}"}


def _check_our_values(header: InterchangeHeader, submitter: Submitter,
                      receiver: Receiver) -> None:
    """Our submitter (1000A) and receiver (1000B) values are written in every file: one
    holding a delimiter is our configuration's fault, not a claim's."""
    ours = (("1000A", "NM103", submitter.name), ("1000A", "NM104", submitter.first_name),
            ("1000A", "NM109", submitter.id), ("1000A", "PER02", submitter.contact_name),
            ("1000A", "PER04", submitter.contact_phone), ("1000B", "NM103", receiver.name),
            ("1000B", "NM109", receiver.id))
    d = header.delimiters
    delimiters = {d.element, d.component, d.segment, d.repetition} - {""}
    for loop, element, value in ours:
        if delimiters.intersection(value):
            raise SubmitConfigurationError(
                f"{loop} {element} (settings or payer module) holds a delimiter character",
                segment_id=element[:-2], element=int(element[-2:]), loop=loop)
