"""The demo's simulated biller: what it does with each kind of refused or denied claim, and
the rework figures it reports."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from revcycle.codesets.carc_classes import AdjustmentClass, classify
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.remittance import Adjustment, ClaimPayment
from revcycle.pipeline.batches import move
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.versions import versions_of
from revcycle.simulator.biller import SimulatedBiller
from revcycle.status import Status
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _check_books,
    _payer_remittances,
    _put_835,
    _rows,
    _submitted,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
LATER = DAY + timedelta(days=10)


def _denied(payment: ClaimPayment, reason: str) -> ClaimPayment:
    """The payment turned into a whole-claim denial CO-<reason>."""
    denial = copy.deepcopy(payment)
    denial.status_code, denial.paid, denial.patient_responsibility = "4", Decimal(0), None
    denial.adjustments = []
    denial.service_payments = [dataclasses.replace(
        s, paid=Decimal(0), adjustments=[Adjustment("CO", reason, s.charge)])
        for s in payment.service_payments]
    return denial


def _has_denial(payment: ClaimPayment) -> bool:
    adjustments = [*payment.adjustments,
                   *(a for s in payment.service_payments for a in s.adjustments)]
    return payment.is_denial or any(
        classify(a.group_code, a.reason_code) is AdjustmentClass.DENIAL for a in adjustments)


def test_the_biller_corrects_replaces_and_writes_off_by_reason(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, n=30, seed=52)
    remittances = _payer_remittances(data)
    rows = _rows(res)
    paid = [c for r in remittances for c in r.claims if c.paid > 0 and c.service_payments]
    late, bundled, refused = paid[0], paid[1], paid[2]
    remittance = remittances[0]
    others = [c for c in remittance.claims if c not in (late, bundled, refused)
              and not _has_denial(c)]
    claims = [_denied(late, "29"), _denied(bundled, "97"), *others]
    answer = dataclasses.replace(remittance, claims=claims, provider_adjustments=[],
                                 total_paid=sum((c.paid for c in claims), Decimal(0)))
    _put_835(res, delivery, [answer], 801)
    post_remittances(res, batch, PAYER.payer_id)
    refused_id = rows[refused.patient_control_number].id
    with res.sessions() as session:  # the payer's 277CA found no such member
        move(session, [refused_id], Status.SUBMITTED, Status.PAYER_REJECTED, "test")
        session.add(models.Edit(claim_id=refused_id, stage="acknowledgment",
                                rule_id="277CA-A3:33", severity="ERROR",
                                message="Subscriber and subscriber id not found", field=""))
        session.commit()
    biller = SimulatedBiller(res.sessions, res.store, [TENANT])

    done = biller.work(LATER)

    assert done == {"corrected": 1, "replaced": 1, "written off TIMELY_FILING": 1}
    after = _rows(res)
    assert after[late.patient_control_number].status == "DENIED"
    assert after[bundled.patient_control_number].status == "RECEIVED"
    assert after[bundled.patient_control_number].frequency_code == "7"
    assert after[refused.patient_control_number].status == "RECEIVED"
    with res.sessions() as session:
        newest = versions_of(session, refused_id)[-1]
        write_off = session.scalars(select(models.WriteOff)).one()
    assert [c["path"] for c in newest.diff] == ["subscriber.member_id"]
    assert (write_off.reason, write_off.amount) == ("TIMELY_FILING", late.charge)
    _check_books(res)
    # Worked once, a claim is not worked again the same way; nothing left to do.
    assert biller.work(LATER) == {}

    with res.sessions() as session:
        figures = biller.figures(session)
    assert figures["claims_sent"] == 30
    assert figures["clean_first_submission"] == round(29 / 30, 4)
    assert figures["clean_after_rework"] == round(29 / 30, 4)  # sent again, not answered
    assert Decimal(figures["denied_dollars"]) == late.charge + bundled.charge
    assert Decimal(figures["denied_written_off"]) == late.charge
    assert figures["denied_recovered"] == "0.00"
    assert Decimal(figures["denied_in_work"]) == bundled.charge


def test_a_replaced_claim_denied_again_is_written_off(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, n=10, seed=53)
    remittances = _payer_remittances(data)
    rows = _rows(res)
    target = next(c for r in remittances for c in r.claims if c.paid > 0 and c.service_payments)
    remittance = remittances[0]
    claims = [_denied(c, "16") if c is target else c for c in remittance.claims
              if c is target or not _has_denial(c)]
    _put_835(res, delivery, [dataclasses.replace(
        remittance, claims=claims, provider_adjustments=[],
        total_paid=sum((c.paid for c in claims), Decimal(0)))], 802)
    post_remittances(res, batch, PAYER.payer_id)
    biller = SimulatedBiller(res.sessions, res.store, [TENANT])
    assert biller.work(LATER) == {"replaced": 1}
    claim_id = rows[target.patient_control_number].id
    with res.sessions() as session:  # sent, and denied again by the payer
        row = session.get_one(ClaimRow, claim_id)
        for step in ((Status.RECEIVED, Status.VALIDATED), (Status.VALIDATED, Status.READY),
                     (Status.READY, Status.SUBMITTED), (Status.SUBMITTED, Status.DENIED)):
            move(session, [claim_id], *step, "test")
        session.commit()
        assert row.id == claim_id
    assert biller.work(LATER + timedelta(days=20)) == {"written off APPEAL_EXHAUSTED": 1}
    _check_books(res)
