"""Closing checks (``revcycle.pipeline.reconcile``): they pass on posted books, and each
one catches what it is for."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from revcycle.db import models
from revcycle.model.remittance import balance_problems
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.reconcile import CHECKS, check_books
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from tests.unit.pipeline.conftest import BOTH_DATABASES
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _negated,
    _payer_remittances,
    _put_835,
    _submitted,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
AS_OF = date(2026, 12, 31)


def _posted(res: Resources, seed: int) -> tuple[str, list, object]:
    batch, [(delivery, data)] = _submitted(res, n=20, seed=seed)
    remittances = _payer_remittances(data)
    _put_835(res, delivery, remittances, 700)
    post_remittances(res, batch, PAYER.payer_id)
    return batch, remittances, delivery


def _findings(res: Resources) -> list[str]:
    with res.sessions() as session:
        return [f.check for f in check_books(session, [TENANT], AS_OF)]


def test_posted_books_pass_every_check(res: Resources) -> None:
    _posted(res, seed=51)
    assert _findings(res) == []


def test_a_take_back_larger_than_the_payments_is_a_debit_and_the_cash_agrees(
        res: Resources) -> None:
    batch, remittances, delivery = _posted(res, seed=52)
    paid = [c for r in remittances for c in r.claims if c.paid > 0][:2]
    taken = -sum((c.paid for c in paid), Decimal(0))
    debit = dataclasses.replace(remittances[0], trace_number="TAKEBACK01",
                                claims=[_negated(c) for c in paid], provider_adjustments=[],
                                total_paid=-taken, credit_debit_flag="D")
    assert balance_problems(debit) == []
    _put_835(res, delivery, [debit], 701)

    post_remittances(res, batch, PAYER.payer_id)

    with res.sessions() as session:
        row = session.scalars(select(models.Remittance).where(
            models.Remittance.trace_number == "TAKEBACK01")).one()
        statuses = set(session.scalars(select(models.Claim.status).where(
            models.Claim.patient_control_number.in_([c.patient_control_number
                                                     for c in paid]))))
    assert row.status == "POSTED"
    assert row.total_paid == taken < 0  # money that went back to the payer
    assert statuses == {Status.REVERSED}
    assert _findings(res) == []


def test_each_check_catches_what_it_is_for(res: Resources) -> None:
    _posted(res, seed=53)
    with res.sessions() as session:
        claim = session.scalars(select(models.Claim).where(
            models.Claim.status == Status.PAID)).first()
        claim.paid += Decimal("0.01")
        session.add(models.LedgerEntry(tenant_id=TENANT, claim_id=None, account="CASH",
                                       amount=Decimal("1.00"), entry_date=AS_OF))
        remittance = session.scalars(select(models.Remittance)).first()
        remittance.total_paid += 1
        file = models.MailboxFile(sha256="a" * 64, payer_id=PAYER.payer_id, channel="sftp",
                                  remote_name="x", key="k", size=1, collected_on=AS_OF,
                                  status="COLLECTED")
        session.add(file)
        session.flush()
        session.add(models.MailboxRoute(file_id=file.id, set_index=0, kind="835",
                                        tenant_id=TENANT, payer_id=PAYER.payer_id,
                                        key="k2", sha256="b" * 64))
        session.commit()

    found = set(_findings(res))

    assert found == {"claim-balance", "trial-balance", "remittance-cash", "mailbox-routed",
                     "mailbox-applied"}
    assert found <= set(CHECKS)
