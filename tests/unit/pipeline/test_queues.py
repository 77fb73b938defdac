"""The work queues posting leaves (exceptions, held remittances, denials), closing an
exception once worked, and the ``revcycle queue`` commands."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from revcycle.channels.simulator import SimulatorChannel
from revcycle.db import models
from revcycle.model.claim import ClaimType
from revcycle.model.remittance import ClaimPayment
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import ensure_payer
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.queues import (
    QueueError,
    denials,
    exceptions,
    held,
    post_by_hand,
    resolve_exception,
)
from revcycle.pipeline.report import summarize
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.simulator.payer import PayerBehaviour
from revcycle.status import ADJUDICATED, Status
from tests.unit.pipeline.conftest import BOTH_DATABASES, counts, factory, ready_batch, run_cli
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _all,
    _check_books,
    _payer_remittances,
    _put_835,
    _rows,
    _submitted,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

# A payer that makes every kind of mistake a poster must queue, and denies often.
CARELESS = PayerBehaviour(rejection_rate=0.0, denial_rate=0.15, partial_rate=0.2,
                          duplicate_payment_rate=0.1, unknown_claim_rate=0.1)


def _posted_day(res: Resources, seed: int = 51) -> list[str]:
    """120 claims sent to the careless payer, acknowledged and posted; the strings a queue
    must never show (member ids, names, patient control numbers)."""
    f = factory(TENANT, seed=seed, payers=[PAYER.payer_id])
    claims = f.claims(120, ClaimType.PROFESSIONAL)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    submit(res, batch, PAYER, SimulatorChannel(res.store, PAYER, seed=seed,
                                               behaviour=CARELESS))
    apply_acknowledgments(res, batch, PAYER.payer_id)
    post_remittances(res, batch, PAYER.payer_id)
    return [v for c in claims for v in (c.subscriber.member_id, c.subscriber.last_name,
                                         c.subscriber.first_name, c.patient_control_number)]


def test_the_queues_hold_what_posting_left_and_nothing_else(res: Resources) -> None:
    phi = _posted_day(res)
    payments = _all(res, models.Payment)
    left = [p for p in payments if p.exception]
    with res.sessions() as session:
        queue = exceptions(session)
        denied = denials(session)
        claims = {c.id: c for c in session.scalars(select(models.Claim))}
        assert exceptions(session, tenant="someoneelse") == []
        assert exceptions(session, payer="SIMA1") == []
        assert exceptions(session, tenant=TENANT, payer=PAYER.payer_id) == queue
        assert held(session) == []

    assert left and [row["payment_id"] for row in queue] == [p.id for p in left]
    for row, payment in zip(queue, left, strict=True):
        assert row["reason"] == payment.exception
        assert (row["file"], row["segment_number"]) == (payment.source_key,
                                                        payment.segment_number)
        assert row["paid"] == str(payment.paid) and row["resolved_at"] is None
    assert {r["reason"].split(":")[0][:14] for r in queue} == {"Unknown claim", "Second payment"}

    worked = {c.id for c in claims.values()
              if c.status in (Status.DENIED, Status.PARTIALLY_PAID)}
    assert worked and {row["claim_id"] for row in denied} == worked
    assert all(row["reason"].startswith("Denied by the payer") for row in denied)
    assert {row["status"] for row in denied} == {Status.DENIED, Status.PARTIALLY_PAID}
    # A partly paid claim lists its denied lines only; a denied one its claim reasons.
    assert all(row["line_number"] is not None for row in denied
               if row["status"] == Status.PARTIALLY_PAID)

    shown = json.dumps([queue, denied])
    assert not [value for value in phi if value and value in shown]


def test_an_exception_is_resolved_once_with_what_was_done(res: Resources) -> None:
    _posted_day(res, seed=52)
    with res.sessions() as session:
        first, *others = exceptions(session)
        posted = next(p for p in _all(res, models.Payment) if not p.exception)

        done = resolve_exception(session, first["payment_id"], "  refund requested  ", "ana")
        session.commit()

        assert (done["resolution"], done["resolved_by"]) == ("refund requested", "ana")
        assert [r["payment_id"] for r in exceptions(session)] == [
            r["payment_id"] for r in others]
        [closed] = [r for r in exceptions(session, include_resolved=True)
                    if r["payment_id"] == first["payment_id"]]
        assert (closed["resolution"], closed["resolved_by"]) == ("refund requested", "ana")
        assert closed["resolved_at"] == done["resolved_at"]
        for payment_id, note, by, why in (
                (first["payment_id"], "again", "bo", "was resolved on"),
                (posted.id, "nothing to do", "bo", "not in the exception queue"),
                (10**9, "no such payment", "bo", "not in the exception queue"),
                (others[0]["payment_id"], "   ", "bo", "say what was done"),
                (others[0]["payment_id"], "x" * 201, "bo", "say what was done"),
                (others[0]["payment_id"], "posted by hand", " ", "say who worked it")):
            with pytest.raises(QueueError, match=why):
                resolve_exception(session, payment_id, note, by)
        session.rollback()
        assert len(exceptions(session)) == len(others)


def test_a_held_remittance_is_listed_until_its_correction_posts(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=53)
    remittances = _payer_remittances(data)
    good = copy.deepcopy(remittances)
    remittances[0].claims[0].paid += Decimal("3.10")
    _put_835(res, delivery, remittances, 670)
    post_remittances(res, batch, PAYER.payer_id)

    with res.sessions() as session:
        [row] = held(session)
        assert (row["payer"], row["trace_number"]) == (PAYER.payer_id,
                                                       remittances[0].trace_number)
        assert row["problems"] and all(isinstance(p, str) for p in row["problems"])
        assert held(session, tenant="someoneelse") == []

    _put_835(res, delivery, good, 671)
    post_remittances(res, batch, PAYER.payer_id)
    with res.sessions() as session:
        assert held(session) == []


def test_the_queue_commands(res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    _posted_day(res, seed=54)
    with res.sessions() as session:
        queue, denied = exceptions(session), denials(session)

    listed = run_cli(res, monkeypatch, "queue", "exceptions", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == {"exceptions": queue}
    table = run_cli(res, monkeypatch, "queue", "exceptions", "--tenant", TENANT)
    assert table.exit_code == 0 and f"exceptions: {len(queue)}" in table.output
    assert all(str(row["payment_id"]) in table.output for row in queue)
    assert json.loads(run_cli(res, monkeypatch, "queue", "denials", "--json").output) == {
        "denials": denied}
    assert json.loads(run_cli(res, monkeypatch, "queue", "held", "--json").output) == {
        "held": []}

    target = str(queue[0]["payment_id"])
    resolved = run_cli(res, monkeypatch, "queue", "resolve", target, "--note",
                       "posted by hand", "--by", "ana")
    assert resolved.exit_code == 0, resolved.output
    assert f"payment {target} resolved by ana" in resolved.output
    again = run_cli(res, monkeypatch, "queue", "resolve", target, "--note", "again")
    assert again.exit_code == 1 and "was resolved on" in again.output
    after = json.loads(run_cli(res, monkeypatch, "queue", "exceptions", "--json").output)
    assert [r["payment_id"] for r in after["exceptions"]] == [
        r["payment_id"] for r in queue[1:]]


def _renumbered_clp(res: Resources, seed: int) -> tuple[str, ClaimPayment, int]:
    """An 835 whose payer changed one claim's patient control number: posted, that CLP in
    the exception queue. (batch, the CLP as the payer sent it, the exception's id)."""
    batch, [(delivery, data)] = _submitted(res, seed=seed)
    remittances = _payer_remittances(data)
    renumbered = remittances[0].claims[1]
    ours = renumbered.patient_control_number
    renumbered.patient_control_number = "PAYERCHANGEDIT"
    _put_835(res, delivery, remittances, 730)
    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 1
    renumbered.patient_control_number = ours
    with res.sessions() as session:
        [row] = exceptions(session)
    return batch, renumbered, row["payment_id"]


def _cash(res: Resources, account: str) -> Decimal:
    return sum((e.amount for e in _all(res, models.LedgerEntry) if e.account == account),
               Decimal(0))


def test_a_biller_posts_an_exception_to_the_claim_it_belongs_to(res: Resources) -> None:
    batch, clp, payment_id = _renumbered_clp(res, seed=55)
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.SUBMITTED and _cash(res, "UNAPPLIED_CASH") == -clp.paid
    cash = _cash(res, "CASH")

    done = post_by_hand(res, payment_id, claim.id, "ana")

    assert (done["claim_id"], done["resolved_by"]) == (claim.id, "ana")
    assert done["resolution"] == f"posted by hand to claim {claim.id}"
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status in ADJUDICATED and claim.paid == clp.paid
    assert claim.payer_claim_control_number == clp.payer_claim_control_number
    [posted] = [p for p in _all(res, models.Payment) if p.claim_id == claim.id]
    assert (posted.exception, posted.segment_number) == ("", clp.segment_number)
    assert posted.posted_by == "ana"
    assert _cash(res, "UNAPPLIED_CASH") == 0 and _cash(res, "CASH") == cash
    # The day's report counts the CLP's money once, as posted by hand.
    with res.sessions() as session:
        posting = summarize(session, [batch])["posting"]
    remitted = sum((p.paid for p in _all(res, models.Payment) if not p.posted_by),
                   Decimal(0))
    assert Decimal(posting["claim_payments"]) == remitted
    assert Decimal(posting["posted_by_hand"]) == clp.paid
    assert Decimal(posting["auto_posted"]) == remitted - clp.paid
    assert (posting["exceptions"], posting["open_exceptions"], posting["unapplied"]) == (
        1, 0, "0.00")
    with res.sessions() as session:
        assert exceptions(session) == []
    _check_books(res)
    with pytest.raises(QueueError, match="was resolved on"):
        post_by_hand(res, payment_id, claim.id, "ana")


def test_posting_by_hand_refuses_a_claim_that_cannot_take_the_payment(
        res: Resources) -> None:
    _, clp, payment_id = _renumbered_clp(res, seed=56)
    rows = _rows(res)
    paid = next(r for r in rows.values() if r.status == Status.PAID)
    other = next(r for r in rows.values() if r.id != paid.id
                 and r.patient_control_number != clp.patient_control_number)
    with res.sessions() as session:  # a claim sent to another payer
        ensure_payer(session, "SIMA1", "another payer")
        session.execute(update(models.Claim).where(models.Claim.id == other.id)
                        .values(payer_id="SIMA1"))
        session.commit()
    before = counts(res)
    for claim_id, why in ((paid.id, "Second payment"), (10**9, "No claim with that id"),
                          (other.id, "No claim with that id")):
        with pytest.raises(QueueError, match=why):
            post_by_hand(res, payment_id, claim_id, "ana")
    with pytest.raises(QueueError, match="say who worked it"):
        post_by_hand(res, payment_id, rows[clp.patient_control_number].id, " ")
    assert counts(res) == before
    with res.sessions() as session:
        assert [r["payment_id"] for r in exceptions(session)] == [payment_id]


def test_the_post_command(res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    _, clp, payment_id = _renumbered_clp(res, seed=57)
    claim = _rows(res)[clp.patient_control_number]
    refused = run_cli(res, monkeypatch, "queue", "post", str(payment_id), "--claim", "999999")
    assert refused.exit_code == 1 and "No claim with that id" in refused.output
    posted = run_cli(res, monkeypatch, "queue", "post", str(payment_id), "--claim",
                     str(claim.id), "--by", "ana")
    assert posted.exit_code == 0, posted.output
    assert f"payment {payment_id} posted to claim {claim.id} by ana" in posted.output
    assert _rows(res)[clp.patient_control_number].status in ADJUDICATED
