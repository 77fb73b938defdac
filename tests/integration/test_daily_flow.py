"""The whole business day through the real daily flow: SQLite and a local folder, then
PostgreSQL and an S3 endpoint over HTTP. Every claim accounted for; every adjudicated claim
balances; a second run changes nothing; a malformed file is quarantined and the day goes on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from revcycle.db import models
from revcycle.status import ADJUDICATED, TERMINAL_FOR_THE_DAY, Status
from tests.integration.conftest import configure

TENANTS = ("northside", "lakeview")


def _counts(res: Any) -> dict[str, int]:
    with res.sessions() as session:
        return {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                for table in (models.File, models.Claim, models.ServiceLine,
                              models.ClaimEvent, models.Edit, models.Submission,
                              models.Acknowledgment, models.Remittance, models.Payment,
                              models.Adjustment, models.LedgerEntry)}


def _run_day(claims: int = 240) -> tuple[Any, Any, dict[str, Any]]:
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources

    res = get_resources()
    day = drop_business_day(res.store, claims=claims, seed=11, tenants=TENANTS, payers=3,
                            defect_rate=0.1, sessions=res.sessions)
    outcome = daily_revenue_cycle(business_date=day.business_date, tenants=list(TENANTS))
    return res, day, outcome


def _check_day(res: Any, day: Any, outcome: dict[str, Any]) -> None:
    report = outcome["report"]
    with res.sessions() as session:
        rows = list(session.scalars(select(models.Claim)))
        quarantined = list(session.scalars(select(models.File).where(
            models.File.status == "QUARANTINED")))
        ledger = session.execute(select(models.LedgerEntry.claim_id,
                                        models.LedgerEntry.account,
                                        models.LedgerEntry.amount)).all()
        edits = {(e.claim_id, e.rule_id) for e in session.scalars(select(models.Edit))}
    # Every claim dropped is in the database, and every one ended the day somewhere final.
    assert len(rows) == day.claims == report["claims"]["in"]
    assert all(Status(r.status) in TERMINAL_FOR_THE_DAY for r in rows)
    assert sum(report["claims"]["by_status"].values()) == day.claims
    # The malformed file is in quarantine with its reason, and the day went on.
    assert len(quarantined) == 1 and quarantined[0].reason["code"] == "DELIMITERS"
    assert res.store.exists(quarantined[0].key)
    reason = json.loads(res.store.get(f"{quarantined[0].key}.reason.json"))
    assert reason["error"] == "X12DelimiterError"
    assert report["files"]["quarantined"] == 1
    # Every adjudicated claim: billed = paid + adjustments + patient responsibility + what
    # payers still owe (denied in work, AR_DENIED; the next payer's, AR_NEXT_PAYER).
    adjudicated = [r for r in rows if Status(r.status) in ADJUDICATED]
    assert len(adjudicated) > day.claims // 2
    # The ledger is double entry, and each claim's open A/R is what is left to collect.
    by_claim: dict[int, dict[str, Decimal]] = {}
    for claim_id, account, amount in ledger:
        accounts = by_claim.setdefault(claim_id, {})
        accounts[account] = accounts.get(account, Decimal(0)) + amount
    assert sum(sum(a.values()) for a in by_claim.values()) == 0
    for row in adjudicated:
        accounts = by_claim[row.id]
        assert sum(accounts.values()) == 0
        receivable = sum((v for k, v in accounts.items() if k.startswith("AR")), Decimal(0))
        assert receivable == row.total_charge - row.paid - row.adjusted \
            - row.patient_responsibility
        assert accounts.get("AR", Decimal(0)) == 0
    # Seeded defects were caught before the claims left: each such claim has an edit
    # from the rule its tag names, and none of them was submitted.
    defective = {r.patient_control_number: r for r in rows
                 if r.patient_control_number in day.defects}
    assert defective
    for pcn, row in defective.items():
        assert row.status in (Status.REJECTED, Status.DQ_FAILED)
        assert any((row.id, tag) in edits for tag in day.defects[pcn])
    # The tenants' billing providers are registered and checked: their own claims pass.
    assert not any(rule == "TENANT-01" for _, rule in edits)


def _check_second_run_changes_nothing(res: Any, before: dict[str, int]) -> None:
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import DEMO_DATE, drop_business_day

    # The providers drop the very same files again; the day is run again.
    drop_business_day(res.store, claims=240, seed=11, tenants=TENANTS, payers=3,
                      defect_rate=0.1, sessions=res.sessions)
    daily_revenue_cycle(business_date=DEMO_DATE, tenants=list(TENANTS))
    assert _counts(res) == before


@pytest.mark.usefixtures("prefect_server")
def test_daily_flow_on_sqlite_and_local_store(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, tmp_path / "home")
    res, day, outcome = _run_day()
    _check_day(res, day, outcome)
    assert str(res.engine.url).startswith("sqlite")
    _check_second_run_changes_nothing(res, _counts(res))
    report_keys = res.store.list(f"{TENANTS[0]}/reports/")
    assert any(k.endswith("run-report.json") for k in report_keys)
    assert any(k.endswith("data-docs/index.html") for k in report_keys)


@pytest.mark.usefixtures("prefect_server")
def test_daily_flow_on_postgres_and_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       postgres_url: str, s3_endpoint: str) -> None:
    configure(monkeypatch, tmp_path / "home", database_url=postgres_url, store="s3",
              s3_bucket="revcycle-test", s3_endpoint_url=s3_endpoint, s3_region="us-east-1",
              s3_create_bucket="true", s3_sse="AES256")
    res, day, outcome = _run_day()
    _check_day(res, day, outcome)
    assert res.engine.dialect.name == "postgresql"
    assert type(res.store).__name__ == "S3ObjectStore"
    _check_second_run_changes_nothing(res, _counts(res))
