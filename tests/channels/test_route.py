"""A payer's route: retries with backoff, the exactly-once check, failover. The channels
here are in-memory partners that count what they hold; the real servers are in
test_sftp_channel.py and test_https_channel.py, and both together in test_failover.py."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from revcycle.channels import Delivery, Receipt
from revcycle.channels.errors import (
    AuthenticationFailed,
    ChannelUnavailable,
    DeliveryOutcomeUnknown,
    HostKeyMismatch,
    TransientChannelError,
)
from revcycle.channels.route import Leg, PayerRoute, RetryPolicy
from tests.unit.pipeline.conftest import RecordingChannel

DELIVERY = Delivery("eastgate", date(2026, 12, 7), "eastgate-2026-12-07", "000000101")


class Partner(RecordingChannel):
    """A channel whose partner holds files by control number. ``script`` lists what each
    send does in turn: "ok"; "refused" (never arrived); "lost-reply" (arrived, the reply
    lost); "lost-request" (the same error, but it never arrived); "busy" (429 with a
    Retry-After); "auth"; "hostkey"; "ok" once the script ends. ``unreachable`` makes
    ``delivered`` fail too."""

    def __init__(self, label: str, *script: str) -> None:
        super().__init__()
        self.label = label
        self.script = list(script)
        self.held: Counter[str] = Counter()
        self.sends = 0
        self.asked = 0
        self.unreachable = False

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        self.sends += 1
        step = self.script.pop(0) if self.script else "ok"
        key = delivery.interchange_control_number
        if step in ("ok", "lost-reply"):
            self.held[key] += 1
        if step in ("lost-reply", "lost-request"):
            raise TransientChannelError("P1", self.label, "read timeout",
                                        maybe_delivered=True)
        if step == "refused":
            raise TransientChannelError("P1", self.label, "connection refused")
        if step == "busy":
            raise TransientChannelError("P1", self.label, "HTTP 429", retry_after=7.0)
        if step == "auth":
            raise AuthenticationFailed("P1", self.label, "login refused")
        if step == "hostkey":
            raise HostKeyMismatch("P1", self.label, "host key does not match")
        return Receipt(self.label, f"{key}.837")

    def delivered(self, delivery: Delivery) -> bool:
        self.asked += 1
        if self.unreachable:
            raise TransientChannelError("P1", self.label, "connection refused")
        return self.held[delivery.interchange_control_number] > 0


def _route(*partners: Partner, retries: int = 3) -> tuple[PayerRoute, list[float]]:
    slept: list[float] = []
    policy = RetryPolicy(retries=retries, delay_s=1.0, max_delay_s=30.0)
    return PayerRoute("P1", [Leg(p, policy) for p in partners], slept.append), slept


def test_transient_failures_are_retried_with_growing_jittered_waits() -> None:
    partner = Partner("sftp", "refused", "refused", "refused")
    route, slept = _route(partner)
    receipt = route.deliver(DELIVERY, b"ISA~")
    assert (receipt.channel, receipt.attempts, partner.held[DELIVERY.interchange_control_number]
            ) == ("sftp", 4, 1)
    assert len(slept) == 3 and all(0 <= wait <= 2 ** n for n, wait in enumerate(slept))
    policy = RetryPolicy(retries=5, delay_s=1.0, max_delay_s=8.0)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert {policy.delay(3) for _ in range(50)} != {4.0}  # jittered, not fixed


def test_a_servers_retry_after_is_honoured() -> None:
    route, slept = _route(Partner("https", "busy"))
    route.deliver(DELIVERY, b"ISA~")
    assert slept[0] >= 7.0


def test_a_lost_reply_is_not_sent_again_the_partner_is_asked() -> None:
    partner = Partner("https", "lost-reply")
    route, _ = _route(partner)
    receipt = route.deliver(DELIVERY, b"ISA~")
    assert receipt.already_delivered and partner.asked == 1 and partner.sends == 1
    assert partner.held[DELIVERY.interchange_control_number] == 1


@pytest.mark.parametrize("failure", ["auth", "hostkey"])
def test_permanent_failures_are_raised_at_once_and_never_fail_over(failure: str) -> None:
    primary, fallback = Partner("sftp", failure), Partner("https")
    route, slept = _route(primary, fallback)
    with pytest.raises(AuthenticationFailed if failure == "auth" else HostKeyMismatch) as err:
        route.deliver(DELIVERY, b"ISA~")
    assert "payer P1, channel sftp" in str(err.value)
    assert (primary.sends, fallback.sends, slept) == (1, 0, [])


def test_the_next_channel_takes_a_file_the_first_certainly_does_not_have() -> None:
    primary, fallback = Partner("sftp", *["refused"] * 4), Partner("https")
    route, _ = _route(primary, fallback)
    receipt = route.deliver(DELIVERY, b"ISA~")
    assert receipt.channel == "https"
    assert (sum(primary.held.values()), sum(fallback.held.values())) == (0, 1)


def test_no_failover_while_the_first_channel_may_have_the_file() -> None:
    """The reply was lost and the partner cannot be asked afterwards: sending on the
    fallback could deliver twice, so the file waits."""
    primary, fallback = Partner("sftp", "lost-reply", *["refused"] * 3), Partner("https")
    route, _ = _route(primary, fallback)
    primary.unreachable = True
    with pytest.raises(DeliveryOutcomeUnknown, match="nothing is sent elsewhere"):
        route.deliver(DELIVERY, b"ISA~")
    assert fallback.sends == 0


def test_failover_after_a_lost_reply_once_the_first_channel_says_it_has_nothing() -> None:
    primary = Partner("sftp", "lost-request", *["refused"] * 3)
    fallback = Partner("https")
    route, _ = _route(primary, fallback)
    assert route.deliver(DELIVERY, b"ISA~").channel == "https"
    assert primary.asked >= 1 and not primary.held and sum(fallback.held.values()) == 1


def test_every_channel_down_leaves_the_file_for_the_next_run() -> None:
    primary, fallback = Partner("sftp", *["refused"] * 4), Partner("https", *["refused"] * 4)
    route, _ = _route(primary, fallback)
    with pytest.raises(ChannelUnavailable, match="every channel failed"):
        route.deliver(DELIVERY, b"ISA~")
    assert not primary.held and not fallback.held


def test_a_recheck_finds_the_file_on_whichever_channel_took_it() -> None:
    """A run died after the fallback took the file; the primary is back. The re-run asks
    both and sends nothing."""
    primary, fallback = Partner("sftp"), Partner("https")
    fallback.held[DELIVERY.interchange_control_number] = 1
    route, _ = _route(primary, fallback)
    receipt = route.deliver(DELIVERY, b"ISA~", recheck=True)
    assert receipt.already_delivered and receipt.channel == "https"
    assert primary.sends == fallback.sends == 0


def test_a_recheck_that_cannot_ask_a_channel_sends_nowhere() -> None:
    primary, fallback = Partner("sftp"), Partner("https")
    primary.unreachable = True
    route, _ = _route(primary, fallback)
    with pytest.raises(DeliveryOutcomeUnknown):
        route.deliver(DELIVERY, b"ISA~", recheck=True)
    assert primary.sends == fallback.sends == 0
