"""Exactly once: two runs sending at once deliver each interchange once (counted at the
receiving side, in two processes), and a send whose sender died is taken over after its
lease, under the same interchange control number."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from revcycle.channels import Delivery, Receipt
from revcycle.channels.simulator import SimulatorChannel
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import LedgerEntry, Submission
from revcycle.model.claim import ClaimType
from revcycle.pipeline import submit as submit_module
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.settings import Settings
from revcycle.status import Status
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    factory,
    ready_batch,
)

TENANT = "eastgate"
PAYER = "SIMA1"
FILES = 6


class AppendingChannel(RecordingChannel):
    """The receiving side of a payer: each delivery appends its interchange control number
    as one line to a file opened with O_APPEND, so deliveries from every process count."""

    def __init__(self, received: Path, network_s: float = 0.05) -> None:
        self.received = received
        self.network_s = network_s

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        time.sleep(self.network_s)  # on the wire: the window two senders race in
        fd = os.open(self.received, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{delivery.interchange_control_number}\n".encode())
        finally:
            os.close(fd)
        return Receipt(self.label, delivery.interchange_control_number)

    def delivered(self, delivery: Delivery) -> bool:
        return _deliveries(self.received)[delivery.interchange_control_number] > 0


def _deliveries(received: Path) -> Counter[str]:
    return Counter(received.read_text().split()) if received.exists() else Counter()


def _send_at_the_barrier(home: str, url: str, batch: str, received: str,
                         barrier: Any, results: Any) -> None:
    """One run's submit step, in a process of its own: it meets the other run at the
    barrier, then both send the batch's pending submissions."""
    res = Resources.from_settings(Settings(home=Path(home), database_url=url))
    try:
        barrier.wait(timeout=120)
        results.put(submit(res, batch, PAYERS[PAYER], AppendingChannel(Path(received))))
    finally:
        res.engine.dispose()


def _pending_submissions(res: Resources) -> str:
    """A batch with FILES pending submissions (the intent recorded, nothing sent yet)."""
    f = factory(TENANT, seed=41, payers=[PAYER])
    batch = ready_batch(res, TENANT, f.claims(FILES * 3, ClaimType.PROFESSIONAL), f.submitter)
    submit_module._create_submissions(res, batch, replace(PAYERS[PAYER],
                                                          max_claims_per_file=3))
    with res.sessions() as session:
        assert session.scalars(select(Submission.status)).all() == ["PENDING"] * FILES
    return batch


def _submissions(res: Resources) -> list[Submission]:
    with res.sessions() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_two_runs_in_two_processes_deliver_each_interchange_once(
        res: Resources, tmp_path: Path) -> None:
    batch = _pending_submissions(res)
    received = tmp_path / "received.lines"
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    runs = [spawn.Process(target=_send_at_the_barrier, args=(
        str(res.settings.home), res.settings.database_url, batch, str(received), barrier,
        results)) for _ in range(2)]
    for run in runs:
        run.start()
    outcome = [results.get(timeout=180) for _ in runs]
    for run in runs:
        run.join(timeout=60)
        assert run.exitcode == 0

    numbers = [s.interchange_control_number for s in _submissions(res)]
    assert _deliveries(received) == Counter(dict.fromkeys(numbers, 1))
    assert sum(r["sent"] for r in outcome) == FILES
    assert all(s.status == "SENT" for s in _submissions(res))
    with res.sessions() as session:
        claims = session.scalars(select(ClaimRow)).all()
        charges = Counter(session.scalars(select(LedgerEntry.claim_id).where(
            LedgerEntry.account == "AR")))
    assert {c.status for c in claims} == {Status.SUBMITTED}
    assert charges == Counter({c.id: 1 for c in claims})


def _age(res: Resources, submission_id: int, minutes: float, run: str) -> None:
    """Make a submission look claimed by ``run``, ``minutes`` ago, which never finished."""
    with res.sessions() as session:
        session.execute(update(Submission).where(Submission.id == submission_id).values(
            status="SENDING", sending_run=run,
            sending_since=datetime.now() - timedelta(minutes=minutes)))
        session.commit()


