"""One tenant never sees or touches another's rows or objects.

Two provider clients bill the same claims (same patient control numbers, member ids,
charges) to the same payer; the payer's answers to the second collide with the first's
(the same 835 trace numbers, a 999 naming the first's group control number). Whatever
the second tenant's day does, the first's claims, books, queues, aging and report stay as
they were, and everything each tenant's read paths return is its own: its rows, and
objects whose keys start with ``<tenant>/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select

from revcycle.channels import Delivery
from revcycle.channels.simulator import SimulatorChannel, answer_key
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.acknowledgment import FunctionalAck, TransactionSetAck
from revcycle.model.claim import Claim, ClaimType, Submitter
from revcycle.model.remittance import Remittance
from revcycle.pipeline import queues
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.aging import ar_aging
from revcycle.pipeline.batches import ALL_TENANTS, TenantError
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.report import build_day_report, day_report
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.simulator import ClaimFactory
from revcycle.status import Status
from revcycle.storage import zone_prefix
from revcycle.x12.ack999 import write_999
from revcycle.x12.remit835 import write_835
from revcycle.x12.writer import CounterControlNumbers
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    RecordingChannel,
    drop_claims,
    profile,
    ready_batch,
)
from tests.unit.pipeline.test_acks_post import (
    FROM_PAYER,
    PAYER,
    _payer_remittances,
    _read_835,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

A, B = "alpha", "bravo"
RULES = {PAYER.payer_id: PAYER.scrub_rules(DEFAULT_RULES)}


def _same_claims(n: int = 20, seed: int = 61) -> tuple[list[Claim], Submitter]:
    """Claims both tenants bill: one factory (one prefix), so every identifier collides."""
    f = ClaimFactory(seed, "SAME", as_of=DAY, payers=(profile(PAYER.payer_id),))
    return f.claims(n, ClaimType.PROFESSIONAL), f.submitter


def _sent(res: Resources, tenant: str, claims: Sequence[Claim],
          submitter: Submitter) -> tuple[str, Delivery, bytes]:
    """The tenant's claims READY and sent to a payer that answers nothing."""
    batch = ready_batch(res, tenant, claims, submitter)
    channel = RecordingChannel()
    submit(res, batch, PAYER, channel)
    [(delivery, data)] = channel.deliveries
    return batch, delivery, data


def _put_835(res: Resources, delivery: Delivery, remittances: list[Remittance],
             number: int) -> str:
    written = write_835(remittances, FROM_PAYER, CounterControlNumbers(interchange=number))
    key = answer_key(dataclasses.replace(delivery, interchange_control_number=f"{number:09d}"),
                     PAYER.payer_id, "835")
    res.store.put(key, written.text.encode())
    return key


def _rejecting_999(res: Resources, delivery: Delivery, submission: models.Submission,
                   number: int) -> None:
    """A 999 in ``delivery``'s tenant's inbound that rejects ``submission``'s set."""
    [set_number] = submission.transaction_control_numbers
    rejection = TransactionSetAck("837", set_number, "005010X222A1", "R", ("5",))
    group = FunctionalAck.for_sets("HC", submission.group_control_number, "005010X222A1",
                                   [rejection])
    written = write_999([group], FROM_PAYER, CounterControlNumbers(interchange=number))
    res.store.put(answer_key(dataclasses.replace(
        delivery, interchange_control_number=f"{number:09d}"), PAYER.payer_id, "999"),
        written.text.encode())


def _of(res: Resources, table: type, tenant: str) -> list[Any]:
    with res.sessions() as session:
        return list(session.scalars(select(table).where(table.tenant_id == tenant)
                                    .order_by(table.id)))


def _claims(res: Resources, tenant: str) -> list[tuple[Any, ...]]:
    return [(c.id, c.status, c.paid, c.adjusted, c.payer_claim_control_number)
            for c in _of(res, ClaimRow, tenant)]


# --- findings, one test each ------------------------------------------------------------


def test_a_999_in_one_tenants_inbound_never_answers_anothers_submission(
        res: Resources) -> None:
    claims, submitter = _same_claims()
    _sent(res, A, claims, submitter)
    batch_b, delivery_b, _ = _sent(res, B, claims, submitter)
    [submission_a] = _of(res, models.Submission, A)
    before = _claims(res, A)
    # The payer (or a misrouted file) answers B with a 999 naming A's group number.
    _rejecting_999(res, delivery_b, submission_a, 770)

    apply_acknowledgments(res, batch_b, PAYER.payer_id)

    assert _claims(res, A) == before
    assert {c[1] for c in before} == {Status.SUBMITTED}
    assert [s.status for s in _of(res, models.Submission, A)] == ["SENT"]
    with res.sessions() as session:
        assert session.scalars(select(models.Acknowledgment.submission_id)).all() == [None]


