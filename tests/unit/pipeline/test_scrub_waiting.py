"""Claims whose payer module is broken wait at scrub (VALIDATED, one PAYER-02 edit saying
why) and go on once the module is fixed; the other payers' claims are not held up."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from revcycle.db.models import Claim, Edit
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.scrub import DEFAULT_RULES
from tests.unit.pipeline.conftest import PAYERS
from tests.unit.pipeline.test_scrub_reference import validated_batch

EVERY_PAYER = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
ALL_BUT_SIMB1 = {pid: rules for pid, rules in EVERY_PAYER.items() if pid != "SIMB1"}
WHY = "payer module blue is disabled: field channels[0].kind: unknown channel 'sftpp'"


def _claims(res: Resources, batch: str) -> dict[str, Counter]:
    with res.sessions() as session:
        rows = session.execute(select(Claim.payer_id, Claim.status).where(
            Claim.batch_id == batch)).all()
    by_payer: dict[str, Counter] = {}
    for payer, status in rows:
        by_payer.setdefault(payer, Counter())[status] += 1
    return by_payer


def _payer_edits(res: Resources) -> list[tuple[str, str]]:
    with res.sessions() as session:
        return list(session.execute(select(Edit.rule_id, Edit.message).where(
            Edit.rule_id.in_(["PAYER-01", "PAYER-02"]))).all())


def _batch(res: Resources) -> str:
    batch = validated_batch(res, "northside", 5)
    assert set(_claims(res, batch)) >= {"SIMA1", "SIMB1"}
    return batch


def test_claims_of_a_disabled_payer_wait_and_go_once_it_is_fixed(res: Resources) -> None:
    batch = _batch(res)
    waiting = _claims(res, batch)["SIMB1"].total()
    first = scrub_batch(res, batch, ALL_BUT_SIMB1, disabled_payers={"SIMB1": WHY})
    assert first["waiting"] == waiting
    claims = _claims(res, batch)
    assert claims["SIMB1"] == Counter({"VALIDATED": waiting})
    assert "VALIDATED" not in claims["SIMA1"]  # the other payer's claims went on
    edits = _payer_edits(res)
    assert len(edits) == waiting
    assert all(rule == "PAYER-02" and WHY in message and "waits" in message
               for rule, message in edits)
    # Scrubbed again while still broken: still waiting, no second edit.
    assert scrub_batch(res, batch, ALL_BUT_SIMB1, disabled_payers={"SIMB1": WHY})["waiting"] \
        == waiting
    assert len(_payer_edits(res)) == waiting
    # Fixed: the claims are scrubbed like any other.
    fixed = scrub_batch(res, batch, EVERY_PAYER)
    assert fixed["claims"] == waiting and fixed["ready"] + fixed["rejected"] == waiting
    assert "VALIDATED" not in _claims(res, batch)["SIMB1"]


def test_an_unknown_payer_waits_while_a_module_failed_to_import(res: Resources) -> None:
    batch = _batch(res)
    result = scrub_batch(res, batch, ALL_BUT_SIMB1, unloaded_modules=("half_written",))
    assert result["waiting"] == _claims(res, batch)["SIMB1"].total() > 0
    assert all("half_written failed to load" in m for _, m in _payer_edits(res))


def test_an_unknown_payer_is_rejected_when_every_module_loaded(res: Resources) -> None:
    batch = _batch(res)
    simb1 = _claims(res, batch)["SIMB1"].total()
    scrub_batch(res, batch, ALL_BUT_SIMB1)
    assert _claims(res, batch)["SIMB1"] == Counter({"REJECTED": simb1})
    assert {rule for rule, _ in _payer_edits(res)} == {"PAYER-01"}