def test_a_send_whose_sender_died_is_taken_over_after_its_lease(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _pending_submissions(res)
    dead, alive, *_ = _submissions(res)
    _age(res, dead.id, 11, "died-mid-send")
    _age(res, alive.id, 1, "still-sending")
    channel = RecordingChannel()

    result = submit(res, batch, PAYERS[PAYER], channel, run_id="the-rerun")

    sent = [d.interchange_control_number for d, _ in channel.deliveries]
    assert dead.interchange_control_number in sent  # resent under its own number
    assert alive.interchange_control_number not in sent
    assert (result["sent"], result["in_flight"]) == (FILES - 1, 1)
    after = {s.id: s for s in _submissions(res)}
    assert after[dead.id].status == "SENT" and after[dead.id].sending_run == "the-rerun"
    assert after[alive.id].status == "SENDING"
    with res.sessions() as session:
        waiting = session.scalars(select(ClaimRow.status).where(
            ClaimRow.submission_id == alive.id)).all()
    assert set(waiting) == {Status.READY}

    # A shorter lease (the operator's setting) lets the next run take it over too.
    monkeypatch.setattr(res.settings, "send_lease_s", 30)
    again = submit(res, batch, PAYERS[PAYER], channel)
    assert (again["sent"], again["in_flight"]) == (1, 0)
    assert [d.interchange_control_number for d, _ in channel.deliveries].count(
        alive.interchange_control_number) == 1
    assert all(s.status == "SENT" for s in _submissions(res))


def test_a_send_that_fails_gives_its_claim_back_at_once(res: Resources) -> None:
    batch = _pending_submissions(res)

    class Refusing(RecordingChannel):
        def send(self, delivery: Delivery, data: bytes) -> Receipt:
            raise ConnectionError("simulated network fault")

    with pytest.raises(ConnectionError):
        submit(res, batch, PAYERS[PAYER], Refusing(), run_id="first")
    first = _submissions(res)[0]
    assert (first.status, first.sending_run, first.sending_since) == ("PENDING", None, None)
    channel = RecordingChannel()
    assert submit(res, batch, PAYERS[PAYER], channel)["sent"] == FILES
    assert len(channel.deliveries) == FILES


def test_a_channel_failing_for_one_payer_fails_that_payer_s_step_only(
        res: Resources) -> None:
    f = factory(TENANT, seed=42, payers=["SIMA1", "SIMB1"])
    batch = ready_batch(res, TENANT, f.claims(20), f.submitter)

    class Down(RecordingChannel):
        def send(self, delivery: Delivery, data: bytes) -> Receipt:
            raise ConnectionError("simulated network fault")

    with pytest.raises(ConnectionError):
        submit(res, batch, PAYERS["SIMA1"], Down())
    other = RecordingChannel()
    assert submit(res, batch, PAYERS["SIMB1"], other)["sent"] == len(other.deliveries) > 0
    by_payer = Counter((s.payer_id, s.status) for s in _submissions(res))
    assert {status for (payer, status) in by_payer if payer == "SIMA1"} == {"PENDING"}
    assert {status for (payer, status) in by_payer if payer == "SIMB1"} == {"SENT"}
    back = RecordingChannel()  # the payer's channel is back: its files go at once
    assert submit(res, batch, PAYERS["SIMA1"], back)["sent"] == len(back.deliveries) > 0
    assert all(s.status == "SENT" for s in _submissions(res))


def test_a_retry_of_the_same_run_takes_back_its_own_claim(res: Resources) -> None:
    """The send failed and so did giving the claim back (the database was down for both):
    the task's retry, in the same run, sends the file at once under its own number,
    rather than leaving it to the lease while its acknowledgments arrive for claims that
    are still READY."""
    batch = _pending_submissions(res)
    stuck, *_ = _submissions(res)
    _age(res, stuck.id, 0, "the-run")
    channel = RecordingChannel()

    result = submit(res, batch, PAYERS[PAYER], channel, run_id="the-run")

    assert (result["sent"], result["in_flight"]) == (FILES, 0)
    sent = [d.interchange_control_number for d, _ in channel.deliveries]
    assert sent.count(stuck.interchange_control_number) == 1
    assert all(s.status == "SENT" for s in _submissions(res))
    other = submit(res, batch, PAYERS[PAYER], RecordingChannel(), run_id="another-run")
    assert other["sent"] == 0


class Answering(RecordingChannel):
    """The payer simulator behind a recording channel: each file is recorded, then
    answered (999, 277CA, 835)."""

    def __init__(self, res: Resources) -> None:
        super().__init__()
        self.payer = SimulatorChannel(res.store, PAYERS[PAYER])

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        super().send(delivery, data)
        return self.payer.send(delivery, data)


def test_answers_to_a_file_whose_sender_died_complete_its_send(res: Resources) -> None:
    """A run killed after the payer got a file leaves it SENDING, and the payer answers at
    once. A re-run within the lease (it leaves the file alone) reads those answers: the
    999 proves the file arrived, so it is marked SENT, its claims SUBMITTED and their
    charges booked, and the 277CA and 835 apply to them. Before, they were read against
    claims still READY (the 835 became posting exceptions) and the file, acknowledged,
    was never taken over: its claims stayed READY for good."""
    batch = _pending_submissions(res)
    killed, *_ = _submissions(res)
    _age(res, killed.id, 0, "killed")  # claimed a moment ago; the payer got the file
    rerun = Answering(res)
    rerun.payer.send(Delivery(TENANT, DAY, batch, killed.interchange_control_number),
                     res.store.get(killed.key))

    submit(res, batch, PAYERS[PAYER], rerun, run_id="re-run")  # within the lease
    apply_acknowledgments(res, batch, PAYER)
    posted = post_remittances(res, batch, PAYER)
    # Later, the lease long over: nothing is left to take over, and nothing goes twice.
    with res.sessions() as session:
        session.execute(update(Submission).values(
            sending_since=datetime.now() - timedelta(hours=1)))
        session.commit()
    later = submit(res, batch, PAYERS[PAYER], rerun, run_id="later")

    assert posted["exceptions"] == 0
    assert (later["sent"], later["in_flight"]) == (0, 0)
    assert len(rerun.deliveries) == FILES - 1  # every file but the killed run's, once
    assert {s.status for s in _submissions(res)} <= {"SENT", "ACKNOWLEDGED", "REJECTED"}
    with res.sessions() as session:
        claims = session.scalars(select(ClaimRow)).all()
        charges = Counter(session.scalars(select(LedgerEntry.claim_id).where(
            LedgerEntry.account == "AR", LedgerEntry.memo == "charge")))
    assert not {c.status for c in claims} & {Status.READY, Status.SUBMITTED}
    assert charges == Counter({c.id: 1 for c in claims})


SFTP_SEND = """
import sys
from pathlib import Path
from revcycle.channels import ChannelSpec, route_for
from revcycle.payers import PayerDefinition
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.settings import Settings
home, url, batch, payer, port, host_key = sys.argv[1:7]
res = Resources.from_settings(Settings(home=Path(home), database_url=url))
definition = PayerDefinition(payer, "SFTP PAYER", payer, channels=(ChannelSpec("sftp", {
    "host": "127.0.0.1", "port": int(port), "user": "revcycle", "host_key": host_key,
    "password_secret": "payer-sftp"}),))
submit(res, batch, definition, route_for(definition, res.store))
"""


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_a_sender_killed_after_delivering_over_sftp_is_not_sent_twice(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SIGKILL (``REVCYCLE_CRASH_AT``) in a process of its own, after the SFTP server
    took the third file and before anything was recorded; the re-run, once the lease is
    over, asks the server for each file it finds claimed and sends only the rest. Counted
    at the server: every file once."""
    import subprocess
    import sys

    from revcycle.channels import ChannelSpec, route_for
    from revcycle.channels.secrets import Secrets
    from revcycle.payers import PayerDefinition
    from revcycle.simulator.sftp_server import SftpTestServer

    batch = _pending_submissions(res)
    password = "sftp-password-for-tests"
    with SftpTestServer() as server:
        server.add_user("revcycle", password=password)
        killed = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", SFTP_SEND, str(res.settings.home),
             res.settings.database_url, batch, PAYER, str(server.port),
             server.host_key_line],
            env={**os.environ, "REVCYCLE_CRASH_AT": "submit.after_send#3",
                 "REVCYCLE_SECRET_PAYER_SFTP": password}, capture_output=True, timeout=120)
        assert killed.returncode == -9, killed.stderr.decode()[-2000:]
        assert sum(server.arrivals.values()) == 3
        assert {s.status for s in _submissions(res)} == {"SENDING"}  # none recorded

        monkeypatch.setattr(res.settings, "send_lease_s", 1)
        time.sleep(1.1)
        payer = PayerDefinition(PAYER, "SFTP PAYER", PAYER, channels=(ChannelSpec("sftp", {
            "host": "127.0.0.1", "port": server.port, "user": "revcycle",
            "host_key": server.host_key_line, "password_secret": "payer-sftp"}),))
        route = route_for(payer, res.store, Secrets([lambda name: password]))
        try:
            result = submit(res, batch, payer, route, run_id="the-rerun")
        finally:
            route.close()
        numbers = [s.interchange_control_number for s in _submissions(res)]
        assert server.arrivals == Counter({f"{PAYER}_{n}.837": 1 for n in numbers})
    assert result["sent"] == FILES
    assert all((s.status, s.send_attempts) == ("SENT", 2) for s in _submissions(res))
    with res.sessions() as session:
        charges = Counter(session.scalars(select(LedgerEntry.claim_id).where(
            LedgerEntry.account == "AR", LedgerEntry.memo == "charge")))
        claims = session.scalars(select(ClaimRow.id)).all()
    assert charges == Counter(dict.fromkeys(claims, 1))


def test_a_run_slower_than_its_lease_renews_its_claims_and_sends_every_file(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file takes longer than half the lease: the run renews its claims as it goes,
    so none lapses, none is given back unsent, and another run finds nothing to take."""
    batch = _pending_submissions(res)
    monkeypatch.setattr(res.settings, "send_lease_s", 1)
    channel = AppendingChannel(res.settings.home / "received.lines", network_s=0.6)

    result = submit(res, batch, PAYERS[PAYER], channel, run_id="slow")

    assert (result["sent"], result["in_flight"]) == (FILES, 0)
    assert all(s.status == "SENT" for s in _submissions(res))
    assert _deliveries(res.settings.home / "received.lines") == Counter(
        {s.interchange_control_number: 1 for s in _submissions(res)})
