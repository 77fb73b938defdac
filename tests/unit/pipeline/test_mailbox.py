"""The payer mailbox: collect once, store by sha256, acknowledge after; route by content;
apply routed answers whatever day their claims were sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from revcycle.channels import Delivery, Receipt
from revcycle.channels.errors import TransientChannelError
from revcycle.channels.route import Leg, PayerRoute, RetryPolicy
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import MailboxFile, MailboxRoute
from revcycle.pipeline import mailbox
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import batch_id
from revcycle.pipeline.directory import directory_for
from revcycle.pipeline.mailbox import collect_mailbox, mailbox_key, route_mailbox, unrouted
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.routing import Router
from revcycle.pipeline.tenants import register_providers
from revcycle.status import ADJUDICATED
from revcycle.x12.split import split_sets
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, PAYERS, RecordingChannel
from tests.unit.pipeline.test_routing import PAYER, SentDay, send_day

LATER = DAY + timedelta(days=9)  # the answers are collected more than a week later


class Mailbox(RecordingChannel):
    """A payer's outbound folder: files wait until acknowledged."""

    label = "mailbox"

    def __init__(self, *files: bytes) -> None:
        super().__init__()
        self.waiting = {f"answer-{n}.x12": data for n, data in enumerate(files)}
        self.acknowledged: list[str] = []

    def collect(self) -> Iterator[tuple[str, bytes]]:
        yield from list(self.waiting.items())

    def acknowledge(self, remote_name: str) -> None:
        self.acknowledged.append(remote_name)
        del self.waiting[remote_name]

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        raise AssertionError("nothing is sent by collecting")


def _route(box: Mailbox) -> PayerRoute:
    return PayerRoute(PAYER.payer_id, [Leg(box, RetryPolicy(0))])


def _router(res: Resources) -> Router:
    return Router(directory_for(res, PAYERS.values()), receiver_ids=[res.settings.sender_id])


def _unrouted(res: Resources) -> list[dict[str, object]]:
    with res.sessions() as session:
        return unrouted(session)


def _registered(res: Resources, *days: SentDay) -> None:
    with res.sessions() as session:
        for day in days:
            register_providers(session, day.tenant, {
                (c.billing_provider.npi, c.billing_provider.tax_id, c.billing_provider.last_name)
                for c in day.claims})
        session.commit()


def test_a_file_is_stored_before_it_is_acknowledged_and_collected_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    box = Mailbox(b"ISA*first~", b"ISA*second~")

    def crash(name: str) -> None:
        if name == "collect.after_store":
            raise RuntimeError("injected: died before acknowledging")

    monkeypatch.setattr(mailbox, "crash_point", crash)
    with pytest.raises(RuntimeError):
        collect_mailbox(res, PAYER.payer_id, _route(box), LATER)
    assert box.acknowledged == [] and len(box.waiting) == 2  # stored, not acknowledged
    monkeypatch.undo()

    again = collect_mailbox(res, PAYER.payer_id, _route(box), LATER)

    assert (again["collected"], again["duplicates"]) == (1, 1)
    assert box.waiting == {} and sorted(box.acknowledged) == ["answer-0.x12", "answer-1.x12"]
    with res.sessions() as session:
        files = session.scalars(select(MailboxFile).order_by(MailboxFile.id)).all()
    assert [f.status for f in files] == ["COLLECTED", "COLLECTED"]
    for file, data in zip(files, (b"ISA*first~", b"ISA*second~"), strict=True):
        assert file.key == mailbox_key(LATER, PAYER.payer_id, file.sha256)
        assert res.store.get(file.key) == data and file.key.startswith("_mailbox/mailbox/")


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_answers_collected_a_week_later_route_and_apply_to_the_days_that_sent_them(
        res: Resources) -> None:
    days = [send_day(res, "alpha", 3), send_day(res, "beta", 4)]
    _registered(res, *days)
    box = Mailbox(*(answer for d in days for answer in (
        d.response.ack_999, d.response.ack_277ca, d.response.remittance_835)))

    collect_mailbox(res, PAYER.payer_id, _route(box), LATER)
    routed = route_mailbox(res, _router(res), LATER)

    # Six files; an 835 holds a set per payee, each routed on its own.
    sets = sum(len(split_sets(d.response.remittance_835)) + 2 for d in days)
    assert routed == {"files": 6, "routed": sets, "unrouted": 0}
    assert _unrouted(res) == []
    for d in days:
        later = batch_id(d.tenant, LATER)
        acks = apply_acknowledgments(res, later, PAYER.payer_id)
        assert (acks["files"], acks["unmatched"]) == (2, 0)
        posted = post_remittances(res, later, PAYER.payer_id)
        assert posted["remittances"] >= 1 and posted["held"] == 0
        with res.sessions() as session:
            statuses = set(session.scalars(select(ClaimRow.status).where(
                ClaimRow.batch_id == d.batch)))
        assert statuses <= set(ADJUDICATED) | {"PAYER_REJECTED"}, statuses
        # Applied once: a second look finds nothing new.
        assert apply_acknowledgments(res, later, PAYER.payer_id)["files"] == 0
        assert post_remittances(res, later, PAYER.payer_id)["remittances"] == 0
    # Routing again changes nothing.
    assert route_mailbox(res, _router(res), LATER + timedelta(days=1))["files"] == 0


