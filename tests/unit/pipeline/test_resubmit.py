"""Replacement (7) and void (8) of an adjudicated claim: one claim, its charge counted once,
the payer's reversal and new decision posted on it, a voided claim's charge off the books."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from revcycle.channels.simulator import answer_key
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.remittance import ClaimPayment, Remittance
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.reconcile import check_books
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.resubmit import ResubmitError, replace, void
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.pipeline.versions import CorrectionError, versions_of
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.x12.writer import CounterControlNumbers
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, RecordingChannel, run_cli
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _check_books,
    _negated,
    _payer_remittances,
    _put_835,
    _rows,
    _submitted,
)
from tests.unit.pipeline.test_claim_versions import EVERY_PAYER
from tests.x12_validation import pyx12_errors

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
LATER = DAY + timedelta(days=20)


def _adjudicated(res: Resources) -> tuple[object, list[Remittance], dict[str, ClaimRow]]:
    """Claims sent and answered by the simulated payer's 835."""
    batch, [(delivery, data)] = _submitted(res, n=24, seed=44)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances, 700)
    post_remittances(res, batch, PAYER.payer_id)
    return delivery, remittances, _rows(res)


def _paid(remittances: list[Remittance], rows: dict[str, ClaimRow]) -> ClaimPayment:
    return next(c for r in remittances for c in r.claims
                if rows[c.patient_control_number].status == Status.PAID and c.paid > 0)


def _sent_again(res: Resources, claim_id: int, scrub: bool = True) -> bytes:
    """The day's run for a re-entered claim: quality (by hand), scrub, submit; the 837."""
    with res.sessions() as session:
        batch = session.get_one(ClaimRow, claim_id).batch_id
        move(session, [claim_id], Status.RECEIVED, Status.VALIDATED, "test")
        if not scrub:
            move(session, [claim_id], Status.VALIDATED, Status.READY, "test")
        session.commit()
    if scrub:
        assert scrub_batch(res, batch, EVERY_PAYER)["rejected"] == 0
    channel = RecordingChannel()
    assert submit(res, batch, PAYER, channel)["claims"] == 1
    (delivery, data), = channel.deliveries
    _last_delivery[claim_id] = delivery
    return data


_last_delivery: dict[int, object] = {}


def _ledger(res: Resources, claim_id: int) -> Counter:
    with res.sessions() as session:
        found: Counter = Counter()
        for account, amount in session.execute(
                select(models.LedgerEntry.account, models.LedgerEntry.amount)
                .where(models.LedgerEntry.claim_id == claim_id)):
            found[account] += amount
        return found


def _charge_booked(res: Resources, claim_id: int) -> Decimal:
    with res.sessions() as session:
        return sum(session.scalars(select(models.LedgerEntry.amount).where(
            models.LedgerEntry.claim_id == claim_id, models.LedgerEntry.account == "AR",
            models.LedgerEntry.memo.in_(("charge", "payer rejected", "voided")))),
            Decimal(0))


def _answer(res: Resources, delivery: object, remittance: Remittance,
            claims: list[ClaimPayment], number: int) -> dict:
    total = sum((c.paid for c in claims), Decimal(0))
    answer = dataclasses.replace(remittance, trace_number=f"RESUB{number}", claims=claims,
                                 total_paid=abs(total), provider_adjustments=[],
                                 credit_debit_flag="D" if total < 0 else "C")
    _put_835(res, delivery, [answer], number)
    with res.sessions() as session:
        batch = session.scalars(select(models.Batch.id)).first()
    return post_remittances(res, batch, PAYER.payer_id)


def _statuses(res: Resources, claim_id: int) -> list[tuple[str | None, str]]:
    with res.sessions() as session:
        return [(e.from_status, e.to_status) for e in session.scalars(
            select(models.ClaimEvent).where(models.ClaimEvent.claim_id == claim_id)
            .order_by(models.ClaimEvent.id))]


def test_a_replacement_takes_over_the_claim_and_its_charge(res: Resources) -> None:
    delivery, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    charge = row.total_charge
    with res.sessions() as session:
        done = replace(session, res.store, row.id, {"subscriber.member_id": "SYNTHREPL7"},
                       "biller ann", LATER)
        after = session.get_one(ClaimRow, row.id)
        assert (after.status, after.frequency_code) == ("RECEIVED", "7")
        assert after.batch_id.endswith(LATER.strftime("%Y%m%d"))
        newest = versions_of(session, row.id)[-1]
    assert {c["path"] for c in done.changes} == {
        "subscriber.member_id", "frequency_code", "original_claim_reference"}
    assert (newest.source, newest.changed_by) == ("biller", "biller ann")
    assert newest.content["original_claim_reference"] == original.payer_claim_control_number

    data = _sent_again(res, row.id)
    text = data.decode()
    assert pyx12_errors(text) == []
    assert f"REF*F8*{original.payer_claim_control_number}~" in text
    assert ":B:7*" in text and "SYNTHREPL7" in text
    # Sent again, the claim's charge is still booked once.
    assert _charge_booked(res, row.id) == charge

    # The payer reverses its first decision and pays the replacement (a new CLP07).
    repaid = copy.deepcopy(original)
    repaid.payer_claim_control_number = original.payer_claim_control_number + "R"
    result = _answer(res, delivery, remittances[0], [_negated(original), repaid], 701)

    assert (result["claims_posted"], result["reversals"], result["exceptions"]) == (2, 1, 0)
    final = _rows(res)[original.patient_control_number]
    assert final.status == "PAID" and final.paid == original.paid
    assert final.payer_claim_control_number == repaid.payer_claim_control_number
    assert _statuses(res, row.id)[-6:] == [
        ("PAID", "RECEIVED"), ("RECEIVED", "VALIDATED"), ("VALIDATED", "READY"),
        ("READY", "SUBMITTED"), ("SUBMITTED", "REVERSED"), ("REVERSED", "PAID")]
    assert len(_rows(res)) == len(rows)  # no second claim
    _check_books(res)
    with res.sessions() as session:
        assert check_books(session, [TENANT], LATER) == []


