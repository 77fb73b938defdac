"""A/R aging: open balances by days since submission, as of a chosen day."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from revcycle.db import models
from revcycle.pipeline.aging import BUCKETS, ar_aging, bucket
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.report import day_report
from revcycle.pipeline.resources import Resources
from revcycle.storage import object_key
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, run_cli
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _payer_remittances,
    _put_835,
    _rows,
    _submitted,
)

# Days between submission and DAY, around every bucket edge.
AGES = (0, 30, 31, 60, 61, 90, 91, 200)
EDGES = {0: "0-30", 30: "0-30", 31: "31-60", 60: "31-60", 61: "61-90", 90: "61-90",
         91: "90+", 200: "90+"}


@pytest.mark.parametrize("days", AGES)
def test_bucket_edges(days: int) -> None:
    assert bucket(days) == EDGES[days]


def _submitted_on_chosen_days(res: Resources) -> tuple[str, dict[int, int], list]:
    """Claims whose charges were booked ``AGES`` days before DAY (round robin); returns
    the batch, claim id -> age, and the payer's 835 for them."""
    batch, [(delivery, data)] = _submitted(res, n=16, seed=48)
    ages = {row.id: AGES[n % len(AGES)]
            for n, row in enumerate(sorted(_rows(res).values(), key=lambda r: r.id))}
    with res.sessions() as session:
        for claim_id, days in ages.items():
            session.execute(update(models.LedgerEntry).where(
                models.LedgerEntry.claim_id == claim_id, models.LedgerEntry.memo == "charge")
                .values(entry_date=DAY - timedelta(days=days)))
        session.commit()
    return batch, ages, [delivery, data]


def _expected(res: Resources, ages: dict[int, int], open_ids: set[int]) -> dict[str, str]:
    charges = {r.id: r.total_charge for r in _rows(res).values()}
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for claim_id in open_ids:
        totals[EDGES[ages[claim_id]]] += charges[claim_id]
    return {name: str(totals[name]) for name in BUCKETS}


def _amounts(aging: dict) -> dict[str, str]:
    return {name: aging["buckets"][name]["amount"] for name in BUCKETS}


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_open_ar_is_aged_from_submission_as_of_a_day(res: Resources) -> None:
    batch, ages, (delivery, data) = _submitted_on_chosen_days(res)
    with res.sessions() as session:
        before = ar_aging(session, DAY)
        other = ar_aging(session, DAY, tenant="someoneelse")
        earlier = ar_aging(session, DAY - timedelta(days=61))

    assert _amounts(before) == _expected(res, ages, set(ages))
    assert [before["buckets"][n]["claims"] for n in BUCKETS] == [4, 4, 4, 4]
    assert before["by_payer"] == {PAYER.payer_id: {**_amounts(before),
                                                   "total": before["total"]}}
    assert Decimal(before["total"]) == sum(r.total_charge for r in _rows(res).values())
    assert (other["total"], other["claims"], other["by_payer"]) == ("0.00", 0, {})
    # 61 days earlier, only the claims submitted 61 days or more before DAY were on A/R.
    assert earlier["claims"] == sum(days >= 61 for days in ages.values())

    # The payer pays the claims of its first remittance three days later.
    paid_on = DAY + timedelta(days=3)
    remittances = _payer_remittances(data)
    first = remittances[0]
    first.payment_date = paid_on
    _put_835(res, delivery, [first], 800)
    assert post_remittances(res, batch, PAYER.payer_id)["claims_posted"] == len(first.claims)
    rows = _rows(res)
    settled = {rows[c.patient_control_number].id for c in first.claims}
    assert 0 < len(settled) < len(ages)

    with res.sessions() as session:
        still = ar_aging(session, DAY)
        after = ar_aging(session, paid_on)
    assert still == before  # as of DAY, the payment had not come yet
    # What payers still owe on each claim: every receivable account (a denial stays in
    # AR_DENIED, in work, until someone works it).
    with res.sessions() as session:
        owed: dict[int, Decimal] = defaultdict(Decimal)
        for claim_id, account, amount in session.execute(select(
                models.LedgerEntry.claim_id, models.LedgerEntry.account,
                models.LedgerEntry.amount)):
            if account.startswith("AR"):
                owed[claim_id] += amount
    open_ids = {claim_id for claim_id in ages if owed[claim_id] > 0}
    assert set(ages) - settled <= open_ids
    # Three days on, every claim is three days older: 30 becomes 33, 60 becomes 63, ...
    older = {claim_id: days + 3 for claim_id, days in ages.items()}
    shifted: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for claim_id in open_ids:
        shifted[bucket(older[claim_id])] += owed[claim_id]
    assert _amounts(after) == {name: str(shifted[name]) for name in BUCKETS}
    assert after["claims"] == len(open_ids)


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_the_cli_and_the_day_report_show_the_aging(res: Resources,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    batch, _, _ = _submitted_on_chosen_days(res)
    with res.sessions() as session:
        aging = ar_aging(session, DAY, TENANT)
    as_json = run_cli(res, monkeypatch, "ar", "aging", "--as-of", DAY.isoformat(),
                      "--tenant", TENANT, "--json")
    table = run_cli(res, monkeypatch, "ar", "aging", "--as-of", DAY.isoformat())
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == {"tenant": TENANT, **aging}
    assert table.exit_code == 0, table.output
    assert PAYER.payer_id in table.output and aging["total"] in table.output
    assert all(aging["buckets"][name]["amount"] in table.output for name in BUCKETS)

    report = day_report(res, DAY, [TENANT])
    assert report["ar_aging"]["buckets"] == aging["buckets"]
    assert report["ar_aging"]["total"] == aging["total"] != "0.00"
    own = json.loads(res.store.get(object_key(TENANT, "reports", DAY, batch,
                                              "run-report.json")))
    assert own["ar_aging"]["by_payer"] == aging["by_payer"]


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_a_settled_claim_leaves_the_aging(res: Resources) -> None:
    """A claim whose A/R nets to zero (or below) is not open A/R."""
    _, ages, _ = _submitted_on_chosen_days(res)
    claim_id = min(ages)
    with res.sessions() as session:
        charge = session.scalar(select(models.Claim.total_charge).where(
            models.Claim.id == claim_id))
        session.add_all([
            models.LedgerEntry(tenant_id=TENANT, claim_id=claim_id, account="AR",
                               amount=-charge - 1, entry_date=DAY, memo="test"),
            models.LedgerEntry(tenant_id=TENANT, claim_id=claim_id, account="CASH",
                               amount=charge + 1, entry_date=DAY, memo="test")])
        session.commit()
        aging = ar_aging(session, DAY)
    assert aging["claims"] == len(ages) - 1
    assert _amounts(aging) == _expected(res, ages, set(ages) - {claim_id})
