"""Submit: READY claims into one 837 per payer and claim type, through the outbox."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from revcycle.channels import Delivery, Receipt
from revcycle.channels.simulator import SimulatorChannel, answer_key
from revcycle.csvclaims import write_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, ControlNumber, LedgerEntry, Submission
from revcycle.model.claim import ClaimBatch, ClaimType
from revcycle.pipeline import sending
from revcycle.pipeline import submit as submit_module
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.status import Status
from revcycle.storage import object_key, zone_prefix
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    counts,
    drop,
    factory,
    ready_batch,
    twice_at_once,
)
from tests.x12_validation import pyx12_errors

TENANT = "lakeview"


def _submissions(res: Resources) -> list[Submission]:
    with res.sessions() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def _claim_rows(res: Resources) -> list[ClaimRow]:
    with res.sessions() as session:
        return list(session.scalars(select(ClaimRow).order_by(ClaimRow.id)))


def _next_interchange(res: Resources) -> int:
    with res.sessions() as session:
        return session.get(ControlNumber, "interchange").next_value


class StatusAtSend(RecordingChannel):
    """Records, for each delivery, the status of its submission while it is being sent."""

    def __init__(self, res: Resources) -> None:
        super().__init__()
        self.res = res
        self.statuses: dict[str, str] = {}

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        with self.res.sessions() as session:
            self.statuses[delivery.interchange_control_number] = session.scalar(
                select(Submission.status).where(Submission.interchange_control_number
                                                == delivery.interchange_control_number))
        return super().send(delivery, data)


class FailingOnce(RecordingChannel):
    """A channel whose n-th send fails as a network fault would, once."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.attempts: list[str] = []

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        self.attempts.append(delivery.interchange_control_number)
        if len(self.attempts) == self.fail_on:
            raise ConnectionError("simulated network fault")
        return super().send(delivery, data)


def test_ready_claims_become_one_837_per_payer_and_claim_type(res: Resources) -> None:
    f = factory(TENANT, seed=21)
    claims = f.claims(50)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    channel = StatusAtSend(res)

    results = [submit(res, batch, payer, channel) for payer in PAYERS.values()]

    groups = Counter((c.payer.payer_id, c.claim_type.value) for c in claims)
    subs = _submissions(res)
    assert sorted((s.payer_id, s.claim_type) for s in subs) == sorted(groups)
    assert sum(r["created"] for r in results) == sum(r["sent"] for r in results) == len(subs)
    assert sum(r["claims"] for r in results) == len(claims)
    # Interchange control numbers come from the database sequence: distinct, in order.
    numbers = [s.interchange_control_number for s in subs]
    assert numbers == [f"{n:09d}" for n in range(1, len(subs) + 1)]
    assert _next_interchange(res) == len(subs) + 1
    # Each was recorded, then claimed for sending (SENDING) when sent, and SENT after.
    assert channel.statuses == dict.fromkeys(numbers, "SENDING")
    delivered = {d.interchange_control_number: (d, data) for d, data in channel.deliveries}
    assert set(delivered) == set(numbers)

    rows = _claim_rows(res)
    assert all(r.status == Status.SUBMITTED and r.submission_id for r in rows)
    by_submission: dict[int, set[str]] = {}
    for row in rows:
        by_submission.setdefault(row.submission_id, set()).add(row.patient_control_number)
    for sub in subs:
        assert sub.status == "SENT" and sub.sent_at is not None
        assert sub.key == object_key(TENANT, "outbound", DAY, batch,
                                     f"{sub.payer_id}-{sub.interchange_control_number}-837.x12")
        data = res.store.get(sub.key)
        delivery, sent = delivered[sub.interchange_control_number]
        assert sent == data
        assert (delivery.tenant, delivery.business_date, delivery.batch) == (TENANT, DAY, batch)
        document = X12Reader(data, {"837": parse_837}).read()
        [interchange] = document.interchanges
        [group] = interchange.groups
        assert interchange.control_number == sub.interchange_control_number
        assert interchange.receiver_id.strip() == PAYERS[sub.payer_id].receiver_id
        assert group.control_number == sub.group_control_number
        [body] = document.bodies(ClaimBatch)
        in_file = [c.patient_control_number for c in body.claims]
        assert set(in_file) == by_submission[sub.id] and len(in_file) == sub.claim_count
        assert {c.payer.payer_id for c in body.claims} == {sub.payer_id}
        assert {c.claim_type.value for c in body.claims} == {sub.claim_type}
        assert sub.total_charge == sum((c.total_charge for c in body.claims), Decimal(0))
        [(st02, claim_ids)] = sub.transaction_control_numbers.items()
        assert [t.control_number for t in document.transactions()] == [st02]
        assert sorted(claim_ids) == sorted(r.id for r in rows if r.submission_id == sub.id)
        assert pyx12_errors(data.decode()) == []
    with res.sessions() as session:
        events = Counter(session.scalars(select(ClaimEvent.claim_id).where(
            ClaimEvent.from_status == "READY", ClaimEvent.to_status == "SUBMITTED",
            ClaimEvent.stage == "submit")))
        ledger = session.execute(select(LedgerEntry.claim_id, LedgerEntry.account,
                                        LedgerEntry.amount)).all()
    assert events == Counter({r.id: 1 for r in rows})
    # The charge is on the books once: A/R debit, revenue credit.
    charges = {r.id: r.total_charge for r in rows}
    assert sorted(ledger) == sorted(
        [(i, "AR", c) for i, c in charges.items()] + [(i, "REVENUE", -c)
                                                     for i, c in charges.items()])

    # A re-run finds nothing to do and sends nothing.
    before = counts(res)
    again = [submit(res, batch, payer, channel) for payer in PAYERS.values()]
    assert all((r["created"], r["sent"], r["claims"]) == (0, 0, 0) for r in again)
    assert len(channel.deliveries) == len(subs)
    assert counts(res) == before
    assert len(res.store.list(zone_prefix(TENANT, "outbound"))) == len(subs)