def test_a_replacement_with_a_new_total_books_the_difference(res: Resources) -> None:
    _, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        first = session.scalars(select(models.ServiceLine).where(
            models.ServiceLine.claim_id == row.id).order_by(
            models.ServiceLine.line_number)).first()
        new_line = first.charge + Decimal("10.00")
        replace(session, res.store, row.id, {
            "service_lines[1].charge": str(new_line),
            "total_charge": str(row.total_charge + Decimal("10.00"))}, "biller", LATER)
    _sent_again(res, row.id, scrub=False)
    assert _charge_booked(res, row.id) == row.total_charge + Decimal("10.00")
    ledger = _ledger(res, row.id)
    assert ledger["REVENUE"] == -(row.total_charge + Decimal("10.00"))
    # Paid as before, the claim's extra 10.00 waits in A/R until the payer answers.
    assert ledger["AR"] == Decimal("10.00")


def test_a_void_ends_voided_with_its_charge_off_the_books(res: Resources) -> None:
    delivery, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        done = void(session, res.store, row.id, "biller bo", LATER)
    assert {c["path"] for c in done.changes} == {"frequency_code",
                                                 "original_claim_reference"}
    data = _sent_again(res, row.id)
    assert pyx12_errors(data.decode()) == []
    assert ":B:8*" in data.decode()
    assert _charge_booked(res, row.id) == row.total_charge  # nothing booked on sending

    result = _answer(res, delivery, remittances[0], [_negated(original)], 702)

    assert (result["reversals"], result["exceptions"]) == (1, 0)
    final = _rows(res)[original.patient_control_number]
    assert final.status == "VOIDED"
    assert _statuses(res, row.id)[-2:] == [("SUBMITTED", "REVERSED"), ("REVERSED", "VOIDED")]
    # Every account of the claim is back to nothing: no receivable, revenue or cash.
    assert {k: v for k, v in _ledger(res, row.id).items() if v} == {}
    assert (final.paid, final.adjusted, final.patient_responsibility) == (0, 0, 0)
    _check_books(res)
    with res.sessions() as session:
        assert check_books(session, [TENANT], LATER) == []


def test_a_denied_claim_replaced_is_paid_on_the_same_claim(res: Resources) -> None:
    delivery, remittances, rows = _adjudicated(res)
    denied = next(c for r in remittances for c in r.claims
                  if rows[c.patient_control_number].status == Status.DENIED)
    row = rows[denied.patient_control_number]
    with res.sessions() as session:
        replace(session, res.store, row.id, {}, "biller", LATER)
    _sent_again(res, row.id, scrub=False)
    paid = copy.deepcopy(denied)
    paid.status_code = "1"
    paid.payer_claim_control_number += "R"
    paid.paid = denied.charge
    paid.adjustments = []
    paid.service_payments = [dataclasses.replace(s, paid=s.charge, adjustments=[])
                             for s in denied.service_payments]
    paid.patient_responsibility = None
    result = _answer(res, delivery, remittances[0], [_negated(denied), paid], 703)
    assert (result["claims_posted"], result["exceptions"]) == (2, 0)
    final = _rows(res)[denied.patient_control_number]
    assert final.status == "PAID" and final.paid == final.total_charge
    assert {k for k, v in _ledger(res, row.id).items() if v and k.startswith("AR")} == set()
    _check_books(res)


def test_replace_and_void_are_refused_with_the_reason(res: Resources) -> None:
    _, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        session.get_one(ClaimRow, row.id).payer_claim_control_number = ""
        session.commit()
        with pytest.raises(ResubmitError, match=r"CLP07.*gave none"):
            void(session, res.store, row.id, "biller", LATER)
        with pytest.raises(CorrectionError, match="say who"):
            replace(session, res.store, row.id, {}, " ", LATER)
        assert session.get_one(ClaimRow, row.id).status == "PAID"
        assert versions_of(session, row.id) == []
    # A claim still with the payer is waited for, not replaced.
    batch, _ = _submitted(res, n=2, seed=45)
    with res.sessions() as session:
        pending = claims_in(session, batch, Status.SUBMITTED)[0]
        with pytest.raises(ResubmitError, match="is SUBMITTED: a replacement follows"):
            replace(session, res.store, pending.id, {}, "biller", LATER)