def test_what_routes_nowhere_waits_in_the_unrouted_queue_and_routes_once_fixed(
        res: Resources) -> None:
    sent = send_day(res, "alpha", 5)
    box = Mailbox(sent.response.remittance_835)
    collect_mailbox(res, PAYER.payer_id, _route(box), LATER)

    first = route_mailbox(res, _router(res), LATER)  # alpha's providers are not registered

    assert first["routed"] == 0 and first["unrouted"] >= 1
    queue = _unrouted(res)
    assert {row["reason"] for row in queue} == {"UNKNOWN_PAYEE"}
    assert all(sent.claims[0].patient.last_name not in row["message"] for row in queue)

    _registered(res, sent)  # the fix: the tenant's billing providers are registered
    second = route_mailbox(res, _router(res), LATER)

    assert (second["routed"], second["unrouted"]) == (first["unrouted"], 0)
    assert _unrouted(res) == []
    with res.sessions() as session:
        assert session.scalar(select(func.count()).select_from(MailboxRoute)) == \
            first["unrouted"]
        assert set(session.scalars(select(MailboxFile.status))) == {"ROUTED"}
    assert post_remittances(res, batch_id("alpha", LATER), PAYER.payer_id)["remittances"] >= 1


def test_a_route_run_killed_after_a_file_routes_the_rest_and_nothing_twice(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    days = [send_day(res, "alpha", 6), send_day(res, "beta", 7)]
    _registered(res, *days)
    box = Mailbox(*(d.response.ack_999 for d in days))
    collect_mailbox(res, PAYER.payer_id, _route(box), LATER)

    def crash(name: str) -> None:
        if name == "route.after_file":
            raise RuntimeError("injected: died after the first file")

    monkeypatch.setattr(mailbox, "crash_point", crash)
    with pytest.raises(RuntimeError):
        route_mailbox(res, _router(res), LATER)
    monkeypatch.undo()
    rest = route_mailbox(res, _router(res), LATER)

    assert (rest["files"], rest["routed"]) == (1, 1)
    with res.sessions() as session:
        routes = session.scalars(select(MailboxRoute)).all()
    assert sorted(r.tenant_id for r in routes) == ["alpha", "beta"]
    for d in days:
        assert apply_acknowledgments(res, batch_id(d.tenant, LATER),
                                     PAYER.payer_id)["files"] == 1


class Down(Mailbox):
    label = "sftp"

    def collect(self) -> Iterator[tuple[str, bytes]]:
        raise TransientChannelError(PAYER.payer_id, self.label, "connection refused")


def test_a_channel_down_is_skipped_and_named_unless_every_channel_is(res: Resources) -> None:
    up = Mailbox(b"ISA*from-the-api~")
    half = PayerRoute(PAYER.payer_id, [Leg(Down(), RetryPolicy(0)), Leg(up, RetryPolicy(0))])

    result = collect_mailbox(res, PAYER.payer_id, half, LATER)

    assert (result["collected"], result["unreachable"]) == (1, ["sftp"]) and not up.waiting
    down = PayerRoute(PAYER.payer_id, [Leg(Down(), RetryPolicy(0))])
    with pytest.raises(TransientChannelError, match=r"payer .*, channel sftp"):
        collect_mailbox(res, PAYER.payer_id, down, LATER)