@pytest.mark.parametrize("fail_on", [1, 2])
def test_a_send_that_fails_is_resent_under_the_same_interchange_number(
        res: Resources, fail_on: int) -> None:
    f = factory(TENANT, seed=22, payers=["SIMA1"])
    claims = f.claims(40)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    payer = PAYERS["SIMA1"]
    channel = FailingOnce(fail_on)

    with pytest.raises(ConnectionError):
        submit(res, batch, payer, channel)

    subs = _submissions(res)
    assert len(subs) == 2  # the intent of both files was recorded before any send
    failed = channel.attempts[-1]
    assert {s.interchange_control_number: s.status for s in subs}[failed] == "PENDING"
    rows = _claim_rows(res)
    failed_id = next(s.id for s in subs if s.interchange_control_number == failed)
    assert all(r.status == Status.READY for r in rows if r.submission_id == failed_id)
    assert all(r.submission_id is not None for r in rows)
    written = {s.interchange_control_number: res.store.get(s.key) for s in subs}

    result = submit(res, batch, payer, channel)

    assert result["created"] == 0
    assert result["sent"] == 3 - fail_on
    resent = {d.interchange_control_number: data for d, data in channel.deliveries}
    assert resent[failed] == written[failed]  # the same file, under the same number
    assert sorted(resent) == sorted(written)
    assert len(channel.deliveries) == 2  # nothing went out twice
    assert _next_interchange(res) == 3  # no new number was taken
    assert [s.status for s in _submissions(res)] == ["SENT", "SENT"]
    rows = _claim_rows(res)
    assert all(r.status == Status.SUBMITTED for r in rows)
    # Each claim is in exactly one submission.
    listed = [i for s in _submissions(res) for ids in s.transaction_control_numbers.values()
              for i in ids]
    assert sorted(listed) == sorted(r.id for r in rows)
    assert sum(s.claim_count for s in _submissions(res)) == len(claims)
    with res.sessions() as session:
        charges = Counter(session.scalars(select(LedgerEntry.claim_id).where(
            LedgerEntry.account == "AR")))
    assert charges == Counter({r.id: 1 for r in rows})


