"""Payer rejections (999 group and set, 277CA at claim, provider and receiver level): every
claim they cover is PAYER_REJECTED with the reason described, and its charge leaves A/R."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from revcycle.channels.simulator import answer_key
from revcycle.codesets.ack999_errors import describe_element_error, describe_segment_error
from revcycle.codesets.claim_status import describe_claim_status, describe_claim_status_category
from revcycle.db import models
from revcycle.model.acknowledgment import (
    ClaimAckReport,
    ElementError,
    FunctionalAck,
    SegmentError,
    StatusInfo,
    TransactionSetAck,
)
from revcycle.model.claim import ClaimType
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import move
from revcycle.pipeline.charges import unbook_charges
from revcycle.pipeline.reconcile import check_books
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.x12.ack277 import parse_277, write_277ca
from revcycle.x12.ack999 import write_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.writer import CounterControlNumbers
from tests.unit.pipeline.conftest import BOTH_DATABASES, RecordingChannel, factory, ready_batch
from tests.unit.pipeline.test_acks_post import FROM_PAYER, PAYER, TENANT, _all, _rows, _submitted

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
AS_OF = date(2026, 12, 31)


def _ledger(res: Resources) -> dict[int | None, Counter]:
    """Each claim's balance by account."""
    accounts: dict[int | None, Counter] = defaultdict(Counter)
    for entry in _all(res, models.LedgerEntry):
        accounts[entry.claim_id][entry.account] += entry.amount
    return accounts


def _assert_off_the_books(res: Resources) -> None:
    """Rejected claims carry no A/R and no revenue; the others keep their charge; the
    closing checks pass."""
    ledger = _ledger(res)
    rows = list(_rows(res).values())
    assert any(r.status == Status.PAYER_REJECTED for r in rows)
    for row in rows:
        assert sum(ledger[row.id].values()) == 0
        owed = Decimal(0) if row.status == Status.PAYER_REJECTED else row.total_charge
        assert (ledger[row.id]["AR"], ledger[row.id]["REVENUE"]) == (owed, -owed)
    with res.sessions() as session:
        assert check_books(session, [TENANT], AS_OF) == []


def _claim_ids(res: Resources, status: Status) -> set[int]:
    return {r.id for r in _rows(res).values() if r.status == status}


# --- 999 --------------------------------------------------------------------------------


def _put_999(res: Resources, deliveries: list, submission: models.Submission,
             group: FunctionalAck, number: int) -> None:
    [delivery] = [d for d, _ in deliveries
                  if d.interchange_control_number == submission.interchange_control_number]
    written = write_999([group], FROM_PAYER, CounterControlNumbers(interchange=number))
    res.store.put(answer_key(delivery, PAYER.payer_id, "999"), written.text.encode())


def test_a_999_that_rejects_the_group_without_set_detail_rejects_every_claim(
        res: Resources) -> None:
    """AK9=R with no AK2 at all: the payer refused the whole functional group, so every
    claim of the submission its AK1-02 names is rejected (before, none was: they waited
    SUBMITTED for answers that never come)."""
    batch, deliveries = _submitted(res, n=12, seed=61)
    [submission] = _all(res, models.Submission)
    group = FunctionalAck("HC", submission.group_control_number, "005010X222A1", "R",
                          sets_included=1, sets_received=1, sets_accepted=0,
                          error_codes=("5",))
    _put_999(res, deliveries, submission, group, 800)

    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    claims = {c for ids in submission.transaction_control_numbers.values() for c in ids}
    assert result["sets_rejected"] == len(submission.transaction_control_numbers) == 1
    assert _claim_ids(res, Status.PAYER_REJECTED) == claims == {r.id for r in
                                                                 _rows(res).values()}
    edits = _all(res, models.Edit)
    assert sorted(e.claim_id for e in edits) == sorted(claims)
    for edit in edits:
        assert (edit.rule_id, edit.stage, edit.severity) == ("999-R", "acks", "ERROR")
        assert "functional group" in edit.message and "AK9 codes 5" in edit.message
    [sub] = _all(res, models.Submission)
    assert sub.status == "REJECTED"
    _assert_off_the_books(res)


