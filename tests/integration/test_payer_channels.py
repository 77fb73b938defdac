"""A real payer over real channels: the daily flow sends ACME1's files to an SFTP server
(its first channel) and a clearinghouse API (its fallback), both started here on
127.0.0.1, and every file is counted where it arrives. Exactly once holds through a
re-run, an outage of the first channel, its return mid-run, and a crash between the send
and its record."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from revcycle.db import models
from revcycle.simulator.api_server import ApiServer
from revcycle.simulator.sftp_server import SftpTestServer
from tests.integration.conftest import configure

TENANTS = ["lakeview", "northside"]
PASSWORD, TOKEN = "sftp-password-for-tests", "api-token-for-tests"
MODULE = '''"""ACME HEALTH: SFTP mailbox first, the clearinghouse API when it is down."""

from revcycle.channels import ChannelSpec
from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="ACME1",
    name="ACME HEALTH",
    receiver_id="ACME1",
    max_claims_per_file=8,
    channels=(
        ChannelSpec("sftp", {{"host": "127.0.0.1", "port": {sftp_port}, "user": "revcycle",
                             "password_secret": "acme-sftp", "host_key": "{host_key}",
                             "retries": 1, "retry_delay_s": 0.05, "connect_timeout_s": 2.0,
                             "timeout_s": 10.0}}),
        ChannelSpec("https", {{"base_url": "{base_url}", "token_secret": "acme-api",
                              "retries": 1, "retry_delay_s": 0.05, "timeout_s": 10.0}}),
    ),
)
'''
_modules = itertools.count()


@dataclass
class PayerWorld:
    sftp: SftpTestServer
    api: ApiServer

    def arrived(self) -> Counter[str]:
        """Interchange control number -> times it arrived, over both channels."""
        by_number: Counter[str] = Counter()
        for name, times in self.sftp.arrivals.items():
            by_number[name.removesuffix(".837").rpartition("_")[2]] += times
        by_number.update(self.api.posts)
        return by_number


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PayerWorld]:
    """The two servers, and a payer package holding only ACME1's module (a fresh module
    name each time: imports are cached)."""
    import tasks.payers

    configure(monkeypatch, tmp_path / "home", send_lease_s="1")
    monkeypatch.setenv("REVCYCLE_SECRET_ACME_SFTP", PASSWORD)
    monkeypatch.setenv("REVCYCLE_SECRET_ACME_API", TOKEN)
    with SftpTestServer() as sftp:
        sftp.add_user("revcycle", password=PASSWORD)
        api = ApiServer(token=TOKEN)
        api.start()
        try:
            package = tmp_path / "payers"
            package.mkdir()
            (package / f"acme_{next(_modules)}.py").write_text(MODULE.format(
                sftp_port=sftp.port, host_key=sftp.host_key_line, base_url=api.base_url))
            monkeypatch.setattr(tasks.payers, "__path__", [str(package)])
            yield PayerWorld(sftp, api)
        finally:
            api.stop()


def _drop(day: date, claims: int = 40) -> None:
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources
    from revcycle.simulator import profile_for

    res = get_resources()
    drop_business_day(res.store, claims=claims, seed=day.day, tenants=tuple(TENANTS),
                      payers=[profile_for("ACME1", "ACME HEALTH")], business_date=day,
                      sessions=res.sessions)


def _run(day: date) -> dict[str, Any]:
    from flows.daily import daily_revenue_cycle

    state = daily_revenue_cycle(business_date=day, tenants=TENANTS, return_state=True)
    return state.result(raise_on_failure=False)


def _submissions() -> list[models.Submission]:
    from revcycle.pipeline.resources import get_resources

    with get_resources().sessions() as session:
        return list(session.scalars(select(models.Submission)))


def _exactly_once(world: PayerWorld) -> list[models.Submission]:
    """Every submission SENT and arrived once at one server; nothing else arrived."""
    subs = _submissions()
    assert subs and all(s.status == "SENT" for s in subs)
    assert world.arrived() == Counter({s.interchange_control_number: 1 for s in subs})
    return subs


@pytest.mark.usefixtures("prefect_server")
def test_a_day_reaches_the_payer_over_sftp_once_and_a_rerun_sends_nothing(
        world: PayerWorld) -> None:
    day = date(2026, 12, 1)
    _drop(day)
    assert _run(day)["failed_steps"] == []
    subs = _exactly_once(world)
    assert len(subs) >= 4 and {s.sent_via for s in subs} == {"sftp"}
    assert not world.api.posts
    assert all(s.remote_name and s.remote_name.endswith(".837") for s in subs)

    assert _run(day)["failed_steps"] == []
    _exactly_once(world)


@pytest.mark.usefixtures("prefect_server")
def test_the_fallback_takes_the_files_while_sftp_is_down_and_nothing_goes_twice(
        world: PayerWorld) -> None:
    """SFTP is down when the day starts; it comes back as soon as the API has taken the
    first file. Each file arrives once, some over each channel; re-runs send nothing."""
    day = date(2026, 12, 2)
    _drop(day, claims=80)
    world.sftp.down()

    def sftp_returns_after_the_first_api_file() -> None:
        deadline = time.monotonic() + 120
        while not world.api.posts and time.monotonic() < deadline:
            time.sleep(0.01)
        world.sftp.up()

    returning = threading.Thread(target=sftp_returns_after_the_first_api_file)
    returning.start()
    summary = _run(day)
    returning.join()
    assert summary["failed_steps"] == []
    subs = _exactly_once(world)
    assert {s.sent_via for s in subs} == {"sftp", "https"}

    later = date(2026, 12, 3)
    _drop(later)
    assert _run(later)["failed_steps"] == [] and _run(day)["failed_steps"] == []
    subs = _exactly_once(world)
    assert {s.sent_via for s in subs if s.batch_id.endswith("20261203")} == {"sftp"}


@pytest.mark.usefixtures("prefect_server")
def test_a_crash_between_the_send_and_its_record_then_a_rerun_sends_nothing_twice(
        world: PayerWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    import revcycle.pipeline.sending as sending

    crashed: list[str] = []

    def crash_once(name: str) -> None:
        if name == "submit.after_send" and not crashed:
            crashed.append(name)
            raise RuntimeError("injected: the process died here")

    monkeypatch.setattr(sending, "crash_point", crash_once)
    day = date(2026, 12, 4)
    _drop(day)
    first = _run(day)
    # The crashed step failed, and its own chain's acks and post did not run.
    tenant = first["failed_steps"][0].split(" · ")[1]
    assert crashed and first["failed_steps"] == [f"{stage} · {tenant} · ACME1"
                                                 for stage in ("submit", "acks", "post")]
    # The crashed send: the payer has it, and it is not recorded SENT.
    [unrecorded] = [s for s in _submissions() if s.status != "SENT"
                    and world.arrived()[s.interchange_control_number]]
    assert world.arrived()[unrecorded.interchange_control_number] == 1

    time.sleep(1.1)  # the send lease (1 s here) of the crashed run's claim runs out
    assert _run(day)["failed_steps"] == []
    subs = _exactly_once(world)
    again = next(s for s in subs if s.id == unrecorded.id)
    assert again.send_attempts == 2 and again.sent_via == "sftp"


@pytest.mark.usefixtures("prefect_server")
def test_answers_left_in_the_sftp_mailbox_days_later_are_collected_routed_and_posted(
        world: PayerWorld) -> None:
    """The payer answers a week later, all tenants' answers in its one outbound folder, the
    835s of both tenants in one file. The daily run of that later day collects them (and
    deletes them from the mailbox only once stored), routes each set to its tenant and
    posts it to claims sent on the first day."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.simulator.payer import PayerSimulator
    from revcycle.x12.split import split_sets
    from revcycle.x12.writer import CounterControlNumbers

    sent_on, later = date(2026, 12, 7), date(2026, 12, 14)
    _drop(sent_on)
    assert _run(sent_on)["failed_steps"] == []
    payer = PayerSimulator(("ACME HEALTH", "ACME1"), seed=1)
    answers: dict[str, bytes] = {}
    remits = []
    for number, (name, data) in enumerate(world.sftp.received("revcycle").items()):
        response = payer.respond(data, received=later,
                                 control_numbers=CounterControlNumbers(900 + 3 * number))
        answers[f"999_{name}"] = response.ack_999
        answers[f"277_{name}"] = response.ack_277ca
        remits += split_sets(response.remittance_835)
    answers["ERA_week50.835"] = b"".join(remits)
    for name, data in answers.items():
        world.sftp.put_answer("revcycle", name, data)

    summary = _run(later)

    assert summary["failed_steps"] == []
    assert not list(world.sftp.folder("revcycle", "outbound").iterdir())  # collected, gone
    with get_resources().sessions() as session:
        collected = session.scalars(select(models.MailboxFile)).all()
        routes = session.scalars(select(models.MailboxRoute)).all()
        statuses = Counter(session.scalars(select(models.Claim.status).where(
            models.Claim.batch_id.endswith("20261207"))))
    assert len(collected) == len(answers) and {f.status for f in collected} == {"ROUTED"}
    assert {r.tenant_id for r in routes} == set(TENANTS)
    assert statuses and not set(statuses) & {"READY", "SUBMITTED"}, statuses


