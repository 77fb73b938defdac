"""What posting leaves for a biller: denials in the work queue with their reasons, and
payments it could not post in the exception queue with where they are in the 835."""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from revcycle.channels.simulator import SimulatorChannel
from revcycle.codesets.carc import describe_carc, describe_rarc
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import ClaimType
from revcycle.model.remittance import Adjustment, ClaimPayment, Remittance, balance_problems
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.charges import book_charges
from revcycle.pipeline.inbound import InboundFile
from revcycle.pipeline.post import Posting, post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.simulator.payer import PayerBehaviour
from revcycle.status import Status
from revcycle.storage import zone_prefix
from revcycle.x12.tokenizer import SegmentReader
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, factory, ready_batch, twice_at_once
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _all,
    _check_books,
    _negated,
    _payer_remittances,
    _put_835,
    _read_835,
    _rows,
    _submitted,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)


def _edits(res: Resources, claim_id: int) -> list[models.Edit]:
    return [e for e in _all(res, models.Edit) if e.claim_id == claim_id]


def _deny_line(remittance: Remittance, claim: ClaimPayment, index: int) -> None:
    """The payer pays nothing on one line (bundled, CO-97, remark M15)."""
    line = claim.service_payments[index]
    patient = sum((a.amount for a in line.adjustments if a.group_code == "PR"), Decimal(0))
    claim.paid -= line.paid
    remittance.total_paid -= line.paid
    if claim.patient_responsibility is not None:
        claim.patient_responsibility -= patient
    line.paid = Decimal(0)
    line.adjustments = [Adjustment("CO", "97", line.charge)]
    line.remark_codes = ("M15",)


def _deny_claim(remittance: Remittance, claim: ClaimPayment) -> None:
    """The payer denies the whole claim at claim level (CO-50, remark N130 in MOA)."""
    remittance.total_paid -= claim.paid
    claim.status_code, claim.paid, claim.patient_responsibility = "4", Decimal(0), Decimal(0)
    claim.adjustments = [Adjustment("CO", "50", claim.charge)]
    claim.service_payments = []
    claim.other_segments += (("MOA", "", "", "N130"),)


def test_denials_land_in_the_work_queue_with_their_reasons(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, n=40, seed=43)
    remittances = _payer_remittances(data)
    remittance = remittances[0]
    partial, denied = [c for c in remittance.claims
                       if c.paid > 0 and len(c.service_payments) >= 2][:2]
    _deny_line(remittance, partial, 1)
    _deny_claim(remittance, denied)
    assert balance_problems(remittance) == []
    _put_835(res, delivery, remittances, 700)

    post_remittances(res, batch, PAYER.payer_id)

    rows = _rows(res)
    partial_row, denied_row = (rows[c.patient_control_number] for c in (partial, denied))
    assert (partial_row.status, denied_row.status) == (Status.PARTIALLY_PAID, Status.DENIED)
    [claim_edit] = _edits(res, denied_row.id)
    assert (claim_edit.stage, claim_edit.severity, claim_edit.rule_id, claim_edit.field,
            claim_edit.line_number) == ("post", "ERROR", "CARC-CO-50", "835 CAS", None)
    assert describe_carc("50") in claim_edit.message
    assert describe_rarc("N130") in claim_edit.message
    with res.sessions() as session:
        numbers = {line.line_control_number: line.line_number for line in session.scalars(
            select(models.ServiceLine).where(models.ServiceLine.claim_id == partial_row.id))}
    line_number = numbers[partial.service_payments[1].line_control_number]
    [line_edit] = _edits(res, partial_row.id)
    assert (line_edit.rule_id, line_edit.field, line_edit.line_number) \
        == ("CARC-CO-97", "835 LQ", line_number)
    assert describe_carc("97") in line_edit.message
    assert describe_rarc("M15") in line_edit.message
    # A paid claim has nothing to work.
    paid = [rows[c.patient_control_number] for c in remittance.claims
            if rows[c.patient_control_number].status == Status.PAID]
    assert paid and not [e for r in paid for e in _edits(res, r.id)]
    _check_books(res)


def test_an_exception_says_where_the_clp_is_in_the_835(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=44)
    remittances = _payer_remittances(data)
    stray = remittances[0].claims[1]
    stray.patient_control_number = "NOTOURCLAIM002"
    key = _put_835(res, delivery, remittances, 710)

    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 1

    [exception] = [p for p in _all(res, models.Payment) if p.exception]
    assert exception.source_key == key
    assert exception.exception.startswith("Unknown claim")
    segments = list(SegmentReader(res.store.get(key)))
    assert segments[exception.segment_number - 1][:2] == ["CLP", "NOTOURCLAIM002"]
    posted = [p for p in _all(res, models.Payment) if not p.exception]
    assert {p.source_key for p in posted} == {key}
    assert all(segments[p.segment_number - 1][0] == "CLP" for p in posted)