def test_a_999_set_rejection_describes_its_segment_and_element_errors(
        res: Resources) -> None:
    batch, deliveries = _submitted(res, n=8, seed=62)
    [submission] = _all(res, models.Submission)
    [(set_number, claims)] = submission.transaction_control_numbers.items()
    bad_value = "XQB987654321"  # IK404 copies the bad data: never in an edit
    rejection = TransactionSetAck("837", set_number, "005010X222A1", "R", ("5",), [
        SegmentError("NM1", 12, "2010", "8", element_errors=[
            ElementError(9, "7", "67", bad_data=bad_value),
            ElementError(3, "1", "1035")]),
        SegmentError("DTP", 30, "2400", "I6")])
    group = FunctionalAck.for_sets("HC", submission.group_control_number, "005010X222A1",
                                   [rejection])
    _put_999(res, deliveries, submission, group, 810)

    apply_acknowledgments(res, batch, PAYER.payer_id)

    assert _claim_ids(res, Status.PAYER_REJECTED) == set(claims)
    edits = _all(res, models.Edit)
    assert len(edits) == len(claims)
    for edit in edits:
        assert "segment NM1 at position 12 in loop 2010 (error 8; element 9 error 7" \
            in edit.message
        for description in (describe_segment_error("8"), describe_segment_error("I6"),
                            describe_element_error("7"), describe_element_error("1")):
            assert description in edit.message
        assert bad_value not in edit.message
    _assert_off_the_books(res)


# --- 277CA ------------------------------------------------------------------------------


def _answer_277(res: Resources, seed: int, n: int = 30) -> tuple[str, object, list]:
    """Submitted claims and the simulated payer's 277CA for them, read back as reports."""
    batch, [(delivery, data)] = _submitted(res, n=n, seed=seed)
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=date(2026, 11, 2), control_numbers=CounterControlNumbers(830))
    assert answer.ack_277ca is not None
    reports = X12Reader(answer.ack_277ca, {"277": parse_277}).read().bodies(ClaimAckReport)
    return batch, delivery, reports


def _put_277(res: Resources, delivery: object, reports: list[ClaimAckReport],
             number: int) -> None:
    written = write_277ca(reports, FROM_PAYER, CounterControlNumbers(interchange=number))
    later = dataclasses.replace(delivery, interchange_control_number=f"{number:09d}")
    res.store.put(answer_key(later, PAYER.payer_id, "277CA"), written.text.encode())


def _accept_every_claim(reports: list[ClaimAckReport]) -> None:
    for report in reports:
        for claim in report.claims:
            claim.statuses = [StatusInfo("A2", "20")]
            claim.action_code = "WQ"
            claim.payer_claim_control_number = claim.payer_claim_control_number or "PCN1"


def test_a_receiver_level_rejection_rejects_every_claim_of_the_report(
        res: Resources) -> None:
    batch, delivery, reports = _answer_277(res, seed=63)
    _accept_every_claim(reports)
    [report] = reports
    assert report.receiver is not None
    report.receiver.statuses = [StatusInfo("A7", "562", "85")]
    report.receiver.action_code = "U"
    _put_277(res, delivery, reports, 840)

    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    assert (result["accepted"], result["rejected"]) == (0, len(report.claims))
    assert _claim_ids(res, Status.PAYER_REJECTED) == {r.id for r in _rows(res).values()}
    edits = _all(res, models.Edit)
    assert len(edits) == len(report.claims)
    for edit in edits:
        assert (edit.rule_id, edit.field) == ("277CA-A7:562", "277CA 2200B STC01")
        assert describe_claim_status_category("A7") in edit.message
        assert describe_claim_status("562") in edit.message
        assert "every claim" in edit.message
    _assert_off_the_books(res)


def test_a_provider_level_rejection_rejects_that_providers_claims_only(
        res: Resources) -> None:
    batch, delivery, reports = _answer_277(res, seed=64, n=40)
    _accept_every_claim(reports)
    [report] = reports
    assert len(report.billing_providers) >= 2
    refused = report.billing_providers[0]
    refused.statuses = [StatusInfo("A6", "35", "85")]
    refused.action_code = "U"
    _put_277(res, delivery, reports, 850)

    result = apply_acknowledgments(res, batch, PAYER.payer_id)

    under = {c.patient_control_number for c in report.claims if c.billing_provider is refused}
    assert 0 < len(under) < len(report.claims)
    assert (result["rejected"], result["accepted"]) == (len(under),
                                                        len(report.claims) - len(under))
    rows = _rows(res)
    assert {pcn for pcn, r in rows.items() if r.status == Status.PAYER_REJECTED} == under
    assert {r.status for pcn, r in rows.items() if pcn not in under} == {Status.ACCEPTED}
    edits = _all(res, models.Edit)
    assert sorted(e.claim_id for e in edits) == sorted(rows[p].id for p in under)
    for edit in edits:
        assert (edit.rule_id, edit.field) == ("277CA-A6:35", "277CA 2200C STC01")
        assert describe_claim_status_category("A6") in edit.message
        assert describe_claim_status("35") in edit.message
    _assert_off_the_books(res)


