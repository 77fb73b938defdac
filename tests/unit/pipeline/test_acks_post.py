"""Acknowledgments (999, 277CA) and posting (835) on what a payer sends back."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from revcycle.channels import Delivery
from revcycle.channels.simulator import SimulatorChannel, answer_key
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.acknowledgment import (
    ElementError,
    FunctionalAck,
    SegmentError,
    TransactionSetAck,
)
from revcycle.model.claim import ClaimType
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    balance_problems,
)
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import move
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import ADJUDICATED, Status
from revcycle.x12.ack999 import write_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    PAYERS,
    RecordingChannel,
    counts,
    factory,
    ready_batch,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

TENANT = "riverbend"
PAYER = PAYERS["SIMC1"]
FROM_PAYER = InterchangeHeader(Party(PAYER.payer_id), Party("REVCYCLE"), usage_indicator="T")


def _rows(res: Resources) -> dict[str, ClaimRow]:
    with res.sessions() as session:
        return {r.patient_control_number: r for r in session.scalars(select(ClaimRow))}


def _all(res: Resources, table: type) -> list:
    with res.sessions() as session:
        return list(session.scalars(select(table).order_by(table.id)))


def _submitted(res: Resources, n: int = 30, seed: int = 31,
               claim_type: ClaimType | None = ClaimType.PROFESSIONAL,
               ) -> tuple[str, list[tuple[Delivery, bytes]]]:
    """Claims of one payer sent through a channel that answers nothing."""
    f = factory(TENANT, seed=seed, payers=[PAYER.payer_id])
    batch = ready_batch(res, TENANT, f.claims(n, claim_type), f.submitter)
    channel = RecordingChannel()
    submit(res, batch, PAYER, channel)
    return batch, channel.deliveries


def _payer_remittances(data: bytes) -> list[Remittance]:
    """What the simulated payer pays for a submitted 837."""
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=date(2026, 11, 2), control_numbers=CounterControlNumbers(900))
    assert answer.remittance_835 is not None
    return _read_835(answer.remittance_835)


def _read_835(data: bytes) -> list[Remittance]:
    return X12Reader(data, {"835": parse_835}).read().bodies(Remittance)


def _put_835(res: Resources, delivery: Delivery, remittances: list[Remittance],
             number: int) -> str:
    """An 835 from the payer in the batch's inbound zone (``number`` names the file)."""
    written = write_835(remittances, FROM_PAYER, CounterControlNumbers(interchange=number))
    key = answer_key(dataclasses.replace(delivery, interchange_control_number=f"{number:09d}"),
                     PAYER.payer_id, "835")
    res.store.put(key, written.text.encode())
    return key


def _check_books(res: Resources) -> None:
    """Every adjudicated claim balances (billed = paid + adjusted + patient responsibility
    + receivable in AR_DENIED or AR_NEXT_PAYER); the ledger is double entry, claim by claim."""
    rows = list(_rows(res).values())
    with res.sessions() as session:
        ledger = session.execute(select(models.LedgerEntry.claim_id, models.LedgerEntry.account,
                                        models.LedgerEntry.amount)).all()
    accounts: dict[int | None, Counter] = defaultdict(Counter)
    for claim_id, account, amount in ledger:
        accounts[claim_id][account] += amount
    for row in rows:
        assert sum(accounts[row.id].values()) == 0
        if row.status in ADJUDICATED:
            # What payers still owe (denied in work, the next payer's) is receivable.
            receivable = sum((v for k, v in accounts[row.id].items() if k.startswith("AR")),
                             Decimal(0))
            assert row.total_charge == (row.paid + row.adjusted + row.patient_responsibility
                                        + receivable)
            assert accounts[row.id]["AR"] == 0
            assert accounts[row.id]["CASH"] == row.paid
    assert sum(sum(a.values()) for a in accounts.values()) == 0


def _negated(payment: ClaimPayment) -> ClaimPayment:
    """The reversal of a payment: CLP02 22, every amount negated."""
    def adjustments(items: list[Adjustment]) -> list[Adjustment]:
        return [dataclasses.replace(a, amount=-a.amount) for a in items]

    reversal = copy.deepcopy(payment)
    reversal.status_code = "22"
    reversal.charge, reversal.paid = -payment.charge, -payment.paid
    reversal.patient_responsibility = -(payment.patient_responsibility or Decimal(0))
    reversal.adjustments = adjustments(payment.adjustments)
    reversal.service_payments = [
        dataclasses.replace(s, charge=-s.charge, paid=-s.paid,
                            adjustments=adjustments(s.adjustments))
        for s in payment.service_payments]
    return reversal


