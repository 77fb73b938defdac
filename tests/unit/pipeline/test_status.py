"""The claim status machine, and ``batches.move`` that applies it to claim rows."""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import select

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent
from revcycle.pipeline.batches import move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.status import (
    CORRECTABLE,
    RESUBMITTABLE,
    TRANSITIONS,
    InvalidTransition,
    Status,
    check_transition,
)
from tests.unit.pipeline.conftest import DAY, drop_claims, factory

S = Status
# The machine as DESIGN.md draws it, spelled out here independently of revcycle.status.
ALLOWED = {
    (S.RECEIVED, S.VALIDATED), (S.RECEIVED, S.DQ_FAILED),
    (S.VALIDATED, S.READY), (S.VALIDATED, S.REJECTED),
    (S.READY, S.SUBMITTED), (S.READY, S.REJECTED),
    (S.SUBMITTED, S.ACCEPTED), (S.SUBMITTED, S.PAYER_REJECTED),
    (S.SUBMITTED, S.PAID), (S.SUBMITTED, S.PARTIALLY_PAID), (S.SUBMITTED, S.DENIED),
    (S.ACCEPTED, S.PAYER_REJECTED),
    (S.ACCEPTED, S.PAID), (S.ACCEPTED, S.PARTIALLY_PAID), (S.ACCEPTED, S.DENIED),
    (S.PAID, S.REVERSED), (S.PARTIALLY_PAID, S.REVERSED),
    (S.PAID, S.PARTIALLY_PAID),  # a later part of a split claim denies lines
    (S.DENIED, S.REVERSED), (S.DENIED, S.PAID), (S.DENIED, S.PARTIALLY_PAID),
    (S.REVERSED, S.PAID), (S.REVERSED, S.PARTIALLY_PAID), (S.REVERSED, S.DENIED),
    # A corrected (or re-checked) claim re-enters at quality as a new version.
    (S.REJECTED, S.RECEIVED), (S.DQ_FAILED, S.RECEIVED), (S.PAYER_REJECTED, S.RECEIVED),
    # An adjudicated claim is replaced (7) or voided (8) as a new version of itself; the
    # payer's reversal of its first adjudication may come while that is with the payer,
    # and a reversal ends a void.
    (S.PAID, S.RECEIVED), (S.PARTIALLY_PAID, S.RECEIVED), (S.DENIED, S.RECEIVED),
    (S.REVERSED, S.RECEIVED), (S.SUBMITTED, S.REVERSED), (S.ACCEPTED, S.REVERSED),
    (S.REVERSED, S.VOIDED),
    # The payer refuses a replacement after taking back the decision it named.
    (S.REVERSED, S.PAYER_REJECTED),
}


@pytest.mark.parametrize(("current", "target"), list(product(Status, Status)),
                         ids=lambda s: s.value)
def test_the_machine_allows_exactly_the_listed_transitions(current: Status,
                                                           target: Status) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_transition(current, target)
        assert (caught.value.current, caught.value.target) == (current, target)


def test_every_status_has_its_rules_and_only_a_correction_goes_back() -> None:
    assert set(TRANSITIONS) == set(Status)
    for rejected in CORRECTABLE:
        assert TRANSITIONS[rejected] == {S.RECEIVED}
    # Only a correction, a replacement or a void goes back to the start; nothing skips
    # scrub, and a voided claim is done.
    assert {c for c, targets in TRANSITIONS.items() if S.RECEIVED in targets} == (
        CORRECTABLE | RESUBMITTABLE)
    assert TRANSITIONS[S.VOIDED] == set()
    assert [c for c, targets in TRANSITIONS.items() if S.READY in targets] == [S.VALIDATED]


def _claims(res: Resources, n: int = 20) -> tuple[str, list[int]]:
    f = factory("statustest", seed=4)
    drop_claims(res, "statustest", f.claims(n), f.submitter)
    batch = ingest(res, "statustest", DAY)["batch"]
    with res.sessions() as session:
        ids = list(session.scalars(select(ClaimRow.id).where(ClaimRow.batch_id == batch)
                                   .order_by(ClaimRow.id)))
    return batch, ids


def _events(res: Resources, stage: str) -> list[tuple[int, str | None, str]]:
    with res.sessions() as session:
        return [tuple(row) for row in session.execute(
            select(ClaimEvent.claim_id, ClaimEvent.from_status, ClaimEvent.to_status)
            .where(ClaimEvent.stage == stage).order_by(ClaimEvent.id))]


def _statuses(res: Resources, ids: list[int]) -> dict[int, str]:
    with res.sessions() as session:
        return dict(session.execute(select(ClaimRow.id, ClaimRow.status)
                                    .where(ClaimRow.id.in_(ids))).all())


def test_move_changes_only_claims_in_the_given_status_with_one_event_each(
        res: Resources) -> None:
    _, ids = _claims(res)
    first, rest = ids[:6], ids[6:]
    with res.sessions() as session:
        assert sorted(move(session, first, S.RECEIVED, S.VALIDATED, "first")) == first
        session.commit()
    with res.sessions() as session:
        # All of them asked, only those still RECEIVED move.
        assert sorted(move(session, ids, S.RECEIVED, S.VALIDATED, "second")) == rest
        session.commit()
    assert set(_statuses(res, ids).values()) == {S.VALIDATED}
    assert _events(res, "first") == [(i, "RECEIVED", "VALIDATED") for i in first]
    assert _events(res, "second") == [(i, "RECEIVED", "VALIDATED") for i in rest]
    with res.sessions() as session:
        # Claims in another status are left alone and get no event.
        assert move(session, ids, S.RECEIVED, S.DQ_FAILED, "third") == []
        session.commit()
    assert _events(res, "third") == []


def test_move_refuses_a_transition_the_machine_does_not_allow(res: Resources) -> None:
    _, ids = _claims(res, 5)
    with res.sessions() as session, pytest.raises(InvalidTransition):
        move(session, ids, S.RECEIVED, S.PAID, "bad")
    assert set(_statuses(res, ids).values()) == {S.RECEIVED}
    assert _events(res, "bad") == []


def test_move_handles_more_ids_than_one_statement_takes(res: Resources) -> None:
    _, ids = _claims(res, 8)
    # Unknown ids first, so the real ones fall in the third chunk of 500.
    asked = list(range(10_000, 11_100)) + ids
    with res.sessions() as session:
        assert sorted(move(session, asked, S.RECEIVED, S.VALIDATED, "chunks")) == sorted(ids)
        session.commit()
    assert sorted(i for i, _, _ in _events(res, "chunks")) == ids
