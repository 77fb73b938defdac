"""The claim status machine: which status may follow which.

A claim changes status only by a transition listed here, and every change is recorded as
a claim event. A correction or a reversal is a transition too, never an overwrite.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    DQ_FAILED = "DQ_FAILED"
    READY = "READY"
    REJECTED = "REJECTED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    PAYER_REJECTED = "PAYER_REJECTED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    DENIED = "DENIED"
    REVERSED = "REVERSED"
    VOIDED = "VOIDED"


_ADJUDICATED = (Status.PAID, Status.PARTIALLY_PAID, Status.DENIED)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VALIDATED, Status.DQ_FAILED}),
    Status.VALIDATED: frozenset({Status.READY, Status.REJECTED}),
    # A corrected claim re-enters the cycle at quality as a new version of its content
    # (revcycle.pipeline.versions: a biller's correction, or a re-check after reference
    # data changed): back to RECEIVED, never an overwrite of what was found.
    Status.DQ_FAILED: frozenset({Status.RECEIVED}),
    Status.REJECTED: frozenset({Status.RECEIVED}),
    # A claim our 837 writer refuses at submit (a value scrub did not foresee) is rejected
    # alone, with an edit naming the field; the rest of its file is sent.
    Status.READY: frozenset({Status.SUBMITTED, Status.REJECTED}),
    # A payer may answer with an 835 before (or without) its 277CA. A replacement (7) or
    # void (8) of an adjudicated claim is sent as that claim: the payer's reversal of the
    # first adjudication arrives while it is SUBMITTED or ACCEPTED.
    Status.SUBMITTED: frozenset({Status.ACCEPTED, Status.PAYER_REJECTED, Status.REVERSED,
                                 *_ADJUDICATED}),
    Status.ACCEPTED: frozenset({Status.PAYER_REJECTED, Status.REVERSED, *_ADJUDICATED}),
    # The payer's front end refused it (999, 277CA): corrected, it is sent again.
    Status.PAYER_REJECTED: frozenset({Status.RECEIVED}),
    # A claim the payer split (277CA A5) is adjudicated part by part, in one 835 or
    # several: paid in full by one part, it is partly paid once another part denies lines.
    # An adjudicated claim is corrected by a replacement (7) or void (8) of itself: a new
    # version, back to RECEIVED (revcycle.pipeline.resubmit).
    Status.PAID: frozenset({Status.REVERSED, Status.PARTIALLY_PAID, Status.RECEIVED}),
    Status.PARTIALLY_PAID: frozenset({Status.REVERSED, Status.RECEIVED}),
    Status.DENIED: frozenset({Status.REVERSED, Status.PAID, Status.PARTIALLY_PAID,
                              Status.RECEIVED}),
    # A reversal is followed by the corrected claim's adjudication, or ends a void: the
    # payer took back what it decided and the claim's charge leaves the books. A
    # replacement or void the payer refuses may find its claim reversed meanwhile.
    Status.REVERSED: frozenset({*_ADJUDICATED, Status.VOIDED, Status.RECEIVED,
                                Status.PAYER_REJECTED}),
    Status.VOIDED: frozenset(),
}

TERMINAL_FOR_THE_DAY = frozenset({
    Status.DQ_FAILED, Status.REJECTED, Status.PAYER_REJECTED, Status.ACCEPTED, *_ADJUDICATED,
    Status.REVERSED, Status.VOIDED,
})
ADJUDICATED = frozenset(_ADJUDICATED)
# What a correction or a re-check takes back to RECEIVED. A claim the payer adjudicated is
# corrected by a replacement claim (frequency 7), not here.
CORRECTABLE = frozenset({Status.REJECTED, Status.DQ_FAILED, Status.PAYER_REJECTED})
# What a replacement (7) or void (8) may follow: the payer decided (and kept a claim number).
RESUBMITTABLE = frozenset({*_ADJUDICATED, Status.REVERSED})


class InvalidTransition(ValueError):
    """A status change the machine does not allow (a bug or a replayed input)."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"a claim cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_transition(current: Status, target: Status) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