# --- 999 and 277CA --------------------------------------------------------------------


def test_the_simulated_payers_answers_are_applied_and_posted(res: Resources) -> None:
    f = factory(TENANT, seed=32, payers=[PAYER.payer_id])
    sim = f.generate(40, ClaimType.PROFESSIONAL, defect_rate=0.25, defects=("NPI-01",))
    assert sim.defects
    batch = ready_batch(res, TENANT, sim.claims, f.submitter)
    submit(res, batch, PAYER, SimulatorChannel(res.store, PAYER))

    acks = apply_acknowledgments(res, batch, PAYER.payer_id)

    assert (acks["files"], acks["sets_rejected"], acks["unmatched"]) == (2, 0, 0)
    assert acks["accepted"] + acks["rejected"] == 40
    rows = _rows(res)
    [sub] = _all(res, models.Submission)
    assert sub.status == "ACKNOWLEDGED"
    acknowledgments = {a.kind: a for a in _all(res, models.Acknowledgment)}
    assert (acknowledgments["999"].submission_id, acknowledgments["999"].status,
            acknowledgments["999"].accepted, acknowledgments["999"].rejected) \
        == (sub.id, "A", 1, 0)
    assert (acknowledgments["277CA"].accepted, acknowledgments["277CA"].rejected) \
        == (acks["accepted"], acks["rejected"])
    edits = _all(res, models.Edit)
    by_claim = defaultdict(list)
    for edit in edits:
        by_claim[edit.claim_id].append(edit)
    # Every claim with a broken NPI was rejected with the payer's reason as an edit.
    for pcn in sim.defects:
        assert rows[pcn].status == Status.PAYER_REJECTED
        assert "277CA-A7:562" in {e.rule_id for e in by_claim[rows[pcn].id]}
    rejected = [r for r in rows.values() if r.status == Status.PAYER_REJECTED]
    assert len(rejected) == acks["rejected"]
    phi = {v for c in sim.claims for v in (c.subscriber.member_id, c.subscriber.last_name)}
    for row in rejected:
        [edit] = by_claim[row.id]
        assert (edit.stage, edit.severity, edit.field) == ("acks", "ERROR", "277CA STC01")
        assert edit.rule_id.startswith("277CA-A")
        assert not [v for v in phi if v in edit.message]
    accepted = [r for r in rows.values() if r.status == Status.ACCEPTED]
    assert len(accepted) == acks["accepted"] == 40 - len(rejected)
    assert all(r.payer_claim_control_number and r.id not in by_claim for r in accepted)

    posted = post_remittances(res, batch, PAYER.payer_id)

    assert (posted["claims_posted"], posted["exceptions"], posted["held"]) \
        == (len(accepted), 0, 0)
    rows = _rows(res)
    assert all(rows[r.patient_control_number].status in ADJUDICATED for r in accepted)
    assert all(r.status == Status.PAYER_REJECTED for r in rows.values()
               if r.id in {x.id for x in rejected})
    payments = _all(res, models.Payment)
    assert sorted(p.claim_id for p in payments) == sorted(r.id for r in accepted)
    assert Decimal(posted["paid"]) == sum((r.paid for r in rows.values()), Decimal(0))
    _check_books(res)

    # Nothing is applied twice.
    before = counts(res)
    assert apply_acknowledgments(res, batch, PAYER.payer_id)["files"] == 0
    assert post_remittances(res, batch, PAYER.payer_id)["remittances"] == 0
    assert counts(res) == before


def _999(submission: models.Submission, version: str,
         set_ack: TransactionSetAck) -> FunctionalAck:
    return FunctionalAck.for_sets("HC", submission.group_control_number, version, [set_ack])


