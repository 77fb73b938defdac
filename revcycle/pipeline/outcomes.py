"""What one CLP decides for its claim: the status it leaves the claim in, and the edits a
biller works (each denial reason, an SVC that matched no line).

Statuses come from the adjustments' classes (:mod:`revcycle.codesets.carc_classes`), not
from CLP02 alone: contractual and patient amounts leave a claim PAID, denied amounts make
it PARTIALLY_PAID or DENIED. Edit messages carry codes and their descriptions, never a
value from the claim.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revcycle.codesets.carc import describe_carc, describe_rarc
from revcycle.codesets.carc_classes import AdjustmentClass
from revcycle.model.remittance import Adjustment as CasAdjustment
from revcycle.model.remittance import ClaimPayment, ServicePayment
from revcycle.pipeline.accounts import adjustment_class
from revcycle.status import Status

STAGE = "post"  # the posting stage, as edits and claim events name it
ZERO = Decimal(0)


def unmatched_line_edit(claim_id: int) -> dict[str, Any]:
    """A warning for an SVC that matches none of the claim's lines: its money is booked to
    the claim, not to a line, and a biller should see why (no claim value in the text)."""
    return {"claim_id": claim_id, "line_number": None, "stage": STAGE, "rule_id": "POST-SVC",
            "severity": "WARNING", "field": "835 SVC",
            "message": "A service line the payer paid matches none of this claim's lines"
                       " (no line control number, REF*6R, and no line with its code,"
                       " modifiers, date and charge): its amounts are booked to the claim."}


def combined(current: Status, part: Status) -> Status:
    """The status of a claim the payer split, once one more part is posted: paid when
    every part was paid, denied when every part was denied, partly paid otherwise."""
    return current if part is current else Status.PARTIALLY_PAID


# Reporting's (kpis) split of the written-off dollars: the contractual write-off, and on a
# secondary payer's remittance what the primary already paid. Posting itself goes by
# :func:`revcycle.codesets.carc_classes.classify`.
PRIOR_PAYER_PAID = ("OA", "23")
NOT_DENIALS = frozenset({("CO", "45"), PRIOR_PAYER_PAID})


def _is_denial_reason(adjustment: CasAdjustment) -> bool:
    """A reason not to pay (the denial class: not a write-off under the contract, not the
    patient's share, not what another payer accounted for)."""
    return adjustment_class(adjustment.group_code,
                            adjustment.reason_code) is AdjustmentClass.DENIAL


# MOA03-07 and MIA05, MIA20-23: the claim-level remark codes (RARC).
_CLAIM_REMARKS = {"MOA": (3, 4, 5, 6, 7), "MIA": (5, 20, 21, 22, 23)}


def _claim_remarks(payment: ClaimPayment) -> tuple[str, ...]:
    return tuple(segment[k] for segment in payment.other_segments
                 for k in _CLAIM_REMARKS.get(segment[0], ())
                 if k < len(segment) and segment[k])


def _denial_message(adjustment: CasAdjustment, remarks: tuple[str, ...]) -> str:
    code = f"{adjustment.group_code}-{adjustment.reason_code}"
    reason = describe_carc(adjustment.reason_code) or (
        f"Reason code {adjustment.reason_code} (not in our list: see the X12 CARC list).")
    text = f"Denied by the payer ({code}): {reason}"
    if remarks:
        text += " Remarks: " + " ".join(
            f"{r}: {describe_rarc(r) or 'not in our list (see the RARC list).'}"
            for r in remarks)
    return text


def denial_edits(claim_id: int, target: Status, payment: ClaimPayment,
                  services: list[tuple[int | None, ServicePayment]]) -> list[dict[str, Any]]:
    """The denial reasons as edits in the work queue: every reason of a DENIED claim, and
    of a PARTIALLY_PAID one its claim-level denials (CAS on the CLP) and the reasons of
    each line its payer paid nothing on."""
    if target not in (Status.DENIED, Status.PARTIALLY_PAID):
        return []
    edits: list[dict[str, Any]] = []
    seen: set[tuple[int | None, str, str]] = set()

    def add(number: int | None, adjustment: CasAdjustment, remarks: tuple[str, ...],
            field: str) -> None:
        key = (number, adjustment.group_code, adjustment.reason_code)
        if key in seen:
            return
        seen.add(key)
        edits.append({"claim_id": claim_id, "line_number": number, "stage": STAGE,
                      "rule_id": f"CARC-{adjustment.group_code}-{adjustment.reason_code}",
                      "severity": "ERROR", "message": _denial_message(adjustment, remarks),
                      "field": field})

    if target is Status.DENIED:
        reasons = [a for a in payment.adjustments if _is_denial_reason(a)]
        for adjustment in reasons or payment.adjustments:
            add(None, adjustment, _claim_remarks(payment), "835 CAS")
    else:
        for adjustment in filter(_is_denial_reason, payment.adjustments):
            add(None, adjustment, _claim_remarks(payment), "835 CAS")
    for number, service in services:
        if target is Status.PARTIALLY_PAID and service.paid != ZERO:
            continue
        reasons = [a for a in service.adjustments if _is_denial_reason(a)]
        if target is Status.PARTIALLY_PAID and not reasons:
            continue  # the patient's to pay, not denied
        for adjustment in reasons or service.adjustments:
            add(number, adjustment, service.remark_codes,
                "835 LQ" if service.remark_codes else "835 CAS")
    return edits


def outcome(payment: ClaimPayment, adjustments: list) -> Status:
    """Denied, paid or partly paid, from the adjustments' classes: contractual and patient
    amounts do not make a claim partly paid (CO-253 sequestration on a normal payment is
    PAID), denied amounts do. Zero paid is not always a denial: a claim that went to the
    deductible was adjudicated and is the patient's to pay, and on a secondary claim what
    the primary paid (OA-23, informational) settles its part: paid in full by the primary,
    the claim is settled; with a line denied besides, it is partly paid."""
    if payment.is_reversal:
        return Status.REVERSED
    classes = [(adjustment_class(a.group_code, a.reason_code), a.amount)
               for _, a in adjustments]
    patient = sum((v for c, v in classes if c is AdjustmentClass.PATIENT), ZERO)
    prior = sum((v for c, v in classes if c is AdjustmentClass.INFORMATIONAL), ZERO)
    denied_part = any(c is AdjustmentClass.DENIAL and v for c, v in classes)
    if payment.is_denial or (denied_part and payment.paid == patient == prior == ZERO):
        return Status.DENIED
    return Status.PARTIALLY_PAID if denied_part else Status.PAID