def test_a_crash_after_delivery_is_found_at_the_payer_and_not_sent_again(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sent, but the crash came before SENT was recorded: the re-run asks the payer first,
    finds the interchange there and records it; the payer answered once."""
    f = factory(TENANT, seed=23, payers=["SIMC1"])
    batch = ready_batch(res, TENANT, f.claims(20, None), f.submitter)
    payer = PAYERS["SIMC1"]
    channel = SimulatorChannel(res.store, payer)
    crashes: list[str] = []

    def crash_once(name: str) -> None:
        if name == "submit.after_send" and not crashes:
            crashes.append(name)
            raise ConnectionError("simulated crash after the send")

    monkeypatch.setattr(sending, "crash_point", crash_once)
    with pytest.raises(ConnectionError):
        submit(res, batch, payer, channel)
    first = _submissions(res)[0]
    assert first.status == "PENDING"
    delivery = Delivery(TENANT, DAY, batch, first.interchange_control_number)
    answers = {k: res.store.get(k) for k in res.store.list(zone_prefix(TENANT, "inbound"))}
    assert set(answers) == {answer_key(delivery, "SIMC1", kind)
                            for kind in ("999", "277CA", "835")}

    result = submit(res, batch, payer, channel)

    assert result["created"] == 0 and result["sent"] == len(_submissions(res))
    inbound = res.store.list(zone_prefix(TENANT, "inbound"))
    assert len(inbound) == 3 * len(_submissions(res))  # one set of answers per interchange
    assert {k: res.store.get(k) for k in answers} == answers
    assert all(s.status == "SENT" for s in _submissions(res))
    assert all(r.status == Status.SUBMITTED for r in _claim_rows(res))


def test_the_simulator_channel_is_idempotent_by_interchange_number(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=24, payers=["SIMB1"])
    batch = ready_batch(res, TENANT, f.claims(15, None), f.submitter)
    channel = RecordingChannel()
    submit(res, batch, PAYERS["SIMB1"], channel)
    delivery, data = channel.deliveries[0]
    simulator = SimulatorChannel(res.store, PAYERS["SIMB1"])
    puts: list[str] = []
    put = res.store.put

    def counting_put(key: str, body: bytes) -> None:
        puts.append(key)
        put(key, body)

    monkeypatch.setattr(res.store, "put", counting_put)
    simulator.send(delivery, data)
    expected = [answer_key(delivery, "SIMB1", kind) for kind in ("277CA", "835", "999")]
    assert sorted(puts) == sorted(expected)
    first = {key: res.store.get(key) for key in expected}

    simulator.send(delivery, data)  # a retry of the same interchange
    assert len(puts) == 3
    assert {key: res.store.get(key) for key in expected} == first

    other = Delivery(delivery.tenant, delivery.business_date, delivery.batch, "000000777")
    simulator.send(other, data)  # another interchange is another delivery
    assert len(puts) == 6


@pytest.mark.parametrize("claim_type", [ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL])
def test_837s_built_from_csv_claims_pass_pyx12(res: Resources, claim_type: ClaimType) -> None:
    f = factory(TENANT, seed=25, payers=["SIMB1"])  # a plan that covers dependents
    claims = f.claims(30, claim_type)
    assert any(c.patient is not None for c in claims)
    drop(res, TENANT, "claims.csv", write_csv_claims(claims))
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        assert len(ids) == 30
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        move(session, ids, Status.VALIDATED, Status.READY, "test")
        session.commit()
    channel = RecordingChannel()
    submit(res, batch, PAYERS["SIMB1"], channel)

    [(_, data)] = channel.deliveries
    assert pyx12_errors(data.decode()) == []


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_two_runs_submitting_at_once_send_each_claim_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run started while the scheduled run submits: both read the same READY claims
    and write an 837; one run's submission takes them, the other's is dropped unsent."""
    f = factory(TENANT, seed=24, payers=["SIMC1"])
    batch = ready_batch(res, TENANT, f.claims(30, ClaimType.PROFESSIONAL), f.submitter)
    payer = PAYERS["SIMC1"]
    channel = RecordingChannel()
    results = twice_at_once(monkeypatch, submit_module, "current_claims",
                            lambda: submit(res, batch, payer, channel))

    assert sorted(r["created"] for r in results) == [0, 1]
    [submission] = _submissions(res)
    assert submission.status == "SENT"
    sent = {d.interchange_control_number for d, _ in channel.deliveries}
    assert sent == {submission.interchange_control_number}  # the dropped one never left
    outbound = res.store.list(zone_prefix(TENANT, "outbound"))
    assert outbound == [submission.key]
    rows = _claim_rows(res)
    assert all(r.status == Status.SUBMITTED and r.submission_id == submission.id
               for r in rows)
    with res.sessions() as session:
        charges = Counter(session.scalars(select(LedgerEntry.claim_id).where(
            LedgerEntry.account == "AR")))
    assert charges == Counter({r.id: 1 for r in rows})  # booked once


def test_a_payer_in_testing_gets_isa15_t_while_the_others_are_live(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(res.settings, "usage_indicator", "P")
    f = factory(TENANT, seed=25, payers=["SIMA1", "SIMB1"])
    batch = ready_batch(res, TENANT, f.claims(20), f.submitter)
    testing = dataclasses.replace(PAYERS["SIMB1"], usage_indicator="T")
    for payer in (PAYERS["SIMA1"], testing):
        submit(res, batch, payer, RecordingChannel())
    usage = {s.payer_id: X12Reader(res.store.get(s.key), {"837": parse_837}).read()
             .interchanges[0].usage_indicator for s in _submissions(res)}
    assert usage == {"SIMA1": "P", "SIMB1": "T"}


def test_a_file_tried_before_is_looked_for_at_the_payer_before_it_is_sent_again(
        res: Resources) -> None:
    """The first try reached the payer but failed before SENT was recorded: the retry
    asks the channel, finds the file, and marks it SENT without sending it again. The
    submission keeps its attempts and the channel that has it."""
    f = factory(TENANT, seed=26, payers=["SIMA1"])
    batch = ready_batch(res, TENANT, f.claims(10, ClaimType.PROFESSIONAL), f.submitter)

    class ReplyLost(RecordingChannel):
        def send(self, delivery: Delivery, data: bytes) -> Receipt:
            super().send(delivery, data)
            raise TimeoutError("the reply was lost")

    channel = ReplyLost()
    with pytest.raises(TimeoutError):
        submit(res, batch, PAYERS["SIMA1"], channel)
    [sub] = _submissions(res)
    assert (sub.status, sub.send_attempts) == ("PENDING", 1)

    assert submit(res, batch, PAYERS["SIMA1"], channel)["sent"] == 1
    assert len(channel.deliveries) == 1  # asked, found, not sent again
    [sub] = _submissions(res)
    assert (sub.status, sub.send_attempts, sub.sent_via) == ("SENT", 2, "recording")


def test_the_write_step_reads_the_claims_once_for_every_payer_and_the_payer_steps_send(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=27)
    claims = f.claims(60)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    reads: list[int] = []
    real_load = submit_module.current_claims

    def counted(session: Any, store: Any, rows: Any, handoff: Any = None) -> Any:
        reads.append(len(rows))
        return real_load(session, store, rows, handoff)

    monkeypatch.setattr(submit_module, "current_claims", counted)
    written = submit_module.write_submissions(res, batch, PAYERS)

    assert reads == [len(claims)]  # one read, every payer's claims
    groups = Counter((c.payer.payer_id, c.claim_type.value) for c in claims)
    assert written == {"batch": batch, "payers": len({p for p, _ in groups}),
                       "files": len(groups), "claims": len(claims), "refused": 0, "left": []}
    subs = _submissions(res)
    assert sorted((s.payer_id, s.claim_type) for s in subs) == sorted(groups)
    assert {s.status for s in subs} == {"PENDING"}  # written, not sent
    assert all(r.status == Status.READY and r.submission_id for r in _claim_rows(res))

    channel = RecordingChannel()
    results = [submit(res, batch, payer, channel) for payer in PAYERS.values()]

    assert reads == [len(claims)]  # the payer steps had nothing left to read
    assert sum(r["created"] for r in results) == 0
    assert sum(r["sent"] for r in results) == len(subs) == len(channel.deliveries)
    assert sum(r["claims"] for r in results) == len(claims)
    assert all(r.status == Status.SUBMITTED for r in _claim_rows(res))
    # Written again (a re-run): nothing is left to write.
    assert submit_module.write_submissions(res, batch, PAYERS)["files"] == 0


def test_a_payer_whose_files_cannot_be_written_is_left_to_its_own_step(
        res: Resources) -> None:
    f = factory(TENANT, seed=28, payers=["SIMA1", "SIMB1"])
    claims = f.claims(30)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    broken = dataclasses.replace(PAYERS["SIMB1"], name="SAMPLE*BLUE")  # a delimiter
    payers = {**PAYERS, "SIMB1": broken}

    written = submit_module.write_submissions(res, batch, payers)

    assert written["left"] == ["SIMB1"] and written["refused"] == 0
    by_payer = Counter(s.payer_id for s in _submissions(res))
    assert set(by_payer) == {"SIMA1"}
    waiting = [r for r in _claim_rows(res) if r.payer_id == "SIMB1"]
    assert waiting and all(r.status == Status.READY and r.submission_id is None
                           for r in waiting)
    # The payer's own step says why; the other payer's step sends.
    with pytest.raises(submit_module.SubmitConfigurationError, match="1000B NM103"):
        submit(res, batch, broken, RecordingChannel())
    assert submit(res, batch, PAYERS["SIMA1"], RecordingChannel())["sent"] == by_payer["SIMA1"]
