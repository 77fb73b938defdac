"""The payers a :class:`~revcycle.simulator.world.PayerWorld` plays: each one's settings
(:class:`WorldPayer`), what it knows and owes as the days go by (:class:`PlayedPayer`),
the answers it has written and not yet delivered, the payments it holds for a payment
run, and the seeded draws every choice comes from (never a random stream or the clock).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from revcycle.model.remittance import ClaimPayment, Remittance
from revcycle.payers import PayerDefinition
from revcycle.simulator.api_server import ApiServer
from revcycle.simulator.mismatch import Mismatches
from revcycle.simulator.payer import PayerBehaviour, PayerSimulator
from revcycle.simulator.remitted import Event
from revcycle.simulator.sftp_server import SftpTestServer
from revcycle.x12.writer import CounterControlNumbers, Party

Via = Literal["sftp", "api"]
Payee = tuple[str, str]  # (NPI, TIN)


@dataclass(frozen=True)
class WorldPayer:
    """One payer the world plays, and where it answers."""

    payer_id: str
    name: str
    seed: int = 0
    timely_filing_days: int = 365  # from the payer module: late claims are denied CO-29
    sftp: SftpTestServer | None = None
    sftp_user: str = ""  # the user folder on ``sftp`` whose inbound this payer reads
    api: ApiServer | None = None
    payment_weekday: int | None = None  # 0 Monday .. 6 Sunday; None: drawn (Mon-Fri)
    behaviour: PayerBehaviour | None = None  # the simulator's rates (default ones if None)
    two_step_rate: float = 0.1  # accepted claims answered A1 first, rejected days later
    take_back_rate: float = 0.03  # paid claims reversed in the next payment run
    pend_rate: float = 0.05  # paid claims held three to five weeks (paid with interest)
    mismatches: Mismatches = field(default_factory=Mismatches)  # none by default
    # Replacements (7) and voids (8) answered as a payer does: see the module docstring.
    # Off, they are adjudicated as any claim (as the world always did).
    resubmissions: bool = False

    def __post_init__(self) -> None:
        if self.sftp is None and self.api is None:
            raise ValueError("a world payer answers through an SFTP server or an API server")
        if self.sftp is not None and not self.sftp_user:
            raise ValueError("an SFTP payer needs the user folder it reads")
        if self.payment_weekday is not None and not 0 <= self.payment_weekday <= 6:
            raise ValueError("payment_weekday is 0 (Monday) to 6 (Sunday)")
        for name in ("two_step_rate", "take_back_rate", "pend_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    @classmethod
    def of(cls, definition: PayerDefinition, **options: Any) -> WorldPayer:
        """The payer of a payer module (its id, name and filing limit); ``options``: the
        other fields (where it answers, seed, rates)."""
        return cls(definition.payer_id, definition.name,
                   timely_filing_days=definition.timely_filing_days, **options)


@dataclass(slots=True)
class Answer:
    day: date
    rank: int  # the order within a day: 999s, then 277CAs, then ERAs
    kind: str
    name: str
    data: bytes
    via: Via
    truth: tuple[Event, ...] = ()  # what the file tells, for the world's truth


@dataclass(slots=True)
class HeldPayment:
    payee: Payee
    claim: ClaimPayment
    received: date  # the day its 837 arrived
    due: date  # not paid before: the day its 277CA is out, or later when pended
    charge: Decimal  # the whole claim's CLP03 (a split part's claim is only a part)
    part: int = 0  # 1 or 2: a part of a claim the payer split
    replaces: str = ""  # a replacement's or void's original (its REF*F8: a CLP07)
    void: bool = False  # a void: the run writes the original's reversal, nothing more


@dataclass(slots=True)
class PlayedPayer:
    """What the world knows and owes as one payer."""

    config: WorldPayer
    simulator: PayerSimulator
    numbers: CounterControlNumbers
    weekday: int
    taken: set[tuple[str, str]] = field(default_factory=set)  # (where and name, sha256)
    ours: set[str] = field(default_factory=set)  # patient control numbers we sent it
    outbox: list[Answer] = field(default_factory=list)
    pending: list[HeldPayment] = field(default_factory=list)
    last_paid: list[tuple[Payee, ClaimPayment]] = field(default_factory=list)
    # The decisions written and not reversed, by CLP07: for whom, and the day received.
    decided: dict[str, tuple[Payee, ClaimPayment, date]] = field(default_factory=dict)
    superseded: set[str] = field(default_factory=set)  # CLP07s a 7 or 8 reversed
    # Claims refused for their member (277CA 33, 164), with the subscriber id refused.
    refused: dict[str, str] = field(default_factory=dict)
    templates: dict[Payee, Remittance] = field(default_factory=dict)  # payer/payee/bank
    addressee: Party = field(default_factory=lambda: Party("REVCYCLE"))
    usage_indicator: str = "T"


def number(payer: WorldPayer, purpose: str, key: str) -> int:
    """A 64-bit number fixed by the payer's seed, the purpose and the key."""
    text = f"{payer.seed}|{payer.payer_id}|world|{purpose}|{key}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def draw(payer: WorldPayer, purpose: str, key: str) -> float:
    """A number in [0, 1) fixed by the payer's seed, the purpose and the key."""
    return number(payer, purpose, key) / 2.0**64
