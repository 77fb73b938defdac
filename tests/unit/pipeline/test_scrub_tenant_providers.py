"""TENANT-01: a tenant that registered its billing providers bills only as them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Edit
from revcycle.demo import drop_business_day
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.tenants import register_providers, registered_npis
from revcycle.scrub import DEFAULT_RULES
from revcycle.simulator import ClaimFactory
from revcycle.status import Status
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, PAYERS, drop_claims, factory

RULES = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
STRANGER = "1003000126"  # a valid NPI no simulated tenant has


def _register(res: Resources, tenant: str, f: ClaimFactory) -> None:
    with res.sessions() as session:
        register_providers(session, tenant, [(p.npi, p.tax_id, p.last_name)
                                             for p in f.billing_providers])
        session.commit()


def _ingest_and_scrub(res: Resources, tenant: str) -> dict:
    """The tenant's landing files ingested, their claims taken to VALIDATED, scrubbed."""
    batch = ingest(res, tenant, DAY)["batch"]
    with res.sessions() as session:
        move(session, [r.id for r in claims_in(session, batch, Status.RECEIVED)],
             Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    return scrub_batch(res, batch, RULES)


def _scrub(res: Resources, tenant: str, claims: Sequence[Claim],
           f: ClaimFactory) -> tuple[dict, dict[str, ClaimRow], list[Edit]]:
    """Ingest the claims, take them to VALIDATED, scrub; the result, the rows by patient
    control number and the TENANT-01 edits."""
    drop_claims(res, tenant, claims, f.submitter)
    result = _ingest_and_scrub(res, tenant)
    with res.sessions() as session:
        rows = {r.patient_control_number: r for r in session.scalars(select(ClaimRow))}
        edits = list(session.scalars(select(Edit).where(Edit.rule_id == "TENANT-01")))
    return result, rows, edits


def _with_billing_npi(claims: list[Claim], npi: str) -> Claim:
    claims[0].billing_provider.npi = npi
    return claims[0]


def test_a_claim_billed_under_an_npi_not_the_tenants_is_rejected(res: Resources) -> None:
    f = factory("northside", seed=3, payers=list(PAYERS))
    _register(res, "northside", f)
    claims = f.claims(12)
    stranger = _with_billing_npi(claims, STRANGER)
    result, rows, edits = _scrub(res, "northside", claims, f)
    (edit,) = edits
    assert edit.claim_id == rows[stranger.patient_control_number].id
    assert (edit.stage, edit.severity, edit.field) == ("scrub", "ERROR", "2010AA NM109")
    assert "NPI 1003000126" in edit.message and "tenant northside" in edit.message
    assert rows[stranger.patient_control_number].status == Status.REJECTED
    assert result["edits"]["TENANT-01"] == 1
    # The claims billed under the tenant's own providers are not TENANT-01's.
    assert {r.status for pcn, r in rows.items()
            if pcn != stranger.patient_control_number} == {Status.READY}


def test_a_tenant_with_no_provider_registered_is_not_checked(res: Resources) -> None:
    f = factory("northside", seed=3, payers=list(PAYERS))
    claims = f.claims(12)
    stranger = _with_billing_npi(claims, STRANGER)
    result, rows, edits = _scrub(res, "northside", claims, f)
    assert edits == [] and "TENANT-01" not in result["edits"]
    assert rows[stranger.patient_control_number].status == Status.READY


def test_a_wrong_check_digit_is_npi_01s_not_tenant_01s(res: Resources) -> None:
    f = factory("northside", seed=3, payers=list(PAYERS))
    _register(res, "northside", f)
    claims = f.claims(12)
    broken = _with_billing_npi(claims, STRANGER[:-1] + "7")
    _, rows, edits = _scrub(res, "northside", claims, f)
    assert edits == []
    with res.sessions() as session:
        rules = set(session.scalars(select(Edit.rule_id).where(
            Edit.claim_id == rows[broken.patient_control_number].id)))
    assert "NPI-01" in rules


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_the_demo_registers_its_providers_and_its_day_has_no_tenant_01(
        res: Resources) -> None:
    tenants = ("northside", "lakeview")
    for _ in range(2):  # dropping the day again registers nothing new, and fails nothing
        drop_business_day(res.store, claims=90, seed=5, tenants=tenants, payers=3,
                          defect_rate=0.2, business_date=DAY, sessions=res.sessions)
    rejected = 0
    for tenant in tenants:
        with res.sessions() as session:
            assert len(registered_npis(session, tenant)) == 3  # two groups and a hospital
        result = _ingest_and_scrub(res, tenant)
        assert "TENANT-01" not in result["edits"]
        rejected += result["rejected"]
    with res.sessions() as session:
        found = set(session.scalars(select(Edit.rule_id)))
    assert rejected and "NPI-01" in found  # the seeded defects are there, bad NPIs among them
    assert "TENANT-01" not in found
