"""A payer's route: its channels in priority order, retries with backoff, failover, and
the exactly-once check that holds across all of them.

``PayerRoute.deliver`` sends one interchange:

- On a channel, a transient failure is retried with exponential backoff and full jitter
  (a server's Retry-After is honoured when longer). A permanent failure (a refused login,
  a host key that does not match, a 4xx) is raised at once: a person must act, and a
  second channel would not make it right.
- Before any retry that follows a failure which may have delivered the file (the
  connection broke after the last step was sent), the channel is asked ``delivered``: if
  the partner has it, it is not sent again.
- When a channel fails past its retries, the next one takes the file, under the same
  control number, but only if the failed channel certainly does not have it (it never
  got the file, or it says so when asked). Otherwise ``DeliveryOutcomeUnknown``: nothing
  is sent elsewhere, the submission waits, and a later run asks again.
- ``recheck=True`` (the submission was tried before: a crash, a give-back) asks every
  channel ``delivered`` before sending anything; one that cannot be asked makes the
  outcome unknown, as above.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from revcycle.channels.base import Delivery, PayerChannel, Receipt
from revcycle.channels.errors import (
    ChannelError,
    ChannelUnavailable,
    DeliveryOutcomeUnknown,
    TransientChannelError,
)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    delay_s: float = 2.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None,
              rng: Callable[[], float] = random.random) -> float:
        """Seconds before retry number ``attempt`` (1-based): full jitter over an
        exponentially growing window, never less than the server's Retry-After."""
        window = min(self.max_delay_s, self.delay_s * 2 ** (attempt - 1))
        wait = window * rng()
        return max(wait, min(retry_after or 0.0, self.max_delay_s))


@dataclass
class Leg:
    """One channel of a route and how it is retried."""

    channel: PayerChannel
    policy: RetryPolicy


class PayerRoute:
    def __init__(self, payer_id: str, legs: Sequence[Leg],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not legs:
            raise ValueError(f"payer {payer_id} has no channel")
        self.payer_id = payer_id
        self.legs = list(legs)
        self.sleep = sleep
        self.unreachable: list[ChannelError] = []  # the last collect's channels down

    @property
    def channels(self) -> list[PayerChannel]:
        return [leg.channel for leg in self.legs]

    def deliver(self, delivery: Delivery, data: bytes, *, recheck: bool = False) -> Receipt:
        if recheck:
            found = self._already_delivered(delivery)
            if found is not None:
                return found
        last: ChannelError | None = None
        for leg in self.legs:
            try:
                return self._send_on(leg, delivery, data)
            except ChannelUnavailable as exc:
                last = exc  # certainly not there: the next channel may take it
        assert last is not None
        raise ChannelUnavailable(self.payer_id, "+".join(c.label for c in self.channels),
                                 f"every channel failed past its retries (last: {last});"
                                 " the file waits for the next run")

    def _already_delivered(self, delivery: Delivery) -> Receipt | None:
        for leg in self.legs:
            if self._ask(leg.channel, delivery):
                return Receipt(leg.channel.label, "", already_delivered=True, attempts=0)
        return None

    def _ask(self, channel: PayerChannel, delivery: Delivery) -> bool:
        try:
            return channel.delivered(delivery)
        except TransientChannelError as exc:
            raise DeliveryOutcomeUnknown(
                self.payer_id, channel.label,
                f"cannot tell whether it has interchange"
                f" {delivery.interchange_control_number} ({exc}); nothing is sent"
                " elsewhere until it answers") from None

    def _send_on(self, leg: Leg, delivery: Delivery, data: bytes) -> Receipt:
        """Send on one channel with its retries. Raises ChannelUnavailable only when the
        channel certainly does not have the file."""
        channel, maybe_there = leg.channel, False
        failure: ChannelError | None = None
        for attempt in range(1, leg.policy.retries + 2):
            if maybe_there:
                try:
                    if channel.delivered(delivery):
                        return Receipt(channel.label, "", already_delivered=True,
                                       attempts=attempt - 1)
                    maybe_there = False
                except TransientChannelError as exc:
                    failure = exc
                    self._pause(leg, attempt, exc)
                    continue
            try:
                receipt = channel.send(delivery, data)
                return Receipt(receipt.channel, receipt.remote_name,
                               receipt.already_delivered, attempt)
            except TransientChannelError as exc:
                failure = exc
                maybe_there = maybe_there or exc.maybe_delivered
                if attempt <= leg.policy.retries:
                    self._pause(leg, attempt, exc)
        assert failure is not None
        # The last failure may have delivered it: ask once more. The answer decides
        # (``_ask`` raises DeliveryOutcomeUnknown when it cannot be had).
        if maybe_there and self._ask(channel, delivery):
            return Receipt(channel.label, "", already_delivered=True, attempts=attempt)
        raise ChannelUnavailable(self.payer_id, channel.label,
                                 f"failed past {leg.policy.retries} retries ({failure})")

    def _pause(self, leg: Leg, attempt: int, exc: ChannelError) -> None:
        self.sleep(leg.policy.delay(attempt, exc.retry_after))

    def collect(self) -> Iterator[tuple[PayerChannel, str, bytes]]:
        """Every channel's waiting files, with the channel that holds each. A channel that
        cannot be reached is skipped (its files wait there for the next collect) and its
        error kept in ``unreachable``; the other channels are still collected."""
        self.unreachable = []
        for channel in self.channels:
            try:
                for name, data in channel.collect():
                    yield channel, name, data
            except TransientChannelError as exc:
                self.unreachable.append(exc)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
