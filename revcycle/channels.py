"""Payer channels: how a submission file reaches a payer, and its answers come back.

Every channel's ``send`` is idempotent by interchange control number: sending the same
interchange again (a retry after a crash) does not deliver it twice. The built-in
``SimulatorChannel`` is the embedded default: the payer simulator answers at once with a
999, a 277CA and an 835, dropped into the tenant's inbound zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from revcycle.payers import PayerDefinition
from revcycle.simulator.payer import PayerBehaviour, PayerSimulator
from revcycle.storage import ObjectStore, object_key
from revcycle.x12.writer import CounterControlNumbers


@dataclass(frozen=True)
class Delivery:
    tenant: str
    business_date: date
    batch: str
    interchange_control_number: str


class PayerChannel(Protocol):
    def send(self, delivery: Delivery, data: bytes) -> None: ...


def answer_key(delivery: Delivery, payer_id: str, kind: str) -> str:
    """Where the answer of ``kind`` (999, 277CA, 835) to a delivery lands."""
    return object_key(delivery.tenant, "inbound", delivery.business_date, delivery.batch,
                      f"{payer_id}-{delivery.interchange_control_number}-{kind}.x12")


class SimulatorChannel:
    """The payer simulator as a channel: answers are written straight to inbound/."""

    def __init__(self, store: ObjectStore, payer: PayerDefinition, seed: int = 0,
                 behaviour: PayerBehaviour | None = None) -> None:
        self.store = store
        self.payer = payer
        self.simulator = PayerSimulator((payer.name, payer.payer_id), seed=seed,
                                        behaviour=behaviour)

    def send(self, delivery: Delivery, data: bytes) -> None:
        first = answer_key(delivery, self.payer.payer_id, "999")
        if self.store.exists(first):
            return  # delivered before: the payer has it already
        # The payer numbers its own three answers; three numbers per submission keep them
        # unique across submissions.
        first_number = int(delivery.interchange_control_number) % 333_333_333 * 3
        numbers = CounterControlNumbers(interchange=first_number, group=first_number,
                                        transaction=1)
        response = self.simulator.respond(data, received=delivery.business_date,
                                          control_numbers=numbers)
        answers = {"277CA": response.ack_277ca, "835": response.remittance_835}
        for kind, body in answers.items():
            if body is not None:
                self.store.put(answer_key(delivery, self.payer.payer_id, kind), body)
        self.store.put(first, response.ack_999)  # last: marks the delivery complete


def channel_for(payer: PayerDefinition, store: ObjectStore) -> PayerChannel:
    if payer.channel == "simulator":
        return SimulatorChannel(store, payer, seed=int(payer.channel_options.get("seed", "0")))
    raise ValueError(f"payer {payer.payer_id} names an unknown channel {payer.channel!r}")