def test_a_999_that_rejects_a_set_rejects_its_claims_with_the_detail(res: Resources) -> None:
    batch, deliveries = _submitted(res, n=40, seed=33, claim_type=None)
    subs = {s.claim_type: s for s in _all(res, models.Submission)}
    assert set(subs) == {"837P", "837I"}
    delivery = {d.interchange_control_number: d for d, _ in deliveries}
    pro, inst = subs["837P"], subs["837I"]
    [(pro_set, pro_claims)] = pro.transaction_control_numbers.items()
    [(inst_set, inst_claims)] = inst.transaction_control_numbers.items()
    bad_value = "XQB123456789"  # IK404 copies the bad data: it must not reach an edit
    rejection = TransactionSetAck("837", pro_set, "005010X222A1", "R", ("5",), [
        SegmentError("NM1", 12, "2010", "8", element_errors=[
            ElementError(9, "7", "67", bad_data=bad_value)])])
    acceptance = TransactionSetAck("837", inst_set, "005010X223A2", "A")
    for number, (sub, group) in enumerate(
            [(pro, _999(pro, "005010X222A1", rejection)),
             (inst, _999(inst, "005010X223A2", acceptance))], start=500):
        written = write_999([group], FROM_PAYER, CounterControlNumbers(interchange=number))
        res.store.put(answer_key(delivery[sub.interchange_control_number], PAYER.payer_id,
                                 "999"), written.text.encode())

    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    assert (result["files"], result["sets_rejected"]) == (2, 1)
    rows = {r.id: r for r in _rows(res).values()}
    assert {rows[i].status for i in pro_claims} == {Status.PAYER_REJECTED}
    assert {rows[i].status for i in inst_claims} == {Status.SUBMITTED}
    edits = _all(res, models.Edit)
    assert sorted(e.claim_id for e in edits) == sorted(pro_claims)
    for edit in edits:
        assert (edit.rule_id, edit.field, edit.stage) == ("999-R", "999 IK3/IK4", "acks")
        assert "segment NM1 at position 12 in loop 2010 (error 8; element 9 error 7)" \
            in edit.message
        assert bad_value not in edit.message
    statuses = {s.claim_type: s.status for s in _all(res, models.Submission)}
    assert statuses == {"837P": "REJECTED", "837I": "ACKNOWLEDGED"}
    acks = {(a.submission_id, a.status, a.accepted, a.rejected)
            for a in _all(res, models.Acknowledgment)}
    assert acks == {(pro.id, "R", 0, 1), (inst.id, "A", 1, 0)}
    with res.sessions() as session:
        events = Counter(session.scalars(select(models.ClaimEvent.claim_id).where(
            models.ClaimEvent.to_status == "PAYER_REJECTED")))
    assert events == Counter(dict.fromkeys(pro_claims, 1))


def test_a_rejection_after_a_received_277ca_rejects_the_claim(res: Resources) -> None:
    """Payers answer in two steps: A1 ("received") first, then, days later, a rejection
    (A3) for the same claim. The rejection applies to the claim the A1 left ACCEPTED;
    before, it found no SUBMITTED claim and was counted unmatched, and the claim waited
    for a payment that never came."""
    batch, [(delivery, data)] = _submitted(res, n=6, seed=35)
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=date(2026, 11, 2), control_numbers=CounterControlNumbers(700))
    assert answer.ack_277ca is not None and b"STC*A2:20" in answer.ack_277ca
    received = answer.ack_277ca.replace(b"STC*A2:20", b"STC*A1:19")
    rejected = answer.ack_277ca.replace(b"STC*A2:20", b"STC*A3:33")
    first = dataclasses.replace(delivery, interchange_control_number="000000701")
    res.store.put(answer_key(first, PAYER.payer_id, "277CA"), received)
    step_one = apply_acknowledgments(res, batch, PAYER.payer_id)
    later = dataclasses.replace(delivery, interchange_control_number="000000702")
    res.store.put(answer_key(later, PAYER.payer_id, "277CA"), rejected)

    step_two = apply_acknowledgments(res, batch, PAYER.payer_id)

    taken = answer.claims_accepted
    assert (step_one["accepted"], step_two["rejected"], step_two["unmatched"]) == (
        taken, taken, answer.claims_rejected)
    statuses = Counter(r.status for r in _rows(res).values())
    assert statuses[Status.ACCEPTED] == 0 and statuses[Status.PAYER_REJECTED] == len(
        _rows(res))
    assert {e.rule_id for e in _all(res, models.Edit)} >= {"277CA-A3:33"}