def test_a_resent_void_is_not_voided_twice_and_a_late_payment_is_an_exception(
        res: Resources) -> None:
    delivery, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        void(session, res.store, row.id, "biller", LATER)
    _sent_again(res, row.id, scrub=False)
    _answer(res, delivery, remittances[0], [_negated(original)], 704)
    again = copy.deepcopy(original)
    again.payer_claim_control_number += "X"
    result = _answer(res, delivery, remittances[0], [again], 705)
    assert result["exceptions"] == 1
    assert _rows(res)[original.patient_control_number].status == "VOIDED"
    with res.sessions() as session:
        assert check_books(session, [TENANT], LATER) == []
        with pytest.raises(ResubmitError, match="is VOIDED"):
            replace(session, res.store, row.id, {}, "biller", LATER)


def test_the_cli_replaces_and_voids_without_values(res: Resources,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, remittances, rows = _adjudicated(res)
    paid = [c for r in remittances for c in r.claims
            if rows[c.patient_control_number].status == Status.PAID][:2]
    first, second = (rows[c.patient_control_number].id for c in paid)
    done = run_cli(res, monkeypatch, "claims", "replace", str(first), "--set",
                   "subscriber.member_id=SYNTHCLI07", "--by", "cy", "--date", f"{LATER}")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        f"claim {first}: replacement (7) version 2 by cy, back to RECEIVED in batch"
        f" {TENANT}-{LATER:%Y%m%d}; changed: subscriber.member_id (changed),"
        " frequency_code (changed), original_claim_reference (changed)")
    voided = run_cli(res, monkeypatch, "claims", "void", str(second), "--by", "cy")
    assert voided.exit_code == 0, voided.output
    assert f"claim {second}: void (8) version 2 by cy" in voided.output
    again = run_cli(res, monkeypatch, "claims", "void", str(first), "--by", "cy")
    assert again.exit_code == 1
    assert f"claim {first} is RECEIVED: a void follows a payer's decision" in again.output
    for output in (done.output, voided.output, again.output):
        assert "SYNTH" not in output
        for payment in paid:
            assert payment.payer_claim_control_number not in output


def test_a_replacement_the_payer_refuses_leaves_the_decision_and_its_charge(
        res: Resources) -> None:
    """The payer's 277CA refuses our replacement (it knows no such original): the claim is
    PAYER_REJECTED for a biller to work, but what the payer decided before stands, so its
    charge stays on the books (a refused new claim's would leave them)."""
    _, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        replace(session, res.store, row.id, {}, "biller", LATER)
    data = _sent_again(res, row.id, scrub=False)
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=LATER, control_numbers=CounterControlNumbers(720), originals={})
    assert answer.claims_rejected == 1 and answer.ack_277ca is not None
    delivery = dataclasses.replace(_last_delivery[row.id], interchange_control_number="000000721")
    res.store.put(answer_key(delivery, PAYER.payer_id, "277CA"), answer.ack_277ca)
    with res.sessions() as session:
        batch = session.get_one(ClaimRow, row.id).batch_id
    assert apply_acknowledgments(res, batch, PAYER.payer_id)["rejected"] == 1

    after = _rows(res)[original.patient_control_number]
    assert after.status == "PAYER_REJECTED" and after.paid == original.paid
    assert _charge_booked(res, row.id) == row.total_charge
    assert _ledger(res, row.id)["CASH"] == original.paid
    _check_books(res)
    with res.sessions() as session:
        assert check_books(session, [TENANT], LATER) == []


def test_a_refused_replacement_finds_its_claim_reversed_meanwhile(res: Resources) -> None:
    """The payer takes back its decision (a reversal of its own) while our replacement is
    with it, then refuses the replacement: the refusal reaches the claim (not dropped as
    unmatched), which waits for a biller with its charge open."""
    delivery, remittances, rows = _adjudicated(res)
    original = _paid(remittances, rows)
    row = rows[original.patient_control_number]
    with res.sessions() as session:
        replace(session, res.store, row.id, {}, "biller", LATER)
    data = _sent_again(res, row.id, scrub=False)
    _answer(res, delivery, remittances[0], [_negated(original)], 730)
    assert _rows(res)[original.patient_control_number].status == "REVERSED"
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=LATER, control_numbers=CounterControlNumbers(731), originals={})
    refused = dataclasses.replace(_last_delivery[row.id], interchange_control_number="000000732")
    assert answer.ack_277ca is not None
    res.store.put(answer_key(refused, PAYER.payer_id, "277CA"), answer.ack_277ca)
    with res.sessions() as session:
        batch = session.get_one(ClaimRow, row.id).batch_id
    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    assert (result["rejected"], result.get("unmatched", 0)) == (1, 0)
    after = _rows(res)[original.patient_control_number]
    assert after.status == "PAYER_REJECTED" and after.paid == 0
    assert _ledger(res, row.id)["AR"] == row.total_charge  # open again, in work
    _check_books(res)
    with res.sessions() as session:
        assert check_books(session, [TENANT], LATER) == []
