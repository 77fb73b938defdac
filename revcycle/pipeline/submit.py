"""Submit: READY claims into one 837 per payer and claim type, through the outbox.

A day writes every payer's files for a batch in one step (``write_submissions``: the
claims are read once, not once per payer); each payer's step (``submit``) then writes
whatever is still unwritten (everything, when it runs alone) and sends.

The intent (a PENDING submission with its interchange control number, the file in
outbound/, the claims linked to it) is committed before anything is sent. A claim the 837
writer refuses (a value scrub did not foresee) is taken out alone: REJECTED with an edit
naming the field, and the rest of its file is written.

Sending (``revcycle.pipeline.sending``) claims each submission before it is sent and
records it after, so no file goes out twice, not even from two runs or after a crash; no
claim is ever put in a second submission.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from revcycle.channels import PayerChannel, PayerRoute, RetryPolicy
from revcycle.channels.route import Leg
from revcycle.crashpoints import crash_point
from revcycle.db.models import Batch, Edit, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import Claim, ClaimType, Receiver, Submitter
from revcycle.payers import PayerDefinition
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.control_numbers import DatabaseControlNumbers
from revcycle.pipeline.handoff import handoff_for
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.sending import STAGE, send_pending
from revcycle.pipeline.versions import current_claims
from revcycle.scrub.corrections import autocorrect
from revcycle.status import Status
from revcycle.storage import object_key
from revcycle.x12.charset import CharacterPolicy
from revcycle.x12.errors import X12ElementError
from revcycle.x12.fields837 import delimiter_message, values_with
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import (
    CounterControlNumbers,
    InterchangeHeader,
    Party,
    WrittenInterchange,
)

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
    written = _create_submissions(res, batch_id, payer)
    with res.sessions() as session:
        batch = session.get_one(Batch, batch_id)
    sent = send_pending(res, batch, payer.payer_id, route, run_id or uuid.uuid4().hex)
    with res.sessions() as session:
        in_flight = session.scalar(select(func.count()).select_from(Submission).where(
            Submission.batch_id == batch_id, Submission.payer_id == payer.payer_id,
            Submission.status == "SENDING"))
    return {"batch": batch_id, "payer": payer.payer_id, "created": written.files,
            "sent": sent.files, "claims": sent.claims, "refused": written.refused,
            "in_flight": in_flight}


def write_submissions(res: Resources, batch_id: str,
                      payers: Mapping[str, PayerDefinition]) -> dict[str, Any]:
    """Every payer's submissions for the batch's READY claims, from one read of the claims:
    each payer's ``submit`` step then finds its files written and only sends them. Reading
    a tenant's claims once instead of once per payer is what this step is for (claims live
    in the provider's raw file, and reading them is the costliest part of writing).

    A payer whose files cannot be written (its module's or our values hold a delimiter, or
    the writer refuses what no single claim explains) is left alone here: its own submit
    step writes again and fails with the reason, and every other payer goes on."""
    created = refused = claims = 0
    left: list[str] = []
    with res.sessions() as session:
        batch = session.get_one(Batch, batch_id)
        rows = [r for r in claims_in(session, batch_id, Status.READY)
                if r.submission_id is None and r.payer_id in payers]
        by_payer: dict[str, list[tuple[ClaimRow, Claim]]] = {}
        handoff = handoff_for(res)
        for row, claim in current_claims(session, res.store, rows, handoff):
            by_payer.setdefault(row.payer_id, []).append((row, claim))
        for payer_id, loaded in sorted(by_payer.items()):
            try:
                written = _create_for_payer(res, session, batch, payers[payer_id], loaded,
                                            handoff.corrected)
            except X12ElementError:
                session.rollback()
                left.append(payer_id)
                continue
            created, claims, refused = (created + written.files, claims + written.claims,
                                        refused + written.refused)
    return {"batch": batch_id, "payers": len(by_payer), "files": created, "claims": claims,
            "refused": refused, "left": left}


@dataclass(frozen=True)
class Written:
    """What writing a payer's claims made: submissions, the claims in them, and the
    claims the writer refused (REJECTED)."""

    files: int = 0
    claims: int = 0
    refused: int = 0


def _create_submissions(res: Resources, batch_id: str, payer: PayerDefinition) -> Written:
    """Write and record this payer's files for the batch's READY claims not yet in a
    submission."""
    with res.sessions() as session:
        batch = session.get_one(Batch, batch_id)
        rows = [r for r in claims_in(session, batch_id, Status.READY, payer.payer_id)
                if r.submission_id is None]
        if not rows:
            return Written()
        # What is written is the claim's current version: a corrected claim as corrected.
        handoff = handoff_for(res)
        loaded = current_claims(session, res.store, rows, handoff)
        return _create_for_payer(res, session, batch, payer, loaded, handoff.corrected)


def _create_for_payer(res: Resources, session: Session, batch: Batch, payer: PayerDefinition,
                      loaded: list[tuple[ClaimRow, Claim]],
                      corrected: Mapping[int, CharacterPolicy]) -> Written:
    """The payer's files for ``loaded`` (its READY claims as they are now), each recorded
    as a PENDING submission and committed before anything is sent. ``corrected``: claims
    scrub handed over already corrected, by the character policy they were corrected for."""
    settings = res.settings
    header = InterchangeHeader(Party(settings.sender_id, settings.sender_qualifier),
                               Party(payer.receiver_id, payer.receiver_qualifier),
                               usage_indicator=payer.usage_indicator
                               or settings.usage_indicator)
    submitter = Submitter(settings.submitter_name, settings.sender_id,
                          settings.submitter_contact, settings.submitter_phone)
    receiver = Receiver(payer.name, payer.receiver_id)
    _check_our_values(header, submitter, receiver)
    created = claims = refused = 0
    policy = payer.character_policy
    for row, claim in loaded:
        # As the scrub did: what is sent is the corrected claim.
        if corrected.get(row.id) != policy:
            autocorrect(claim, policy)
    for claim_type in (ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL):
        group = [(row, claim) for row, claim in loaded if claim.claim_type is claim_type]
        size = payer.max_claims_per_file
        for start in range(0, len(group), size):
            chunk = group[start:start + size]
            written, chunk, taken_out = _write(session, chunk, header, submitter, receiver)
            refused += taken_out
            if written is None:
                continue
            icn = written.interchange_control_number
            key = object_key(batch.tenant_id, "outbound", batch.business_date, batch.id,
                             f"{payer.payer_id}-{icn}-837.x12")
            res.store.put(key, written.text.encode())
            crash_point("submit.after_outbound_put")
            submission = Submission(
                tenant_id=batch.tenant_id, batch_id=batch.id, payer_id=payer.payer_id,
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
                .values(submission_id=submission.id).returning(ClaimRow.id)
                .execution_options(synchronize_session="fetch")).all()
            if len(linked) < len(chunk_ids):
                # Another run of this batch put these claims in its submission first:
                # this one is dropped, never sent; a claim is in one submission only.
                session.rollback()
                res.store.delete(key)
                continue
            session.commit()  # the intent is durable before anything is sent
            crash_point("submit.after_intent")
            created, claims = created + 1, claims + len(chunk)
    return Written(created, claims, refused)


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