@pytest.mark.parametrize("category", ["A0:20", "A5:20"])
def test_a_forwarded_or_split_claim_is_accepted(res: Resources, category: str) -> None:
    """A0 (forwarded) and A5 (acknowledged, split) take the claim in as A2 does: the
    claim is ACCEPTED with its payer claim number, not rejected."""
    batch, [(delivery, data)] = _submitted(res, n=6, seed=36)
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=date(2026, 11, 2), control_numbers=CounterControlNumbers(710))
    assert answer.ack_277ca is not None and b"STC*A2:20" in answer.ack_277ca
    res.store.put(answer_key(delivery, PAYER.payer_id, "277CA"),
                  answer.ack_277ca.replace(b"STC*A2:20", f"STC*{category}".encode()))

    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    taken = answer.claims_accepted
    assert (result["accepted"], result["rejected"]) == (taken, answer.claims_rejected)
    rows = _rows(res).values()
    assert sum(r.status == Status.ACCEPTED for r in rows) == taken
    assert all(r.payer_claim_control_number for r in rows if r.status == Status.ACCEPTED)
    assert not any(e.rule_id.startswith(f"277CA-{category[:2]}")
                   for e in _all(res, models.Edit))


def test_a_pending_277ca_leaves_the_claim_as_it_was(res: Resources) -> None:
    """P0-P5 (pending) say the claim is in process: informational. A claim the first
    277CA accepted stays ACCEPTED (no PAYER_REJECTED, no edit), counted as pending."""
    batch, [(delivery, data)] = _submitted(res, n=6, seed=37)
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=date(2026, 11, 2), control_numbers=CounterControlNumbers(720))
    assert answer.ack_277ca is not None
    first = dataclasses.replace(delivery, interchange_control_number="000000721")
    res.store.put(answer_key(first, PAYER.payer_id, "277CA"), answer.ack_277ca)
    step_one = apply_acknowledgments(res, batch, PAYER.payer_id)
    before = {pcn: (r.status, r.payer_claim_control_number) for pcn, r in _rows(res).items()}
    pending = answer.ack_277ca.replace(b"STC*A2:20", b"STC*P1:20")
    later = dataclasses.replace(delivery, interchange_control_number="000000722")
    res.store.put(answer_key(later, PAYER.payer_id, "277CA"), pending)

    step_two = apply_acknowledgments(res, batch, PAYER.payer_id)

    taken = answer.claims_accepted
    assert step_one["accepted"] == taken > 0
    assert (step_two["pending"], step_two["accepted"], step_two["rejected"]) == (
        taken, 0, 0)
    assert {pcn: (r.status, r.payer_claim_control_number)
            for pcn, r in _rows(res).items()} == before
    assert not any(e.rule_id.startswith("277CA-P") for e in _all(res, models.Edit))


# --- 835 posting ------------------------------------------------------------------------


def test_the_same_835_imported_twice_posts_once(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=34)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances, 600)
    first = post_remittances(res, batch, PAYER.payer_id)
    assert first["claims_posted"] == sum(len(r.claims) for r in remittances) > 0
    before = counts(res)

    # The payer sends it again in another interchange (other bytes, same TRN02s).
    _put_835(res, delivery, _read_835(res.store.get(
        answer_key(dataclasses.replace(delivery, interchange_control_number="000000600"),
                   PAYER.payer_id, "835"))), 601)
    again = post_remittances(res, batch, PAYER.payer_id)

    assert (again["remittances"], again["duplicates"], again["claims_posted"]) \
        == (len(remittances), len(remittances), 0)
    after = counts(res)
    assert after.pop("files") == before.pop("files") + 1  # the file is recorded as seen
    assert after == before
    _check_books(res)