@pytest.mark.usefixtures("prefect_server")
def test_weeks_of_a_payer_world_on_the_daily_flow(world: PayerWorld) -> None:
    """A week of submission days, then the payer world's clock runs on: 999s the same day,
    277CAs days later, ERAs on the payer's weekly payment day mixing submission days and
    payees, take-backs and late payments with interest. The daily runs collect, route and
    post it all: every file routed, every claim answered, no remittance held, and the
    ledger balances to the cent. The payer makes the real-world matching mismatches three
    times as often as a real one; the closing checks find every remitted claim posted as
    the world paid it."""
    from datetime import timedelta
    from decimal import Decimal

    from flows.demo_days import closing_checks
    from revcycle.pipeline.resources import get_resources
    from revcycle.simulator.mismatch import Mismatches
    from revcycle.simulator.world import PayerWorld as World
    from revcycle.simulator.world import WorldPayer
    from tasks.payers import load_payers

    start = date(2026, 11, 2)  # a Monday
    payers = World([WorldPayer.of(load_payers()["ACME1"], seed=11, sftp=world.sftp,
                                  sftp_user="revcycle",
                                  mismatches=Mismatches.realistic().scaled(3))], start)
    for offset in range(5):
        day = start + timedelta(days=offset)
        _drop(day, claims=24)
        assert _run(day)["failed_steps"] == []
        payers.advance(day)
    for later in (start + timedelta(weeks=3), start + timedelta(weeks=8)):
        payers.advance(later)
        assert _run(later)["failed_steps"] == []

    res = get_resources()
    with res.sessions() as session:
        files = session.scalars(select(models.MailboxFile)).all()
        unrouted = session.scalars(select(models.MailboxRoute).where(
            models.MailboxRoute.tenant_id.is_(None))).all()
        statuses = Counter(session.scalars(select(models.Claim.status)))
        held = session.scalars(select(models.Remittance).where(
            models.Remittance.status == "HELD")).all()
        ledger = session.execute(select(models.LedgerEntry.account,
                                        models.LedgerEntry.amount)).all()
        checks = closing_checks(session, payers, later, TENANTS)
    summary = payers.summary()
    assert sum(day.get("ERA", 0) for day in summary.values()) >= 2
    assert files and {f.status for f in files} == {"ROUTED"} and unrouted == []
    assert statuses["SUBMITTED"] == 0 and statuses["PAID"] > 0, statuses
    assert held == []
    assert sum((amount for _, amount in ledger), Decimal(0)) == 0
    assert checks["findings"] == [], checks
    mismatched = {kind: sum(day.get(kind, 0) for day in summary.values())
                  for kind in ("missing_line_ref", "changed_code", "truncated_pcn", "split",
                               "renumbered")}
    assert sum(mismatched.values()) >= 5, mismatched  # posting matched through them
    assert not list(world.sftp.folder("revcycle", "outbound").iterdir())