def _replacement(res: Resources, original: ClaimRow) -> int:
    """A replacement claim (frequency 7) for ``original``, sent under the same patient
    control number; its charge on the books."""
    with res.sessions() as session:
        row = ClaimRow(**{c: getattr(original, c) for c in (
            "tenant_id", "batch_id", "file_id", "ordinal", "payer_id", "claim_type",
            "patient_control_number", "billing_npi", "service_date", "total_charge")},
            frequency_code="7", status=Status.SUBMITTED)
        session.add(row)
        session.flush()
        book_charges(session, original.tenant_id, [row.id], DAY)
        session.commit()
        return row.id


def test_a_replacement_takes_the_payment_and_the_original_the_reversal(
        res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=45)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances, 720)
    post_remittances(res, batch, PAYER.payer_id)
    rows = _rows(res)
    original = next(c for c in remittances[0].claims
                    if rows[c.patient_control_number].status == Status.PAID)
    original_id = rows[original.patient_control_number].id
    replacement_id = _replacement(res, rows[original.patient_control_number])
    payment = copy.deepcopy(original)
    payment.payer_claim_control_number += "R"
    # The reversal comes after the new payment: order in the 835 must not matter.
    again = dataclasses.replace(remittances[0], trace_number="REPLACED0001",
                                claims=[payment, _negated(original)],
                                total_paid=Decimal(0), provider_adjustments=[])
    assert balance_problems(again) == []
    _put_835(res, delivery, [again], 721)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert (result["claims_posted"], result["reversals"], result["exceptions"]) == (2, 1, 0)
    with res.sessions() as session:
        status = {r.id: r.status for r in session.scalars(select(ClaimRow).where(
            ClaimRow.id.in_([original_id, replacement_id])))}
    assert status == {original_id: Status.REVERSED, replacement_id: Status.PAID}
    _check_books(res)


def test_a_reversal_of_a_claim_never_paid_is_an_exception_that_says_so(
        res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=46)
    remittances = _payer_remittances(data)
    claim = next(c for c in remittances[0].claims if c.paid > 0)
    reversal = dataclasses.replace(remittances[0], trace_number="NEVERPAID001",
                                   claims=[_negated(claim)], total_paid=claim.paid,
                                   credit_debit_flag="D", provider_adjustments=[])
    assert balance_problems(reversal) == []
    _put_835(res, delivery, [reversal], 730)

    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 1

    [exception] = _all(res, models.Payment)
    assert "never posted" in exception.exception and "SUBMITTED" in exception.exception
    assert _rows(res)[claim.patient_control_number].status == Status.SUBMITTED


def test_the_payers_mistakes_are_queued_and_everything_else_posts(res: Resources) -> None:
    """A claim paid twice and a payment for a claim never sent, as the simulated payer
    makes them: both in the exception queue with their reason, the rest posted."""
    f = factory(TENANT, seed=48, payers=[PAYER.payer_id])
    batch = ready_batch(res, TENANT, f.claims(120, ClaimType.PROFESSIONAL), f.submitter)
    mistakes = PayerBehaviour(rejection_rate=0.0, duplicate_payment_rate=0.1,
                              unknown_claim_rate=0.1)
    submit(res, batch, PAYER, SimulatorChannel(res.store, PAYER, seed=48,
                                               behaviour=mistakes))
    apply_acknowledgments(res, batch, PAYER.payer_id)

    posted = post_remittances(res, batch, PAYER.payer_id)

    [key] = [k for k in res.store.list(zone_prefix(TENANT, "inbound")) if k.endswith("835.x12")]
    clps = [c for r in _read_835(res.store.get(key)) for c in r.claims]
    rows = _rows(res)
    last: dict[str, ClaimPayment] = {}
    expected: dict[int, str] = {}  # segment number -> how the reason starts
    for clp in clps:
        number = clp.patient_control_number
        before = last.get(number)
        if number not in rows:
            expected[clp.segment_number] = "Unknown claim"
        elif before is not None and not before.is_reversal and not clp.is_reversal:
            expected[clp.segment_number] = "Second payment"  # paid again, not reversed
        last[number] = clp
    assert set(expected.values()) == {"Unknown claim", "Second payment"}
    payments = _all(res, models.Payment)
    queued = {p.segment_number: p for p in payments if p.exception}
    assert set(queued) == set(expected)
    assert all(p.exception.startswith(expected[n]) for n, p in queued.items())
    assert all(p.claim_id is None for p in queued.values()
               if p.exception.startswith("Unknown claim"))
    assert posted["exceptions"] == len(expected)
    assert posted["claims_posted"] == len(clps) - len(expected)
    # Each claim was paid once: what it shows is its one posted payment.
    for row in rows.values():
        mine = [p for p in payments if p.claim_id == row.id and not p.exception]
        if row.status in (Status.PAID, Status.PARTIALLY_PAID, Status.DENIED):
            assert row.paid == sum((p.paid for p in mine), Decimal(0))
    queued_dollars = sum((p.paid for p in queued.values()), Decimal(0))
    remitted = sum((c.paid for c in clps), Decimal(0))
    auto = sum((p.paid for p in payments if not p.exception), Decimal(0))
    assert auto + queued_dollars == remitted and 0 < queued_dollars < remitted
    # The queued money is cash all the same, held as unapplied: each remittance's cash in
    # the ledger is what it put in the bank.
    ledger = _all(res, models.LedgerEntry)
    for remittance in _all(res, models.Remittance):
        assert sum((e.amount for e in ledger if e.remittance_id == remittance.id
                    and e.account == "CASH"), Decimal(0)) == remittance.total_paid
    assert sum((e.amount for e in ledger if e.account == "UNAPPLIED_CASH"),
               Decimal(0)) == -queued_dollars
    _check_books(res)