def test_another_tenants_trace_number_never_makes_an_835_a_duplicate(
        res: Resources) -> None:
    claims, submitter = _same_claims()
    batch_a, delivery_a, data_a = _sent(res, A, claims, submitter)
    batch_b, delivery_b, data_b = _sent(res, B, claims, submitter)
    paid_a = _payer_remittances(data_a)
    paid_b = _payer_remittances(data_b)
    for mine, theirs in zip(paid_b, paid_a, strict=True):
        mine.trace_number = theirs.trace_number  # the same check number, another tenant
    _put_835(res, delivery_a, paid_a, 780)
    _put_835(res, delivery_b, paid_b, 781)
    assert post_remittances(res, batch_a, PAYER.payer_id)["claims_posted"] == len(claims)
    after_a = _claims(res, A)

    posted = post_remittances(res, batch_b, PAYER.payer_id)

    assert (posted["duplicates"], posted["claims_posted"]) == (0, len(claims))
    assert _claims(res, A) == after_a
    assert {c[1] for c in _claims(res, B)} <= {Status.PAID, Status.PARTIALLY_PAID,
                                              Status.DENIED}
    # B's own re-import is still a duplicate.
    _put_835(res, delivery_b, paid_b, 782)
    assert post_remittances(res, batch_b, PAYER.payer_id)["duplicates"] == len(paid_b)


def test_a_held_835_is_not_hidden_by_another_tenants_posted_one(res: Resources) -> None:
    claims, submitter = _same_claims()
    batch_a, delivery_a, data_a = _sent(res, A, claims, submitter)
    batch_b, delivery_b, data_b = _sent(res, B, claims, submitter)
    paid_a, paid_b = _payer_remittances(data_a), _payer_remittances(data_b)
    paid_b[0].trace_number = paid_a[0].trace_number
    paid_b[0].claims[0].paid += 1  # unbalanced: held
    _put_835(res, delivery_a, paid_a, 790)
    _put_835(res, delivery_b, paid_b, 791)
    post_remittances(res, batch_a, PAYER.payer_id)

    assert post_remittances(res, batch_b, PAYER.payer_id)["held"] == 1

    with res.sessions() as session:
        held = queues.held(session, tenant=B)
        report = build_day_report(session, DAY, [B])
    assert [(h["tenant"], h["trace_number"]) for h in held] == [(B, paid_a[0].trace_number)]
    assert report["needs_a_person"]["held_remittances"]["count"] == 1


def test_a_tenant_cannot_work_another_tenants_exception(res: Resources) -> None:
    claims, submitter = _same_claims()
    batch_a, delivery_a, data_a = _sent(res, A, claims, submitter)
    _sent(res, B, claims, submitter)
    paid_a = _payer_remittances(data_a)
    stray = paid_a[0].claims[0]
    stray.patient_control_number = "NOTOURS0001"
    _put_835(res, delivery_a, paid_a, 800)
    post_remittances(res, batch_a, PAYER.payer_id)
    with res.sessions() as session:
        [payment] = [e["payment_id"] for e in queues.exceptions(session, tenant=A)]
        assert queues.exceptions(session, tenant=B) == []
    claim_b = _of(res, ClaimRow, B)[0].id
    claim_a = next(c.id for c in _of(res, ClaimRow, A) if c.status == Status.SUBMITTED)

    with res.sessions() as session:
        with pytest.raises(queues.QueueError, match="not in the exception queue"):
            queues.resolve_exception(session, payment, "refunded", "biller", tenant=B)
        session.rollback()
    with pytest.raises(queues.QueueError, match="not in the exception queue"):
        queues.post_by_hand(res, payment, claim_b, "biller", tenant=B)
    # Even acting for A: never to B's claim.
    with pytest.raises(queues.QueueError, match="cannot be posted"):
        queues.post_by_hand(res, payment, claim_b, "biller", tenant=A)
    with res.sessions() as session:
        assert queues.exceptions(session, tenant=A)[0]["resolved_at"] is None

    done = queues.post_by_hand(res, payment, claim_a, "biller", tenant=A)

    assert done["claim_id"] == claim_a


def test_no_tenant_takes_the_reports_zone_of_every_tenants_report(res: Resources) -> None:
    claims, submitter = _same_claims(n=2)
    drop_claims(res, ALL_TENANTS, claims, submitter)
    with pytest.raises(TenantError):
        ingest(res, ALL_TENANTS, DAY)
    _sent(res, A, claims, submitter)
    with pytest.raises(TenantError):
        day_report(res, DAY, [A, ALL_TENANTS])
    # The combined report of a run goes to the reserved zone, never a tenant's.
    keys = day_report(res, DAY, [A])["report_keys"]
    assert all(k.startswith(f"{ALL_TENANTS}/") for k in keys[ALL_TENANTS].values())
    assert all(k.startswith(f"{A}/") for k in keys[A].values())


# --- the whole day of both tenants ------------------------------------------------------