def test_an_unbalanced_835_is_held_and_posts_nothing(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, n=40, seed=35)
    remittances = _payer_remittances(data)
    assert len(remittances) >= 2  # one per billing provider
    unbalanced = remittances[0]
    unbalanced.claims[0].paid += Decimal("7.77")  # CLP04 no longer matches CAS nor BPR02
    _put_835(res, delivery, remittances, 610)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["held"] == 1
    held, *posted = _all(res, models.Remittance)
    assert (held.trace_number, held.status) == (unbalanced.trace_number, "HELD")
    problems = held.reason["unbalanced"]
    assert any(p.startswith("claims[0]:") for p in problems)
    assert any(p.startswith("transaction:") for p in problems)
    assert "7.77" not in json.dumps(held.reason) and "7.7" not in json.dumps(held.reason)
    assert all(r.status == "POSTED" for r in posted)
    payments = _all(res, models.Payment)
    assert {p.remittance_id for p in payments} == {r.id for r in posted}
    assert not [e for e in _all(res, models.LedgerEntry) if e.remittance_id == held.id]
    rows = _rows(res)
    assert {rows[c.patient_control_number].status for c in unbalanced.claims} \
        == {Status.SUBMITTED}
    assert result["claims_posted"] == sum(len(r.claims) for r in remittances[1:])
    _check_books(res)


def test_a_payment_for_an_unknown_claim_is_an_exception(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=36)
    remittances = _payer_remittances(data)
    stray = remittances[0].claims[0]
    known = stray.patient_control_number
    stray.patient_control_number = "NOTOURCLAIM001"
    _put_835(res, delivery, remittances, 620)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["exceptions"] == 1
    assert result["claims_posted"] == sum(len(r.claims) for r in remittances) - 1
    [exception] = [p for p in _all(res, models.Payment) if p.exception]
    assert exception.claim_id is None and exception.paid == stray.paid
    assert "no claim" in exception.exception
    assert _rows(res)[known].status == Status.SUBMITTED
    assert {r.status for r in _all(res, models.Remittance)} == {"POSTED"}
    _check_books(res)


def test_a_payment_for_a_claim_that_awaits_none_is_an_exception(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=37)
    remittances = _payer_remittances(data)
    rejected_pcn = remittances[0].claims[0].patient_control_number
    rejected = _rows(res)[rejected_pcn]
    with res.sessions() as session:  # the payer's 277CA rejected it, yet it is paid
        move(session, [rejected.id], Status.SUBMITTED, Status.PAYER_REJECTED, "acks")
        session.commit()
    _put_835(res, delivery, remittances, 630)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["exceptions"] == 1
    assert result["claims_posted"] == sum(len(r.claims) for r in remittances) - 1
    [exception] = [p for p in _all(res, models.Payment) if p.exception]
    assert exception.claim_id == rejected.id and "PAYER_REJECTED" in exception.exception
    assert _rows(res)[rejected_pcn].status == Status.PAYER_REJECTED
    _check_books(res)

    # A second payment for a claim paid already is an exception too.
    paid = next(c for c in remittances[0].claims[1:] if c.paid > 0)
    again = dataclasses.replace(remittances[0], trace_number="SECONDPAYMENT1", claims=[paid],
                                total_paid=paid.paid, provider_adjustments=[])
    _put_835(res, delivery, [again], 631)
    before = _rows(res)[paid.patient_control_number]
    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 1
    after = _rows(res)[paid.patient_control_number]
    assert (after.status, after.paid) == (before.status, before.paid)
    _check_books(res)


def test_a_reversal_and_its_correction_leave_the_right_net(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, n=40, seed=38)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances, 640)
    post_remittances(res, batch, PAYER.payer_id)
    rows = _rows(res)
    original, line, cut = next(
        (c, s, a) for r in remittances for c in r.claims
        if rows[c.patient_control_number].status == Status.PAID
        for s in c.service_payments for a in s.adjustments
        if a.group_code == "CO" and a.amount >= 5)
    before = rows[original.patient_control_number]
    # The payer takes its payment back and pays 5.00 more on one line.
    correction = copy.deepcopy(original)
    fixed_line = correction.service_payments[original.service_payments.index(line)]
    fixed_cut = fixed_line.adjustments[line.adjustments.index(cut)]
    fixed_cut.amount -= 5
    fixed_line.paid += 5
    correction.paid += 5
    correction.payer_claim_control_number += "C"
    reissue = dataclasses.replace(remittances[0], trace_number="REISSUE0001",
                                  claims=[_negated(original), correction],
                                  total_paid=Decimal("5.00"), provider_adjustments=[])
    assert balance_problems(reissue) == []
    _put_835(res, delivery, [reissue], 641)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert (result["claims_posted"], result["reversals"], result["exceptions"]) == (2, 1, 0)
    after = _rows(res)[original.patient_control_number]
    assert after.status == Status.PAID
    assert after.paid == before.paid + 5
    assert after.adjusted == before.adjusted - 5
    assert after.patient_responsibility == before.patient_responsibility
    assert after.payer_claim_control_number == correction.payer_claim_control_number
    with res.sessions() as session:
        history = [(e.from_status, e.to_status) for e in session.scalars(
            select(models.ClaimEvent).where(models.ClaimEvent.claim_id == after.id)
            .order_by(models.ClaimEvent.id))][-3:]
        line_paid = sum(session.scalars(select(models.ServiceLine.paid).where(
            models.ServiceLine.claim_id == after.id)), Decimal(0))
    assert history == [("SUBMITTED", "PAID"), ("PAID", "REVERSED"), ("REVERSED", "PAID")]
    assert line_paid == after.paid
    _check_books(res)


