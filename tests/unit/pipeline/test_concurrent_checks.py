"""Two runs checking one batch at once (a re-run started while the scheduled run works):
each claim is moved once and gets its edits once, from whichever run moved it."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from revcycle.db import models
from revcycle.pipeline import quality as quality_module
from revcycle.pipeline import scrub as scrub_module
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.status import Status
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    drop_claims,
    factory,
    twice_at_once,
)
from tests.unit.pipeline.test_scrub_reference import RULES

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)


def _edits_and_events(res: Resources, stage: str) -> tuple[Counter, Counter]:
    with res.sessions() as session:
        edits = Counter(session.execute(
            select(models.Edit.claim_id, models.Edit.rule_id, models.Edit.line_number)
            .where(models.Edit.stage == stage)).all())
        events = Counter(session.scalars(select(models.ClaimEvent.claim_id)
                                         .where(models.ClaimEvent.stage == stage)))
    return edits, events


def test_two_scrubs_at_once_move_and_flag_each_claim_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory("northside", seed=5, payers=list(PAYERS))
    sim = f.generate(12, defect_rate=0.5, defects=("NPI-01", "DX-01", "POS-01"))
    drop_claims(res, "northside", sim.claims, f.submitter)
    batch = ingest(res, "northside", DAY)["batch"]
    with res.sessions() as session:
        move(session, [c.id for c in claims_in(session, batch, Status.RECEIVED)],
             Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    results = twice_at_once(monkeypatch, scrub_module, "current_claims",
                            lambda: scrub_batch(res, batch, RULES))

    with res.sessions() as session:
        claims = claims_in(session, batch, Status.READY) + claims_in(
            session, batch, Status.REJECTED)
    edits, events = _edits_and_events(res, "scrub")
    assert len(claims) == 12 == sum(r["ready"] + r["rejected"] for r in results)
    assert set(events.values()) == {1}  # one status change per claim
    assert edits and set(edits.values()) == {1}  # no finding recorded twice
    assert {claim_id for claim_id, _, _ in edits} <= {c.id for c in claims}


def test_two_quality_checks_at_once_move_and_flag_each_claim_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory("lakeview", seed=6)
    sim = f.generate(30, defect_rate=0.3, defects=("DEM-01",))
    drop_claims(res, "lakeview", sim.claims, f.submitter)
    batch = ingest(res, "lakeview", DAY)["batch"]
    results = twice_at_once(monkeypatch, quality_module, "current_claims",
                            lambda: check_quality(res, batch))

    edits, events = _edits_and_events(res, "quality")
    assert sum(r["validated"] + r["failed"] for r in results) == 30
    assert sum(events.values()) == 30 and set(events.values()) == {1}
    assert set(edits.values()) == {1}
    with res.sessions() as session:
        failed = {c.id for c in claims_in(session, batch, Status.DQ_FAILED)}
    assert {claim_id for claim_id, _, _ in edits} == failed
