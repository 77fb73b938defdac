"""The outbox's send side: claim pending submissions, deliver them through the payer's
route, record what the payer has.

Submissions are claimed a chunk at a time: one conditional update takes up to
``SEND_CHUNK`` of them from PENDING (or a run's lapsed claim) to SENDING with this run's id
and the time, so of two runs at once only one sends each. Each is then delivered; what
was delivered is recorded in one transaction per chunk (SENT, its claims SUBMITTED, their
charges booked once), and what was not is given back (PENDING) at once. A run renews its
claims whenever half its lease has gone, so they never lapse while it sends.

A claim whose sender died lapses after the lease (``Settings.send_lease_s``) and is taken
over: a submission tried before is looked for at the payer first (the route's
``recheck``), found there it is recorded without being sent again, and otherwise resent
under the same interchange control number. Recording is idempotent: a claim is moved
READY -> SUBMITTED and its charge booked only by the transaction that moves it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from revcycle.channels import Delivery, Receipt
from revcycle.channels.route import PayerRoute
from revcycle.crashpoints import crash_point
from revcycle.db.models import Batch, Submission
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.batches import move
from revcycle.pipeline.charges import book_charges
from revcycle.pipeline.resources import Resources
from revcycle.status import Status

STAGE = "submit"
SEND_CHUNK = 50  # submissions claimed, and recorded, in one transaction
_SUBMISSIONS = Submission.__table__
# SENT, for each delivered submission this run still holds (an executemany).
_RECORD = (update(_SUBMISSIONS)
           .where(_SUBMISSIONS.c.id == bindparam("submission"),
                  _SUBMISSIONS.c.status == "SENDING",
                  _SUBMISSIONS.c.sending_run == bindparam("run"))
           .values(status="SENT", sent_at=bindparam("at"), sent_via=bindparam("via"),
                   remote_name=bindparam("name")))


@dataclass(frozen=True)
class Sent:
    files: int
    claims: int


def send_pending(res: Resources, batch: Batch, payer_id: str, route: PayerRoute,
                 run_id: str) -> Sent:
    """Send every submission of the batch and payer this run can claim."""
    lease = timedelta(seconds=res.settings.send_lease_s)
    with res.sessions() as session:
        pending = list(session.scalars(select(Submission.id).where(
            Submission.batch_id == batch.id, Submission.payer_id == payer_id,
            due(datetime.now() - lease, run_id)).order_by(Submission.id)))
    files = claims = 0
    for start in range(0, len(pending), SEND_CHUNK):
        sent = _send_chunk(res, pending[start:start + SEND_CHUNK], batch, route, run_id,
                           lease)
        files, claims = files + sent.files, claims + sent.claims
    return Sent(files, claims)


def due(stale_before: datetime, run_id: str) -> ColumnElement[bool]:
    """Submissions a run may claim: pending, claimed by a run whose lease ran out, or
    claimed by this very run (a task's retry, after a send whose claim could not be
    given back: the database was down)."""
    return or_(Submission.status == "PENDING",
               and_(Submission.status == "SENDING",
                    or_(Submission.sending_since < stale_before,
                        Submission.sending_run == run_id)))


def _send_chunk(res: Resources, ids: Sequence[int], batch: Batch, route: PayerRoute,
                run_id: str, lease: timedelta) -> Sent:
    now = datetime.now()
    with res.sessions() as session:
        claimed = session.execute(
            update(Submission).where(Submission.id.in_(ids), due(now - lease, run_id))
            .values(status="SENDING", sending_run=run_id, sending_since=now,
                    send_attempts=Submission.send_attempts + 1)
            .returning(Submission.id, Submission.tenant_id,
                       Submission.interchange_control_number, Submission.key,
                       Submission.send_attempts)
            .execution_options(synchronize_session=False)).all()
        session.commit()
    crash_point("submit.after_claim")
    renew_at = time.monotonic() + lease.total_seconds() / 2
    held = {row.id for row in claimed}
    delivered: list[tuple[int, Receipt]] = []
    try:
        for row in sorted(claimed, key=lambda r: r.id):
            if time.monotonic() > renew_at:
                held = _renew(res, held, run_id)
                renew_at = time.monotonic() + lease.total_seconds() / 2
            if row.id not in held:
                continue  # our claim lapsed before we renewed it: another run has it
            delivery = Delivery(row.tenant_id, batch.business_date, batch.id,
                                row.interchange_control_number)
            receipt = route.deliver(delivery, res.store.get(row.key),
                                    recheck=row.send_attempts > 1)
            crash_point("submit.after_send")
            delivered.append((row.id, receipt))
    except BaseException:
        # Best effort on the way out: if the database is what failed, the claims lapse
        # with the lease and the payer is asked before anything is sent again.
        with contextlib.suppress(Exception):
            _settle(res, claimed, delivered, run_id, batch)
        raise
    moved = _settle(res, claimed, delivered, run_id, batch)
    crash_point("submit.after_sent")
    return Sent(len(delivered), len(moved))


def _settle(res: Resources, claimed: Sequence[Row[Any]], delivered: list[tuple[int, Receipt]],
            run_id: str, batch: Batch) -> list[int]:
    """Record what the payer has; give back what it has not, so a retry sends at once.
    Returns the claims moved to SUBMITTED."""
    moved = _record(res, delivered, run_id, batch.tenant_id, batch.business_date)
    sent = {submission for submission, _ in delivered}
    _give_back(res, [row.id for row in claimed if row.id not in sent], run_id)
    return moved


def _renew(res: Resources, ids: set[int], run_id: str) -> set[int]:
    """Renew this run's claims (half the lease has gone); the ones it still holds."""
    with res.sessions() as session:
        renewed = session.scalars(update(Submission).where(
            Submission.id.in_(ids), Submission.status == "SENDING",
            Submission.sending_run == run_id).values(sending_since=datetime.now())
            .returning(Submission.id).execution_options(synchronize_session=False)).all()
        session.commit()
    return set(renewed)


def _record(res: Resources, delivered: list[tuple[int, Receipt]], run_id: str,
            tenant: str, on: date) -> list[int]:
    if not delivered:
        return []
    at = datetime.now()
    with res.sessions() as session:
        session.connection().execute(_RECORD, [
            {"submission": submission, "run": run_id, "at": at, "via": receipt.channel,
             "name": receipt.remote_name or None} for submission, receipt in delivered])
        moved = record_sent(session, [submission for submission, _ in delivered], tenant, on)
        session.commit()
    return moved


def _give_back(res: Resources, ids: list[int], run_id: str) -> None:
    if not ids:
        return
    with res.sessions() as session:
        session.execute(update(Submission).where(
            Submission.id.in_(ids), Submission.status == "SENDING",
            Submission.sending_run == run_id)
            .values(status="PENDING", sending_run=None, sending_since=None)
            .execution_options(synchronize_session=False))
        session.commit()


def record_sent(session: Session, submission_ids: Sequence[int], tenant: str,
                on: date) -> list[int]:
    """Files the payer has: their claims READY -> SUBMITTED, the charges of those it moves
    booked (a claim already moved by another run is neither moved nor booked again)."""
    ids = list(session.scalars(select(ClaimRow.id).where(
        ClaimRow.submission_id.in_(submission_ids))))
    if not ids:
        return []
    moved = move(session, ids, Status.READY, Status.SUBMITTED, STAGE)
    book_charges(session, tenant, moved, on)
    return moved