def test_a_provider_level_adjustment_lands_in_the_ledger(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=39)
    remittances = _payer_remittances(data)
    remittance = next(r for r in remittances if r.total_paid > 20)
    recovery = ProviderAdjustment(remittance.payee.id, date(2026, 12, 31), "WO",
                                  Decimal("12.50"), "RECOUP00001")
    remittance.provider_adjustments.append(recovery)
    remittance.total_paid -= recovery.amount  # withheld from this payment
    assert balance_problems(remittance) == []
    _put_835(res, delivery, remittances, 650)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["held"] == 0
    row = next(r for r in _all(res, models.Remittance)
               if r.trace_number == remittance.trace_number)
    entries = [e for e in _all(res, models.LedgerEntry) if e.remittance_id == row.id]
    provider_level = sorted((e.account, e.amount, e.memo) for e in entries
                            if e.claim_id is None)
    assert provider_level == [("CASH", Decimal("-12.50"), "PLB WO"),
                              ("PROVIDER_ADJUSTMENT", Decimal("12.50"), "PLB WO")]
    # What the remittance put in the bank is its BPR02.
    assert sum((e.amount for e in entries if e.account == "CASH"), Decimal(0)) \
        == remittance.total_paid
    _check_books(res)


# --- gaps found while writing these tests -----------------------------------------------


def test_a_corrected_835_for_a_held_one_posts(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=40)
    remittances = _payer_remittances(data)
    good = copy.deepcopy(remittances)
    remittances[0].claims[0].paid += 1
    _put_835(res, delivery, remittances, 660)
    assert post_remittances(res, batch, PAYER.payer_id)["held"] == 1

    _put_835(res, delivery, good, 661)
    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["claims_posted"] == len(good[0].claims)


@pytest.mark.parametrize("kind", ["999", "277CA", "835"])
def test_an_unreadable_payer_file_does_not_block_the_others(res: Resources, kind: str) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=41)
    SimulatorChannel(res.store, PAYER).send(delivery, data)
    broken = dataclasses.replace(delivery, interchange_control_number="000000000")
    res.store.put(answer_key(broken, PAYER.payer_id, kind), b"ISA*00*BROKEN~")  # listed first

    if kind == "835":
        assert post_remittances(res, batch, PAYER.payer_id)["claims_posted"] > 0
    else:
        assert apply_acknowledgments(res, batch, PAYER.payer_id)["files"] == 2
    quarantined = [f for f in _all(res, models.File) if f.status == "QUARANTINED"]
    assert len(quarantined) == 1 and quarantined[0].reason["code"]


def test_check_books_catches_an_unbalanced_claim(res: Resources) -> None:
    """The balance check used above is not vacuous."""
    batch, [(delivery, data)] = _submitted(res, n=10, seed=42)
    _put_835(res, delivery, _payer_remittances(data), 670)
    post_remittances(res, batch, PAYER.payer_id)
    _check_books(res)
    with res.sessions() as session:
        row = session.scalars(select(ClaimRow).where(
            ClaimRow.status.in_([s.value for s in ADJUDICATED]))).first()
        row.paid += Decimal("0.01")
        session.commit()
    with pytest.raises(AssertionError):
        _check_books(res)
