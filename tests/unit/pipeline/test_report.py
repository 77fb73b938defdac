"""The run report: its figures are the database's, and each tenant sees only its own."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from revcycle.channels import route_for
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.demo import drop_business_day
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import batch_id, claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.report import ALL_TENANTS, TOP, day_report
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.status import ADJUDICATED, Status
from revcycle.storage import object_key, zone_prefix
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, PAYERS

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

TENANTS = ["northside", "lakeview"]
CENTS = Decimal("0.00")


@pytest.fixture
def day(res: Resources) -> Resources:
    """A business day of two tenants through every stage but quality (its GX run has its
    own tests): claims are taken from RECEIVED to VALIDATED directly."""
    drop_business_day(res.store, claims=90, seed=5, tenants=tuple(TENANTS), payers=3,
                      defect_rate=0.2, business_date=DAY)
    rules = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
    for tenant in TENANTS:
        batch = ingest(res, tenant, DAY)["batch"]
        with res.sessions() as session:
            ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
            move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
            session.commit()
        scrub_batch(res, batch, rules)
        for payer in PAYERS.values():
            submit(res, batch, payer, route_for(payer, res.store))
            apply_acknowledgments(res, batch, payer.payer_id)
            post_remittances(res, batch, payer.payer_id)
    return res


def _money(values: list[Decimal]) -> str:
    return str(sum(values, CENTS))


def _expected(res: Resources, tenants: list[str]) -> dict[str, Any]:
    """The report's figures, computed here from the rows themselves."""
    with res.sessions() as session:
        claims = list(session.scalars(select(ClaimRow).where(ClaimRow.tenant_id.in_(tenants))))
        by_id = {c.id: c for c in claims}
        files = list(session.scalars(select(models.File).where(
            models.File.tenant_id.in_(tenants), models.File.zone != "inbound")))
        edits = [e for e in session.scalars(select(models.Edit)) if e.claim_id in by_id
                 and e.severity == "ERROR"]
        payments = [p for p in session.scalars(select(models.Payment))
                    if p.claim_id in by_id]
        adjustments = list(session.scalars(select(models.Adjustment)))
        remittances = list(session.scalars(select(models.Remittance).where(
            models.Remittance.tenant_id.in_(tenants))))
        posted = {r.id for r in remittances if r.status == "POSTED"}
        remitted = [p for p in session.scalars(select(models.Payment))
                    if p.remittance_id in posted]
    statuses = Counter(c.status for c in claims)
    rules: dict[str, set[int]] = {}
    for edit in edits:
        rules.setdefault(edit.rule_id, set()).add(edit.claim_id)
    denied = {p.id: p.claim_id for p in payments
              if by_id[p.claim_id].status == Status.DENIED}
    reasons: dict[str, tuple[set[int], list[Decimal]]] = {}
    for adjustment in adjustments:
        code = (adjustment.group_code, adjustment.reason_code)
        if code[0] == "PR" or code in (("CO", "45"), ("OA", "23")):
            continue  # the patient's share, the write-off, the prior payer: no denial
        if adjustment.payment_id in denied:
            claims_, amounts = reasons.setdefault(
                f"{adjustment.group_code}-{adjustment.reason_code}", (set(), []))
            claims_.add(denied[adjustment.payment_id])
            amounts.append(adjustment.amount)
    return {
        "files": {"ingested": sum(f.status == "RAW" for f in files),
                  "quarantined": sum(f.status == "QUARANTINED" for f in files),
                  "with_defects": dict(sorted(Counter(
                      code for f in files for code in {d["code"] for d in f.defects}
                  ).items()))},
        "claims": {"in": len(claims), "by_status": dict(sorted(statuses.items())),
                   "adjudicated": sum(statuses[s] for s in ADJUDICATED)},
        "dollars": {"billed": _money([c.total_charge for c in claims]),
                    "paid": _money([c.paid for c in claims]),
                    "adjusted": _money([c.adjusted for c in claims]),
                    "patient_responsibility": _money([c.patient_responsibility
                                                      for c in claims])},
        "edits": {rule: (len(ids), _money([by_id[i].total_charge for i in ids]))
                  for rule, ids in rules.items()},
        "denials": {carc: (len(ids), _money(amounts))
                    for carc, (ids, amounts) in reasons.items()},
        "remittances": dict(Counter(r.status for r in remittances)),
        "posting": _posting(remitted),
    }


def _posting(payments: list[models.Payment]) -> dict[str, Any]:
    auto = sum((p.paid for p in payments if not p.exception and not p.posted_by),
               Decimal("0.00"))
    manual = sum((p.paid for p in payments if p.posted_by), Decimal("0.00"))
    excepted = sum((p.paid for p in payments if p.exception), Decimal("0.00"))
    total = auto + excepted
    return {"claim_payments": str(total), "auto_posted": str(auto),
            "auto_post_rate": round(float(auto / total), 4) if total else None,
            "posted_by_hand": str(manual),
            "exceptions": sum(1 for p in payments if p.exception),
            "open_exceptions": sum(1 for p in payments
                                   if p.exception and p.resolved_at is None),
            "unapplied": str(excepted - manual)}


