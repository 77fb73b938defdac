"""What every payer channel is: how a file reaches a payer, and how its answers come back.

A channel has two halves. Sending: ``send(delivery, data)`` makes one attempt and returns a
``Receipt`` or raises a ``ChannelError`` that says whether it is worth retrying and whether
the partner may have the file anyway; ``delivered(delivery)`` tells, after a crash or an
ambiguous failure, whether the partner already has it. Receiving: ``collect()`` yields the
partner's files as (remote name, bytes), ``acknowledge(name)`` archives or deletes one once
it is safely stored. ``check()`` connects and looks, sending nothing.

The interchange control number is the idempotency key: the remote name a channel gives a
file (or the key it sends an API) is made from the delivery alone, never from the clock,
so a second attempt finds the first.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """One interchange to one payer; its control number is the idempotency key."""

    tenant: str
    business_date: date
    batch: str
    interchange_control_number: str


@dataclass(frozen=True)
class Receipt:
    channel: str  # the channel's label in the payer's list, e.g. "sftp" or "https"
    remote_name: str  # the partner's name for the file (a path, an API id)
    already_delivered: bool = False  # found at the partner before sending: not sent again
    attempts: int = 1  # tries this send took on this channel


class PayerChannel(Protocol):
    """One way to reach one payer (see the module docstring)."""

    label: str

    def send(self, delivery: Delivery, data: bytes) -> Receipt: ...

    def delivered(self, delivery: Delivery) -> bool: ...

    def collect(self) -> Iterator[tuple[str, bytes]]: ...

    def acknowledge(self, remote_name: str) -> None: ...

    def check(self) -> list[str]: ...

    def close(self) -> None: ...


PATTERN_FIELDS = ("icn", "payer", "tenant", "date", "batch")
DEFAULT_NAME_PATTERN = "{payer}_{icn}.837"


def pattern_problem(pattern: str) -> str | None:
    """Why a remote file name pattern cannot be used, or None. It may use only the fields
    of a delivery (so a retry finds the name again) and must include the control number
    (so two files never share a name)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name]
    except ValueError as exc:
        return f"is not a valid pattern ({exc})"
    unknown = sorted(set(fields) - set(PATTERN_FIELDS))
    if unknown:
        return f"uses unknown fields {unknown} (known: {', '.join(PATTERN_FIELDS)})"
    if "icn" not in fields:
        return "must include {icn}: the interchange control number keeps names unique"
    if "/" in pattern or pattern.startswith("."):
        return "must be a plain file name (no folders, no leading dot)"
    return None


def remote_name(pattern: str, delivery: Delivery, payer_id: str) -> str:
    """The partner's name for a delivery's file, from the payer module's pattern."""
    return pattern.format(icn=delivery.interchange_control_number, payer=payer_id,
                          tenant=delivery.tenant, batch=delivery.batch,
                          date=delivery.business_date.strftime("%Y%m%d"))