def test_a_claim_level_rejection_says_what_its_codes_mean(res: Resources) -> None:
    batch, delivery, reports = _answer_277(res, seed=65, n=10)
    _accept_every_claim(reports)
    [report] = reports
    refused = report.claims[0]
    refused.statuses = [StatusInfo("A7", "562", "85")]
    refused.action_code, refused.payer_claim_control_number = "U", ""
    _put_277(res, delivery, reports, 860)

    apply_acknowledgments(res, batch, PAYER.payer_id)

    row = _rows(res)[refused.patient_control_number]
    assert row.status == Status.PAYER_REJECTED
    [edit] = _all(res, models.Edit)
    assert (edit.claim_id, edit.rule_id, edit.field) == (row.id, "277CA-A7:562",
                                                         "277CA STC01")
    assert edit.message == (
        f"payer rejected the claim: A7 ({describe_claim_status_category('A7')}),"
        f" status 562 ({describe_claim_status('562')}), entity 85")
    _assert_off_the_books(res)


def test_a_rejection_after_an_acceptance_takes_the_charge_off_the_books(
        res: Resources) -> None:
    """A1 first (ACCEPTED), then a rejection: the charge leaves A/R once, and a further
    rejection of the same claim books nothing more."""
    batch, delivery, reports = _answer_277(res, seed=66, n=8)
    for report in reports:
        for claim in report.claims:
            claim.statuses = [StatusInfo("A1", "19")]
    _put_277(res, delivery, reports, 870)
    apply_acknowledgments(res, batch, PAYER.payer_id)
    assert _claim_ids(res, Status.ACCEPTED) == {r.id for r in _rows(res).values()}
    revenue_before = sum(c["REVENUE"] for c in _ledger(res).values())
    for report in reports:
        for claim in report.claims:
            claim.statuses = [StatusInfo("A3", "33")]
    _put_277(res, delivery, reports, 871)

    apply_acknowledgments(res, batch, PAYER.payer_id)

    rows = _rows(res).values()
    assert {r.status for r in rows} == {Status.PAYER_REJECTED}
    ledger = _ledger(res)
    assert sum(c["REVENUE"] for c in ledger.values()) \
        == revenue_before + sum(r.total_charge for r in rows) == 0
    _assert_off_the_books(res)
    with res.sessions() as session:
        memos = Counter(session.scalars(select(models.LedgerEntry.memo)))
    assert memos["payer rejected"] == 2 * len(rows)

    # The same rejection again (another interchange): nothing moves, nothing is booked.
    _put_277(res, delivery, reports, 872)
    again = apply_acknowledgments(res, batch, PAYER.payer_id)
    assert (again["rejected"], again["unmatched"]) == (0, len(reports[0].claims))
    assert _ledger(res) == ledger


def test_a_corrected_claim_books_only_its_own_charge(res: Resources) -> None:
    """The rejected claim's charge is off the books; its correction (a new claim, sent
    later) books its own: A/R holds each charge once."""
    f = factory(TENANT, seed=67, payers=[PAYER.payer_id])
    claims = f.claims(6, ClaimType.PROFESSIONAL)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    submit(res, batch, PAYER, RecordingChannel())
    [submission] = _all(res, models.Submission)
    rejected = {c for ids in submission.transaction_control_numbers.values() for c in ids}
    with res.sessions() as session:
        move(session, list(rejected), Status.SUBMITTED, Status.PAYER_REJECTED, "acks")
        assert unbook_charges(session, TENANT, list(rejected), AS_OF) == sorted(rejected)
        # A second rejection path finds nothing left to take off.
        assert unbook_charges(session, TENANT, list(rejected), AS_OF) == []
        session.commit()
    corrected = [dataclasses.replace(c, patient_control_number=c.patient_control_number + "C")
                 for c in claims]
    batch = ready_batch(res, TENANT, corrected, f.submitter)
    submit(res, batch, PAYER, RecordingChannel())

    rows = _rows(res)
    ledger = _ledger(res)
    assert sum(c["AR"] for c in ledger.values()) == sum(
        (rows[c.patient_control_number].total_charge for c in corrected), Decimal(0)) > 0
    assert {rows[c.patient_control_number].status for c in corrected} == {Status.SUBMITTED}
    _assert_off_the_books(res)