def _day(res: Resources, tenant: str, claims: Sequence[Claim], submitter: Submitter,
         collide_with: str | None = None) -> str:
    """The tenant's day through every stage. With ``collide_with``, the payer's answers
    collide with that tenant's: its trace numbers, and a 999 naming its group number."""
    drop_claims(res, tenant, claims, submitter)
    batch = ingest(res, tenant, DAY)["batch"]
    check_quality(res, batch)
    scrub_batch(res, batch, RULES)
    submit(res, batch, PAYER, SimulatorChannel(res.store, PAYER))
    if collide_with is not None:
        _collide(res, tenant, collide_with)
    apply_acknowledgments(res, batch, PAYER.payer_id)
    post_remittances(res, batch, PAYER.payer_id)
    day_report(res, DAY, [tenant])
    return batch


def _collide(res: Resources, tenant: str, other: str) -> None:
    traces = [r.trace_number for r in _of(res, models.Remittance, other)]
    assert traces
    [key] = [k for k in res.store.list(zone_prefix(tenant, "inbound"))
             if k.endswith("-835.x12")]
    remittances = _read_835(res.store.get(key))
    for remittance, trace in zip(remittances, traces, strict=False):
        remittance.trace_number = trace
    res.store.put(key, write_835(remittances, FROM_PAYER,
                                 CounterControlNumbers(interchange=810)).text.encode())
    [submission] = _of(res, models.Submission, other)
    [mine] = _of(res, models.Submission, tenant)
    delivery = Delivery(tenant, DAY, mine.batch_id, mine.interchange_control_number)
    _rejecting_999(res, delivery, submission, 811)


def _view(res: Resources, tenant: str) -> dict[str, Any]:
    """Everything tenant ``tenant`` can read: its claims and books, queues, aging, report
    and objects."""
    with res.sessions() as session:
        report = build_day_report(session, DAY, [tenant])
        view = {"claims": _claims(res, tenant),
                "submissions": [(s.id, s.status) for s in _of(res, models.Submission, tenant)],
                "ledger": [(e.id, e.claim_id, e.account, e.amount)
                           for e in _of(res, models.LedgerEntry, tenant)],
                "exceptions": queues.exceptions(session, tenant=tenant, include_resolved=True),
                "held": queues.held(session, tenant=tenant),
                "denials": queues.denials(session, tenant=tenant),
                "aging": ar_aging(session, DAY, tenant), "report": report}
    view["objects"] = {k: res.store.sha256(k) for k in res.store.list(f"{tenant}/")}
    return view


def _only_own(res: Resources, tenant: str) -> None:
    """The tenant's rows reference its own rows and objects only."""
    own = f"{tenant}/"
    with res.sessions() as session:
        tenants = dict(session.execute(select(ClaimRow.id, ClaimRow.tenant_id)).all())
        submissions = dict(session.execute(
            select(models.Submission.id, models.Submission.tenant_id)).all())
        files = dict(session.execute(select(models.File.id, models.File.tenant_id)).all())
        remittances = {r.id: r for r in session.scalars(select(models.Remittance))}
        for file in session.scalars(select(models.File).where(
                models.File.tenant_id == tenant)):
            assert file.key.startswith(own) and file.source_key.startswith(own)
        for claim in session.scalars(select(ClaimRow).where(ClaimRow.tenant_id == tenant)):
            assert files[claim.file_id] == tenant
            assert claim.submission_id is None or submissions[claim.submission_id] == tenant
        for submission in session.scalars(select(models.Submission).where(
                models.Submission.tenant_id == tenant)):
            assert submission.key.startswith(own)
        for ack in session.scalars(select(models.Acknowledgment)):
            if files[ack.file_id] == tenant and ack.submission_id is not None:
                assert submissions[ack.submission_id] == tenant
        for payment in session.scalars(select(models.Payment)):
            remittance = remittances[payment.remittance_id]
            if remittance.tenant_id == tenant:
                assert files[remittance.file_id] == tenant
                assert payment.source_key.startswith(own)
                assert payment.claim_id is None or tenants[payment.claim_id] == tenant
        for entry in session.scalars(select(models.LedgerEntry).where(
                models.LedgerEntry.tenant_id == tenant)):
            assert entry.claim_id is None or tenants[entry.claim_id] == tenant
        rows = [*queues.exceptions(session, tenant=tenant, include_resolved=True),
                *queues.held(session, tenant=tenant), *queues.denials(session, tenant=tenant)]
        assert {r["tenant"] for r in rows} <= {tenant}
        assert all(r["file"].startswith(own) for r in rows if "file" in r)


def test_two_tenants_days_with_colliding_identifiers_stay_apart(res: Resources) -> None:
    claims, submitter = _same_claims(n=24, seed=62)
    _day(res, A, claims, submitter)
    before = _view(res, A)
    assert before["report"]["claims"]["in"] == len(claims)

    _day(res, B, claims, submitter, collide_with=A)

    assert _view(res, A) == before
    for tenant in (A, B):
        _only_own(res, tenant)
    view_b = _view(res, B)
    # B's day went as A's did: the same claims, the same payer, its own answers posted.
    assert view_b["report"]["claims"] == before["report"]["claims"]
    assert view_b["report"]["dollars"] == before["report"]["dollars"]
    assert any("/data-docs/" in k for k in view_b["objects"])  # quality's, in B's zone
