"""What a payer world has told the biller so far: the truth a benchmark scores posting by.

The world attaches to every answer file the events it carries (claim payments, PLB WO
recoupments, 277CA rejections) and folds them into a :class:`Truth` only once the file
is in the mailbox, so the truth never runs ahead of what the biller could have read.
Claims are keyed by (payer id, our patient control number as the 837 sent it), whatever
the 835 wrote in CLP01; lines by our REF*6R line control number, whatever the 835 wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from revcycle.model.remittance import REVERSAL, ClaimPayment

ZERO = Decimal("0.00")
Key = tuple[str, str]  # (payer id, our patient control number)


@dataclass(frozen=True)
class RemittedClaim:
    """One claim of ours as the payer's delivered 835s left it.

    ``status_code``: the CLP02 of the last non-reversal CLP written for it, or ``22`` when
    its last CLP was a take-back or the reversal answering a void (then ``paid`` nets to
    0). A replacement with the original's patient control number ends with its own
    decision: the original's CLP, its reversal and the new CLP all count. ``charge``: the
    original claim's CLP03 (the whole claim even when it was split; a replacement's
    own). ``paid``: CLP04 summed over all its CLPs (split parts and
    reversals included), not reduced by PLB WO recoupments, which are ``recouped``.
    ``line_paid``: SVC03 summed per our line control number. ``clps``: CLPs written for
    it. ``mismatches``: the kinds of :mod:`~revcycle.simulator.mismatch` applied to it.
    ``payer_claim_numbers``: the CLP07s of its CLPs (how a CLP left in the biller's
    exception queue, which cannot name our claim, is found again).
    """

    status_code: str
    charge: Decimal
    paid: Decimal
    line_paid: dict[str, Decimal]
    recouped: Decimal
    clps: int
    mismatches: tuple[str, ...]
    payer_claim_numbers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Paid:
    """One CLP written for a claim of ours: ``claim`` as adjudicated, before any mismatch
    changed its CLP01 or lines (so its line control numbers are ours)."""

    claim: ClaimPayment
    charge: Decimal  # the whole claim's CLP03 (a split part carries the whole's)
    mismatches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recouped:
    """A PLB WO recovering part of what a claim of ours was paid."""

    patient_control_number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Rejected:
    """A claim of ours a 277CA rejected (A3/A7...)."""

    patient_control_number: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """A claim of ours a 277CA took in (A1/A2/A5): a claim rejected before and sent again
    corrected is no longer rejected."""

    patient_control_number: str


Event = Paid | Recouped | Rejected | Accepted


@dataclass(slots=True)
class _Tally:
    status_code: str = ""
    charge: Decimal = ZERO
    paid: Decimal = ZERO
    line_paid: dict[str, Decimal] = field(default_factory=dict)
    recouped: Decimal = ZERO
    clps: int = 0
    mismatches: list[str] = field(default_factory=list)
    payer_claim_numbers: set[str] = field(default_factory=set)


class Truth:
    """The events of the delivered files, folded per claim."""

    def __init__(self) -> None:
        self._claims: dict[Key, _Tally] = {}
        self._rejected: set[Key] = set()

    def apply(self, payer_id: str, events: tuple[Event, ...]) -> None:
        for event in events:
            if isinstance(event, Rejected):
                self._rejected.add((payer_id, event.patient_control_number))
            elif isinstance(event, Accepted):
                self._rejected.discard((payer_id, event.patient_control_number))
            elif isinstance(event, Recouped):
                tally = self._claims.setdefault((payer_id, event.patient_control_number),
                                                _Tally())
                tally.recouped += event.amount
                if "wo_recoupment" not in tally.mismatches:
                    tally.mismatches.append("wo_recoupment")
            else:
                self._paid(payer_id, event)

    def _paid(self, payer_id: str, event: Paid) -> None:
        claim = event.claim
        tally = self._claims.setdefault((payer_id, claim.patient_control_number), _Tally())
        tally.clps += 1
        tally.paid += claim.paid
        tally.payer_claim_numbers.add(claim.payer_claim_control_number)
        if claim.status_code == REVERSAL:
            tally.status_code = REVERSAL
            if not tally.charge:
                tally.charge = abs(event.charge)
        else:
            tally.status_code = claim.status_code
            tally.charge = event.charge
        for service in claim.service_payments:
            if service.line_control_number:
                number = service.line_control_number
                tally.line_paid[number] = tally.line_paid.get(number, ZERO) + service.paid
        tally.mismatches += [m for m in event.mismatches if m not in tally.mismatches]

    def remitted(self) -> dict[Key, RemittedClaim]:
        return {key: RemittedClaim(t.status_code, t.charge, t.paid, dict(t.line_paid),
                                   t.recouped, t.clps, tuple(t.mismatches),
                                   frozenset(t.payer_claim_numbers))
                for key, t in self._claims.items() if t.clps}

    def rejected(self) -> set[Key]:
        return set(self._rejected)