def _check(report: dict[str, Any], expected: dict[str, Any]) -> None:
    for name in ("files", "claims", "dollars", "remittances", "posting"):
        assert report[name] == expected[name], name
    edits = report["top_edits"]
    assert len(edits) == min(TOP, len(expected["edits"]))
    assert [e["claims"] for e in edits] == sorted((e["claims"] for e in edits), reverse=True)
    for edit in edits:
        assert (edit["claims"], edit["held"]) == expected["edits"][edit["rule"]], edit["rule"]
    denials = report["top_denial_reasons"]
    assert len(denials) == min(TOP, len(expected["denials"]))
    for denial in denials:
        assert (denial["count"], denial["amount"]) == expected["denials"][denial["carc"]]


def test_the_day_report_counts_match_the_database(day: Resources) -> None:
    report = day_report(day, DAY, TENANTS)

    expected = _expected(day, TENANTS)
    _check(report, expected)
    # The day was a real one: every stage left its mark.
    assert report["claims"]["in"] == 90
    assert report["files"]["quarantined"] == 1
    assert {"REJECTED", "PAID"} <= set(report["claims"]["by_status"])
    assert report["top_edits"] and report["top_denial_reasons"]
    assert report["remittances"].get("POSTED", 0) > 0
    assert (report["business_date"], report["tenants"]) == (DAY.isoformat(), TENANTS)


def test_held_dollars_count_each_claim_once_per_rule(day: Resources) -> None:
    """A rule that fails on two lines of a claim (one edit per line) holds the claim's
    charge once, not twice."""
    rule = day_report(day, DAY, TENANTS)["top_edits"][0]["rule"]  # one the report lists
    with day.sessions() as session:
        edit = session.scalars(select(models.Edit).where(models.Edit.severity == "ERROR",
                                                         models.Edit.rule_id == rule)
                               .order_by(models.Edit.id)).first()
        session.add(models.Edit(claim_id=edit.claim_id, line_number=(edit.line_number or 0) + 1,
                                stage=edit.stage, rule_id=edit.rule_id, severity="ERROR",
                                message=edit.message, field=edit.field))
        session.commit()

    report = day_report(day, DAY, TENANTS)

    [top] = [e for e in report["top_edits"] if e["rule"] == rule]
    assert (top["claims"], top["held"]) == _expected(day, TENANTS)["edits"][rule]


def test_each_tenant_report_holds_only_its_own_figures(day: Resources) -> None:
    combined = day_report(day, DAY, TENANTS)

    reports = {}
    for tenant in TENANTS:
        keys = day.store.list(zone_prefix(tenant, "reports"))
        key = object_key(tenant, "reports", DAY, batch_id(tenant, DAY), "run-report.json")
        assert keys == sorted(combined["report_keys"][tenant].values())
        assert [k.rsplit("/", 1)[1] for k in keys] == [
            "claims-by-status.svg", "denials-by-reason.svg", "run-report.html",
            "run-report.json"]
        reports[tenant] = json.loads(day.store.get(key))
        assert reports[tenant].pop("business_date") == DAY.isoformat()
        assert reports[tenant].pop("tenant") == tenant
        _check(reports[tenant], _expected(day, [tenant]))
    # Each is a part of the whole, not the whole.
    for name in ("in", "adjudicated"):
        assert sum(r["claims"][name] for r in reports.values()) == combined["claims"][name]
        assert all(0 < r["claims"][name] < combined["claims"][name] for r in reports.values())
    assert sum(Decimal(r["dollars"]["billed"]) for r in reports.values()) \
        == Decimal(combined["dollars"]["billed"])
    assert [r["files"]["quarantined"] for r in reports.values()] == [1, 0]
    # The run's own report, of every tenant, is kept apart from any tenant's.
    run_keys = day.store.list(zone_prefix(ALL_TENANTS, "reports"))
    assert run_keys == sorted(combined["report_keys"][ALL_TENANTS].values())
    whole = json.loads(day.store.get(combined["report_keys"][ALL_TENANTS]["json"]))
    assert whole["claims"] == combined["claims"] and whole["tenants"] == TENANTS


def test_a_tenant_without_a_batch_that_day_gets_no_report(day: Resources) -> None:
    report = day_report(day, DAY, ["northside", "nobatchtoday"])

    assert day.store.list(zone_prefix("nobatchtoday", "reports")) == []
    _check(report, _expected(day, ["northside"]))
