"""The scrub stage with the reference tables: rules without their table are reported as
not run, loading the tables makes them run, and each payer's filing limit reaches DT-03."""

from __future__ import annotations

from revcycle.codesets.loaders import load_file
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.scrub import DEFAULT_RULES
from revcycle.status import Status
from tests.unit.codesets.test_loaders import hcpcs_file, hcpcs_record, mue_file, ptp_file
from tests.unit.pipeline.conftest import DAY, PAYERS, drop_claims, factory

RULES = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
REFERENCE_RULES = {"PROC-02", "NCCI-01", "MUE-01"}


def validated_batch(res: Resources, tenant: str, seed: int) -> str:
    f = factory(tenant, seed=seed, payers=list(PAYERS))
    drop_claims(res, tenant, f.claims(12), f.submitter)
    batch = ingest(res, tenant, DAY)["batch"]
    with res.sessions() as session:
        ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    return batch


def test_reference_rules_report_not_run_until_their_tables_are_loaded(res: Resources,
                                                                      tmp_path) -> None:
    before = scrub_batch(res, validated_batch(res, "northside", 3), RULES)
    assert set(before["not_run"]) >= REFERENCE_RULES
    assert before["not_run"] == sorted(before["not_run"])
    assert before["edits"].get("DT-03", 0) == 0  # within the default 365 days

    load_file(res.sessions, "hcpcs", hcpcs_file(tmp_path / "h.txt", hcpcs_record("Z9991")))
    for claim_type in ("professional", "institutional"):
        load_file(res.sessions, "ncci_ptp", ptp_file(
            tmp_path / f"{claim_type}.txt", "0001F\t0002F\t\t20200101\t*\t1\tx"),
            claim_type=claim_type)
    for setting in ("Practitioner", "Outpatient Hospital"):  # 837P and 837I each their own
        load_file(res.sessions, "mue", mue_file(tmp_path / f"{setting}.csv", setting,
                                                "Z9991,1,1 Line Edit,x"))
    filing = dict.fromkeys(PAYERS, 1)
    after = scrub_batch(res, validated_batch(res, "lakeview", 4), RULES, filing)
    assert not REFERENCE_RULES & set(after["not_run"])
    assert after["edits"].get("DT-03", 0) > 0  # the payers' one-day limit was used