@pytest.mark.parametrize("line_denied", [False, True])
def test_what_the_primary_paid_settles_a_secondary_claim(res: Resources,
                                                         line_denied: bool) -> None:
    """A secondary claim this payer pays nothing on: the primary's payment (OA-23) settles
    it (PAID), or settles all but a line this payer denies (PARTIALLY_PAID, that line's
    reason in the queue); never a denial of the whole claim."""
    batch, [(delivery, data)] = _submitted(res, seed=49)
    remittances = _payer_remittances(data)
    remittance = remittances[0]
    claim = next(c for c in remittance.claims if c.paid > 0 and len(c.service_payments) > 1)
    remittance.total_paid -= claim.paid
    claim.status_code, claim.paid, claim.patient_responsibility = "2", Decimal(0), Decimal(0)
    for line in claim.service_payments:  # what this payer would pay, the primary paid
        contractual = sum((a.amount for a in line.adjustments if a.group_code == "CO"),
                          Decimal(0))
        line.adjustments = [Adjustment("CO", "45", contractual),
                            Adjustment("OA", "23", line.charge - contractual)]
        line.paid = Decimal(0)
    denied = claim.service_payments[0].charge if line_denied else Decimal(0)
    if line_denied:
        _deny_line(remittance, claim, 0)
    assert balance_problems(remittance) == []
    _put_835(res, delivery, remittances, 720)
    with res.sessions() as session:  # we sent it as the secondary claim it is (SBR01 S)
        session.execute(update(ClaimRow).where(
            ClaimRow.patient_control_number == claim.patient_control_number).values(
            payer_responsibility="S"))
        session.commit()

    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 0

    row = _rows(res)[claim.patient_control_number]
    # The denied line stays receivable (AR_DENIED) until worked: not adjusted.
    assert row.paid == 0 and row.adjusted == row.total_charge - denied
    edits = _edits(res, row.id)
    if line_denied:
        assert row.status == Status.PARTIALLY_PAID
        assert [(e.rule_id, e.line_number) for e in edits] == [("CARC-CO-97", 1)]
    else:
        assert row.status == Status.PAID and edits == []
    _check_books(res)


def test_a_crash_while_posting_is_finished_by_the_next_run(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two 835 files; the database goes away once the second one's rows are written, before
    they commit. The first stays posted, the second posts on the next run, nothing twice."""
    batch, [(delivery, data)] = _submitted(res, n=40, seed=50)
    remittances = _payer_remittances(data)
    assert len(remittances) >= 2
    _put_835(res, delivery, remittances[:1], 740)
    _put_835(res, delivery, remittances[1:], 741)
    write = Posting.write
    writes: list[int] = []

    def crash_on_the_second_file(posting: Posting) -> None:
        write(posting)
        writes.append(1)
        if len(writes) == 2:
            raise ConnectionError("simulated crash: the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(Posting, "write", crash_on_the_second_file)
        with pytest.raises(ConnectionError):
            post_remittances(res, batch, PAYER.payer_id)
    [first] = _all(res, models.Remittance)
    assert first.status == "POSTED"
    first_claims = {c.patient_control_number for c in remittances[0].claims}
    assert {p.claim_id for p in _all(res, models.Payment)} == {
        r.id for n, r in _rows(res).items() if n in first_claims}

    result = post_remittances(res, batch, PAYER.payer_id)

    assert (result["remittances"], result["duplicates"]) == (len(remittances) - 1, 0)
    assert sorted(r.trace_number for r in _all(res, models.Remittance)) == sorted(
        r.trace_number for r in remittances)
    paid = [c for r in remittances for c in r.claims]
    assert len(_all(res, models.Payment)) == len(paid)
    rows = _rows(res)
    assert all(rows[c.patient_control_number].paid == c.paid for c in paid)
    assert post_remittances(res, batch, PAYER.payer_id)["remittances"] == 0
    _check_books(res)


def test_two_runs_posting_at_once_post_each_835_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run started while the scheduled run posts the same batch: both reach the
    first file together; one applies it, the other finds it taken and goes on."""
    batch, [(delivery, data)] = _submitted(res, n=40, seed=58)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances[:1], 750)
    _put_835(res, delivery, remittances[1:], 751)
    results = twice_at_once(monkeypatch, InboundFile, "record",
                            lambda: post_remittances(res, batch, PAYER.payer_id))

    assert sum(r["remittances"] for r in results) == len(remittances)
    assert sum(r["duplicates"] for r in results) == 0
    assert len(_all(res, models.Remittance)) == len(remittances)
    assert len(_all(res, models.Payment)) == sum(len(r.claims) for r in remittances)
    assert len([f for f in _all(res, models.File) if f.format == "835"]) == 2
    _check_books(res)
