"""The payer simulator as a channel: the embedded default, behind the same interface.

It answers at once with a 999, a 277CA and an 835, written straight into the tenant's
inbound zone under the batch that sent the file, where the acknowledgment and posting
stages read them; so it has nothing to collect. ``delivered`` is whether its 999 exists:
the 999 is written last, so a delivery is complete once it is there.
"""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.channels.base import Delivery, Receipt
from revcycle.payers import PayerDefinition
from revcycle.simulator.payer import PayerBehaviour, PayerSimulator
from revcycle.storage import ObjectStore, object_key
from revcycle.x12.writer import CounterControlNumbers


def answer_key(delivery: Delivery, payer_id: str, kind: str) -> str:
    """Where the answer of ``kind`` (999, 277CA, 835) to a delivery lands."""
    return object_key(delivery.tenant, "inbound", delivery.business_date, delivery.batch,
                      f"{payer_id}-{delivery.interchange_control_number}-{kind}.x12")


class SimulatorChannel:
    label = "simulator"

    def __init__(self, store: ObjectStore, payer: PayerDefinition, seed: int = 0,
                 behaviour: PayerBehaviour | None = None) -> None:
        self.store = store
        self.payer = payer
        self.simulator = PayerSimulator((payer.name, payer.payer_id), seed=seed,
                                        behaviour=behaviour)

    def delivered(self, delivery: Delivery) -> bool:
        return self.store.exists(answer_key(delivery, self.payer.payer_id, "999"))

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        first = answer_key(delivery, self.payer.payer_id, "999")
        if self.store.exists(first):
            return Receipt(self.label, first, already_delivered=True)
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
        return Receipt(self.label, first)

    def collect(self) -> Iterator[tuple[str, bytes]]:
        return iter(())  # its answers are already in the inbound zone

    def acknowledge(self, remote_name: str) -> None:
        """Nothing to acknowledge: it leaves nothing to collect."""

    def check(self) -> list[str]:
        return ["simulator: runs in this process; answers go to the tenant's inbound zone"]

    def close(self) -> None:
        """Holds no connection."""
